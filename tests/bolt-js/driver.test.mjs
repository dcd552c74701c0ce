// driver.test.mjs — the official Neo4j JavaScript driver (neo4j-driver, pinned in package-lock.json) against
// `engram serve --bolt` on loopback: bolt:// and neo4j:// (routing through ROUTE), `RETURN 1 AS n`, a parameter,
// the refusal of other Cypher, and a wrong password. The server is started by run.sh, found in ENGRAM_BOLT_URL
// ("127.0.0.1:PORT") with the password ENGRAM_BOLT_PASSWORD.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import neo4j from 'neo4j-driver';

const ADDRESS = process.env.ENGRAM_BOLT_URL;
const PASSWORD = process.env.ENGRAM_BOLT_PASSWORD;
const TIMEOUTS = { connectionTimeout: 5000, connectionAcquisitionTimeout: 5000, maxTransactionRetryTime: 0 };

async function withDriver(url, password, body) {
  const driver = neo4j.driver(url, neo4j.auth.basic('neo4j', password), TIMEOUTS);
  try {
    return await body(driver);
  } finally {
    await driver.close();
  }
}

for (const scheme of ['bolt', 'neo4j']) {
  test(`${scheme}:// runs RETURN 1 AS n`, { timeout: 20000 }, async () => {
    await withDriver(`${scheme}://${ADDRESS}`, PASSWORD, async (driver) => {
      const { records, keys, summary } = await driver.executeQuery('RETURN 1 AS n');
      assert.deepEqual(keys, ['n']);
      assert.equal(records.length, 1);
      assert.equal(neo4j.integer.toNumber(records[0].get('n')), 1);
      assert.equal(summary.server.agent.startsWith('Neo4j/5.'), true);
    });
  });
}

test('a parameter comes back in a session', { timeout: 20000 }, async () => {
  await withDriver(`bolt://${ADDRESS}`, PASSWORD, async (driver) => {
    const session = driver.session();
    try {
      const result = await session.run('RETURN $x AS y', { x: 'engram' });
      assert.equal(result.records[0].get('y'), 'engram');
    } finally {
      await session.close();
    }
  });
});

test('other Cypher is a SyntaxError saying it is not supported', { timeout: 20000 }, async () => {
  await withDriver(`bolt://${ADDRESS}`, PASSWORD, async (driver) => {
    await assert.rejects(driver.executeQuery('MATCH (n) RETURN n'), (error) => {
      assert.equal(error.code, 'Neo.ClientError.Statement.SyntaxError');
      assert.match(error.message, /not supported/);
      return true;
    });
  });
});

test('a wrong password is Unauthorized', { timeout: 20000 }, async () => {
  await withDriver(`bolt://${ADDRESS}`, 'not-the-password', async (driver) => {
    await assert.rejects(driver.executeQuery('RETURN 1 AS n'), (error) => {
      assert.equal(error.code, 'Neo.ClientError.Security.Unauthorized');
      return true;
    });
  });
});
