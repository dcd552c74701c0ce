// driver.test.mjs — the official Neo4j JavaScript driver (neo4j-driver, pinned in package-lock.json) against
// `engram serve --bolt` on loopback: bolt:// and neo4j:// (routing through ROUTE), `RETURN 1 AS n`, a parameter,
// a statement refused with Neo4j's code (a procedure CALL, a syntax error), the negotiated Bolt 5.8 and its GQL
// status in a FAILURE, a wrong password, an explicit transaction's bookmark passed to the next session,
// and a transaction past its client timeout. The server is started by run.sh, found in ENGRAM_BOLT_URL
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

test('a procedure CALL is ProcedureNotFound and a typo a SyntaxError', { timeout: 20000 }, async () => {
  await withDriver(`bolt://${ADDRESS}`, PASSWORD, async (driver) => {
    await assert.rejects(driver.executeQuery('CALL db.labels()'), (error) => {
      assert.equal(error.code, 'Neo.ClientError.Procedure.ProcedureNotFound');
      return true;
    });
    await assert.rejects(driver.executeQuery('RETRUN 1'), (error) => {
      assert.equal(error.code, 'Neo.ClientError.Statement.SyntaxError');
      return true;
    });
  });
});

test('the driver negotiates Bolt 5.8 and reads a 5.7+ FAILURE as a GQL status with the Neo4j code', { timeout: 20000 }, async () => {
  await withDriver(`bolt://${ADDRESS}`, PASSWORD, async (driver) => {
    const session = driver.session();
    try {
      const summary = await session.run('RETURN 1 AS n').summary();
      assert.equal(summary.server.protocolVersion.toString(), '5.8');
      await assert.rejects(session.run('RETRUN 1'), (error) => {
        assert.equal(error.code, 'Neo.ClientError.Statement.SyntaxError');
        assert.equal(error.gqlStatus, '42001');
        assert.equal(error.gqlStatusDescription, 'error: syntax error or access rule violation - invalid syntax');
        assert.equal(error.classification, 'CLIENT_ERROR');
        assert.equal(error.diagnosticRecord._classification, 'CLIENT_ERROR');
        return true;
      });
    } finally {
      await session.close();
    }
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

test('an explicit transaction commits with a bookmark the next session can pass back', { timeout: 20000 }, async () => {
  await withDriver(`bolt://${ADDRESS}`, PASSWORD, async (driver) => {
    const first = driver.session();
    let bookmarks;
    try {
      const tx = await first.beginTransaction();
      const result = await tx.run('RETURN 7 AS n');
      assert.equal(neo4j.integer.toNumber(result.records[0].get('n')), 7);
      await tx.commit();
      bookmarks = first.lastBookmarks();
      assert.equal(bookmarks.length, 1);
      assert.match(bookmarks[0], /^engram:[0-9]+$/);
    } finally {
      await first.close();
    }
    const second = driver.session({ bookmarks });
    try {
      const result = await second.executeRead((tx) => tx.run('RETURN 8 AS n'));
      assert.equal(neo4j.integer.toNumber(result.records[0].get('n')), 8);
      const later = second.lastBookmarks();
      assert.equal(later.length, 1);
      assert.ok(Number(later[0].split(':')[1]) > Number(bookmarks[0].split(':')[1]));
    } finally {
      await second.close();
    }
  });
});

test('a transaction past its client timeout is rolled back and says so', { timeout: 20000 }, async () => {
  await withDriver(`bolt://${ADDRESS}`, PASSWORD, async (driver) => {
    const session = driver.session();
    try {
      const tx = await session.beginTransaction({ timeout: 100 });
      await new Promise((resolve) => setTimeout(resolve, 400));
      await assert.rejects(tx.run('RETURN 1 AS n'), (error) => {
        assert.equal(error.code, 'Neo.ClientError.Transaction.TransactionTimedOutClientConfiguration');
        return true;
      });
      // the session recovers (the driver resets the connection) and serves the next query
      const result = await session.run('RETURN 2 AS n');
      assert.equal(neo4j.integer.toNumber(result.records[0].get('n')), 2);
    } finally {
      await session.close();
    }
  });
});
