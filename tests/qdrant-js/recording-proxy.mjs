// recording-proxy.mjs — stands between engram's Qdrant backend and `engram serve` in the suites over Qdrant
// (tests/over_remote.sh qdrant): forwards every request unchanged and checks what the backend sent against Qdrant's
// OpenAPI document (openapi.mjs): the path and method exist, the JSON body matches the operation's request-body
// schema, the query parameters are ones the operation declares, with values of their schema, and every operation
// that takes `wait` gets wait=true (the backend's promise: acknowledged means durable on the server).
//
// Usage: node recording-proxy.mjs UPSTREAM_URL
// Prints "recording proxy listening on http://127.0.0.1:N (port N)" once it accepts connections. On SIGTERM it
// prints how many requests it checked, per operation, and exits 1 if any was invalid or none arrived, 0 otherwise.
// Without the OpenAPI document it says so and only forwards.
import http from 'node:http';

import { DOCUMENT_ID, loadOpenApi, pointer, templateOf } from './openapi.mjs';

if (process.argv.length !== 3) {
  console.error('usage: node recording-proxy.mjs UPSTREAM_URL');
  process.exit(2);
}
const upstream = new URL(process.argv[2]);
const openapi = loadOpenApi('request bodies');
const upstreamAgent = new http.Agent({ keepAlive: true });

const DETAILS_SHOWN_MAX = 20; // invalid requests described on stderr; the rest are only counted
let checked = 0;
const invalid = [];
const perOperation = new Map(); // "METHOD template" -> requests seen

function validatorFor(ref) {
  let validate = openapi.compiled.get(ref);
  if (!validate) {
    validate = openapi.ajv.compile({ $ref: ref });
    openapi.compiled.set(ref, validate);
  }
  return validate;
}

// A query parameter's text as the JSON value its schema describes (query strings carry only text).
function queryValue(text, schema) {
  const type = schema?.type;
  if (type === 'boolean') return text === 'true' ? true : text === 'false' ? false : text;
  if (type === 'integer' || type === 'number') return text !== '' && Number.isFinite(Number(text)) ? Number(text) : text;
  return text;
}

/** What is wrong with one request (a list of sentences; empty when it is valid). */
function problemsOf(method, url, bodyText) {
  const [path, query = ''] = url.split('?');
  const template = templateOf(openapi.paths, path);
  if (!template) return [`${path} is not a path of Qdrant's OpenAPI document`];
  const lower = method.toLowerCase();
  const operation = openapi.paths[template][lower];
  if (!operation) return [`Qdrant's OpenAPI document has no ${method} ${template}`];
  const key = `${method} ${template}`;
  perOperation.set(key, (perOperation.get(key) ?? 0) + 1);
  const problems = [];

  // name -> index in operation.parameters (the index is part of the schema's JSON pointer)
  const declared = new Map();
  (operation.parameters ?? []).forEach((p, index) => {
    if (p.in === 'query') declared.set(p.name, index);
  });
  const params = new URLSearchParams(query);
  for (const [name, text] of params) {
    if (!declared.has(name)) {
      problems.push(`query parameter ${name} is not one of ${method} ${template}`);
      continue;
    }
    const index = declared.get(name);
    const ref = `${DOCUMENT_ID}#/${pointer('paths', template, lower, 'parameters', index, 'schema')}`;
    const validate = validatorFor(ref);
    if (!validate(queryValue(text, operation.parameters[index].schema))) {
      problems.push(`query parameter ${name}=${text}: ${openapi.ajv.errorsText(validate.errors)}`);
    }
  }
  if (declared.has('wait') && params.get('wait') !== 'true') {
    problems.push(`${method} ${template} was sent without wait=true`);
  }

  const schema = operation.requestBody?.content?.['application/json']?.schema;
  if (bodyText.length === 0) {
    if (operation.requestBody?.required) problems.push(`${method} ${template} requires a body and had none`);
    return problems;
  }
  if (!schema) return [...problems, `${method} ${template} takes no JSON body, yet one was sent`];
  let body;
  try {
    body = JSON.parse(bodyText);
  } catch (e) {
    return [...problems, `the body is not JSON: ${e.message}`];
  }
  checked++;
  const ref = `${DOCUMENT_ID}#/${pointer('paths', template, lower, 'requestBody', 'content', 'application/json',
    'schema')}`;
  const validate = validatorFor(ref);
  if (!validate(body)) {
    problems.push(`the body does not match the request schema:\n    ` +
      `${openapi.ajv.errorsText(validate.errors, { separator: '\n    ' })}\n    body: ${bodyText.slice(0, 1000)}`);
  }
  return problems;
}

function forward(request, response, bodyBuffer) {
  const headers = { ...request.headers, host: upstream.host };
  const outgoing = http.request({
    host: upstream.hostname, port: upstream.port, method: request.method, path: request.url, headers,
    agent: upstreamAgent,
  }, (answer) => {
    response.writeHead(answer.statusCode, answer.headers);
    answer.pipe(response);
  });
  outgoing.on('error', (e) => {
    // The server is gone (the fault tests stop it): the client sees a 502, which the backend maps to unavailable.
    if (!response.headersSent) response.writeHead(502, { 'content-type': 'application/json' });
    response.end(JSON.stringify({ status: { error: `recording proxy: upstream: ${e.message}` }, time: 0 }));
  });
  outgoing.end(bodyBuffer);
}

const server = http.createServer((request, response) => {
  const chunks = [];
  request.on('data', (chunk) => chunks.push(chunk));
  request.on('end', () => {
    const bodyBuffer = Buffer.concat(chunks);
    if (openapi) {
      const problems = problemsOf(request.method, request.url, bodyBuffer.toString('utf8'));
      if (problems.length > 0) {
        invalid.push(`${request.method} ${request.url}`);
        if (invalid.length <= DETAILS_SHOWN_MAX) {
          console.error(`recording proxy: INVALID ${request.method} ${request.url}:\n  ${problems.join('\n  ')}`);
        }
      }
    }
    forward(request, response, bodyBuffer);
  });
});

server.listen(0, '127.0.0.1', () => {
  const { port } = server.address();
  console.log(`recording proxy listening on http://127.0.0.1:${port} (port ${port})`);
});

process.on('SIGTERM', () => {
  if (!openapi) {
    console.log('recording proxy: requests forwarded without checking (no OpenAPI document)');
    process.exit(0);
  }
  const operations = [...perOperation].sort((a, b) => b[1] - a[1]).map(([key, n]) => `${n} ${key}`);
  console.log(`recording proxy: ${checked} request bodies validated against the OpenAPI document, ` +
    `${invalid.length} request(s) invalid; requests per operation:\n  ${operations.join('\n  ')}`);
  // A run that sent nothing did not use the backend at all (a test program built without the harness's support).
  if (perOperation.size === 0) console.log('recording proxy: no request arrived: the program did not use the server');
  process.exit(invalid.length === 0 && perOperation.size > 0 ? 0 : 1);
});
