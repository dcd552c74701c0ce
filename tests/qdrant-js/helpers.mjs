// helpers.mjs — what every tests/qdrant-js/*.test.mjs shares: the servers that run.sh started, the official
// Qdrant client pointed at them (any warning it prints fails the test file), a raw HTTP helper for what the client
// hides (status codes, bare bodies), and validation of responses against Qdrant's OpenAPI document when present.
import assert from 'node:assert/strict';

import { QdrantClient } from '@qdrant/js-client-rest';

import { DOCUMENT_ID, loadOpenApi, pointer, templateOf } from './openapi.mjs';

function requiredEnv(name) {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set: run these tests through tests/qdrant-js/run.sh (ctest qdrant_js)`);
  return value;
}

/** The server without an API key, e.g. "http://127.0.0.1:40123". */
export const serverUrl = requiredEnv('ENGRAM_QDRANT_URL');
/** The server that needs `apiKey`. */
export const keyedServerUrl = requiredEnv('ENGRAM_QDRANT_KEYED_URL');
export const apiKey = requiredEnv('ENGRAM_QDRANT_API_KEY');

// ---- client warnings --------------------------------------------------------------------------------------------
// The client reports an incompatible or unreachable server only through console.warn (its version check runs in the
// background after construction), so every warning is recorded, and the process fails at exit if any arrived.
// One warning is about this test setup, not the server: an API key sent over plain HTTP.
const expectedWarnings = new Set(['Api key is used with unsecure connection.']);
const unexpectedWarnings = [];
const originalWarn = console.warn.bind(console);
console.warn = (...args) => {
  const text = args.map(String).join(' ');
  if (!expectedWarnings.has(text)) unexpectedWarnings.push(text);
  originalWarn(...args);
};
process.on('exit', () => {
  if (unexpectedWarnings.length > 0) {
    originalWarn(`the Qdrant client warned ${unexpectedWarnings.length} time(s):\n  ${unexpectedWarnings.join('\n  ')}`);
    process.exitCode = 1;
  }
});

/** The warnings the client printed so far (the expected one about plain HTTP aside). */
export function clientWarnings() {
  return [...unexpectedWarnings];
}

/**
 * A QdrantClient for the test server, with the version check on, as applications run it.
 * @param {{keyed?: boolean, key?: string}} options keyed: the server with an API key, sent as `key` (its key by
 *   default; pass another to test refusals)
 */
export function createClient({ keyed = false, key } = {}) {
  if (!keyed) return new QdrantClient({ url: serverUrl, checkCompatibility: true });
  return new QdrantClient({ url: keyedServerUrl, apiKey: key ?? apiKey, checkCompatibility: true });
}

/** Waits until the client's background version check has answered (it is the first request a client sends). */
export async function settleVersionCheck(client) {
  await client.versionInfo();
  await new Promise((resolve) => setTimeout(resolve, 50));
}

/**
 * One HTTP request without the client: { status, contentType, text, json } (json undefined when the body is not
 * JSON). body: an object (sent as JSON) or a string (sent as is).
 */
export async function request(method, path, { body, headers = {}, keyed = false } = {}) {
  const init = { method, headers: { ...headers } };
  if (body !== undefined) {
    init.body = typeof body === 'string' ? body : JSON.stringify(body);
    init.headers['content-type'] ??= 'application/json';
  }
  const response = await fetch((keyed ? keyedServerUrl : serverUrl) + path, init);
  const text = await response.text();
  let json;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  return { status: response.status, contentType: response.headers.get('content-type') ?? '', text, json };
}

/** Asserts Qdrant's error envelope: {"status": {"error": "..."}, "time": seconds}. Returns the message. */
export function assertErrorEnvelope(body) {
  assert.equal(typeof body, 'object', 'an error answer is a JSON object');
  assert.equal(typeof body.status?.error, 'string', `an error answer has status.error: ${JSON.stringify(body)}`);
  assert.equal(typeof body.time, 'number', 'an error answer has time');
  validateSchema('ErrorResponse', body);
  return body.status.error;
}

// ---- OpenAPI validation -----------------------------------------------------------------------------------------
const validator = loadOpenApi();

/** Whether responses are validated (the OpenAPI document was found). */
export const openapiAvailable = validator !== null;

function check(ref, body, what) {
  let validate = validator.compiled.get(ref);
  if (!validate) {
    validate = validator.ajv.compile({ $ref: ref });
    validator.compiled.set(ref, validate);
  }
  if (!validate(body)) {
    assert.fail(`${what} does not match Qdrant's OpenAPI schema:\n` +
      `${validator.ajv.errorsText(validate.errors, { separator: '\n' })}\nbody: ${JSON.stringify(body).slice(0, 2000)}`);
  }
}

/**
 * Asserts that body, answered with status to method on path (a concrete path or Qdrant's template), matches the
 * response schema Qdrant's OpenAPI document gives for it (the exact status, else 4XX / 5XX, else default).
 * Returns true when it was checked, false when there is no document or it gives no JSON schema for that answer.
 */
export function validateResponse(path, method, status, body) {
  if (!validator) return false;
  const template = templateOf(validator.paths, path);
  assert.ok(template, `${path} is not a path of Qdrant's OpenAPI document`);
  const operation = validator.paths[template][method.toLowerCase()];
  assert.ok(operation, `Qdrant's OpenAPI document has no ${method} ${template}`);
  const statusKey = [String(status), `${String(status)[0]}XX`, 'default'].find((key) => operation.responses[key]);
  const schema = statusKey && operation.responses[statusKey].content?.['application/json']?.schema;
  if (!schema) return false;
  const ref = `${DOCUMENT_ID}#/${pointer('paths', template, method.toLowerCase(), 'responses', statusKey, 'content',
    'application/json', 'schema')}`;
  check(ref, body, `${method} ${path} (${status})`);
  return true;
}

/** Asserts that value matches the named schema of the document's components (e.g. "ErrorResponse"). */
export function validateSchema(name, value) {
  if (!validator) return false;
  check(`${DOCUMENT_ID}#/components/schemas/${name}`, value, name);
  return true;
}

/**
 * Asserts that body, sent with method to path (a concrete path), matches the request body schema Qdrant's OpenAPI
 * document gives for that operation. Returns true when it was checked, false when there is no document.
 */
export function validateRequest(path, method, body) {
  if (!validator) return false;
  const template = templateOf(validator.paths, path);
  assert.ok(template, `${path} is not a path of Qdrant's OpenAPI document`);
  const operation = validator.paths[template][method.toLowerCase()];
  assert.ok(operation, `Qdrant's OpenAPI document has no ${method} ${template}`);
  const schema = operation.requestBody?.content?.['application/json']?.schema;
  assert.ok(schema, `Qdrant's OpenAPI document gives ${method} ${template} no JSON request body`);
  const ref = `${DOCUMENT_ID}#/${pointer('paths', template, method.toLowerCase(), 'requestBody', 'content',
    'application/json', 'schema')}`;
  check(ref, body, `the request ${method} ${path}`);
  return true;
}
