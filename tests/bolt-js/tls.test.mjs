// tls.test.mjs — the official Neo4j JavaScript driver against `engram serve --http '' --bolt ... --tls-cert ...
// --tls-key ...` (started by run.sh, found in ENGRAM_BOLT_TLS_URL, "127.0.0.1:PORT"): Bolt over TLS with a
// self-signed certificate, accepted as such by bolt+ssc:// and neo4j+ssc://, verified by bolt+s:// (run.sh puts
// the certificate in NODE_EXTRA_CA_CERTS); a plain bolt:// client cannot talk to the TLS port.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import neo4j from 'neo4j-driver';

const ADDRESS = process.env.ENGRAM_BOLT_TLS_URL;
const PORT = ADDRESS.split(':')[1];
const PASSWORD = process.env.ENGRAM_BOLT_PASSWORD;
const TIMEOUTS = { connectionTimeout: 5000, connectionAcquisitionTimeout: 5000, maxTransactionRetryTime: 0 };

async function returnOne(url) {
  // a copy each time: the driver writes the trust it took from the URL into the config object it is given
  const driver = neo4j.driver(url, neo4j.auth.basic('neo4j', PASSWORD), { ...TIMEOUTS });
  try {
    const { records } = await driver.executeQuery('RETURN 1 AS n');
    return neo4j.integer.toNumber(records[0].get('n'));
  } finally {
    await driver.close();
  }
}

for (const url of [`bolt+ssc://${ADDRESS}`, `neo4j+ssc://${ADDRESS}`, `bolt+s://localhost:${PORT}`,
                   `bolt+s://${ADDRESS}`]) {
  test(`${url} runs RETURN 1 AS n over TLS`, { timeout: 20000 }, async () => {
    assert.equal(await returnOne(url), 1);
  });
}

test('a plain bolt:// client cannot talk to the TLS port', { timeout: 20000 }, async () => {
  await assert.rejects(returnOne(`bolt://${ADDRESS}`), (error) => {
    assert.equal(error.code, 'ServiceUnavailable');
    return true;
  });
});
