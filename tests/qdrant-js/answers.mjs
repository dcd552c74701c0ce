// answers.mjs — assertions on Qdrant's answers that collections.test.mjs and points.test.mjs share: a client call
// refused with a status, a raw request refused with a status and message, a raw request that succeeds with a body
// matching Qdrant's OpenAPI schema; and the collections a test file made, deleted at its end.
import assert from 'node:assert/strict';
import { after } from 'node:test';

import { assertErrorEnvelope, request, validateResponse } from './helpers.mjs';

/** Asserts that a client call fails with the HTTP status (the client's ApiError carries it and Qdrant's body). */
export async function rejectsWith(promise, status) {
  await assert.rejects(promise, (error) => {
    assert.equal(error.status, status, `expected ${status}, got ${error.status}: ${JSON.stringify(error.data)}`);
    assertErrorEnvelope(error.data);
    return true;
  });
}

/** A raw request expected to fail with status, whose Qdrant error message matches pattern. */
export async function refused(method, path, body, status, pattern) {
  const answer = await request(method, path, { body });
  assert.equal(answer.status, status, `${method} ${path}: ${answer.text}`);
  assert.match(assertErrorEnvelope(answer.json), pattern);
}

/** A raw request that must succeed and match Qdrant's response schema; returns its `result`. */
export async function raw(method, path, body) {
  const answer = await request(method, path, { body });
  assert.equal(answer.status, 200, `${method} ${path}: ${answer.text}`);
  // Qdrant's template for the path: the collection's segment as a placeholder, so that a literal segment
  // (points/payload) is not taken for a placeholder ({id}).
  validateResponse(path.replace(/^\/collections\/[^/]+/, '/collections/{collection_name}'), method, 200, answer.json);
  return answer.json.result;
}

/** The names of the collections a test file made: each is deleted through client when the file's tests end. */
export function collectionsDeletedAfter(client) {
  const made = new Set();
  after(async () => {
    for (const name of made) await client.deleteCollection(name);
  });
  return made;
}
