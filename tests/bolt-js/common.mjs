// common.mjs — what the *.test.mjs files share: the servers run.sh started (ENGRAM_BOLT_URL, ENGRAM_HTTP_URL for
// the same data folder's `POST /v1/exec`, ENGRAM_BOLT_OPEN_URL for the server with graph.schema=open), a driver
// opened and closed around a test body, engram's exec operations over HTTP, and Integer-to-number conversion.
// Every test file runs in its own process, in parallel with the others, on the same servers: each names its nodes
// with a prefix of its own.
import assert from 'node:assert/strict';
import neo4j from 'neo4j-driver';

export const BOLT_ADDRESS = process.env.ENGRAM_BOLT_URL;
export const OPEN_ADDRESS = process.env.ENGRAM_BOLT_OPEN_URL;
export const HTTP_URL = process.env.ENGRAM_HTTP_URL;
export const PASSWORD = process.env.ENGRAM_BOLT_PASSWORD;
export const TIMEOUTS = { connectionTimeout: 5000, connectionAcquisitionTimeout: 5000, maxTransactionRetryTime: 0 };
export const TEST_LIMIT_MS = 30000; // every test's own bound

export async function withDriver(body, { address = BOLT_ADDRESS, scheme = 'bolt', password = PASSWORD } = {}) {
  const driver = neo4j.driver(`${scheme}://${address}`, neo4j.auth.basic('neo4j', password), { ...TIMEOUTS });
  try {
    return await body(driver);
  } finally {
    await driver.close();
  }
}

export async function withSession(driver, body, config = {}) {
  const session = driver.session(config);
  try {
    return await body(session);
  } finally {
    await session.close();
  }
}

// One exec operation (docs/operations.md) through the plain server's HTTP API; returns its `result`, or throws an
// Error whose `code` is exec's error code (not_found, invalid_argument, ...).
export async function exec(operation) {
  const response = await fetch(`${HTTP_URL}/v1/exec`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify(operation),
    signal: AbortSignal.timeout(10000),
  });
  assert.equal(response.status, 200);
  const answer = await response.json();
  if (!answer.ok) throw Object.assign(new Error(answer.error.message), { code: answer.error.code });
  return answer.result;
}

// An Integer (or a number) as a JavaScript number; it must be safe.
export function num(value) {
  return neo4j.isInt(value) ? neo4j.integer.toNumber(value) : value;
}

// A Neo4j error's code must match `pattern` (a RegExp) and its message mention each of `words`.
export function failsWith(pattern, ...words) {
  return (error) => {
    assert.match(String(error.code), pattern, `${error.code}: ${error.message}`);
    for (const word of words) assert.ok(error.message.includes(word), `"${error.message}" does not name ${word}`);
    return true;
  };
}
