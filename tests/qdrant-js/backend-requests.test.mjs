// backend-requests.test.mjs — the requests engram's own Qdrant backend (src/vector/qdrant) sends: `engram exec`
// runs every vector operation and a few memory operations with vectors.backend=qdrant, through a recording proxy
// in front of the open `engram serve`; every request body is then validated against Qdrant's OpenAPI request
// schema (when the document is present), and every route the backend uses must have been seen.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import http from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';

import { openapiAvailable, validateRequest } from './helpers.mjs';

const target = new URL(process.env.ENGRAM_QDRANT_URL);

/** A proxy to the open server keeping {method, path, body} of every request; resolves to {port, recorded, close}. */
function recordingProxy() {
  const recorded = [];
  const server = http.createServer((req, res) => {
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      recorded.push({ method: req.method, path: req.url, body: body.length ? JSON.parse(body.toString()) : null });
      const forward = http.request(
        { host: target.hostname, port: target.port, method: req.method, path: req.url, headers: req.headers },
        (answer) => {
          res.writeHead(answer.statusCode, answer.headers);
          answer.pipe(res);
        });
      forward.on('error', () => res.destroy());
      forward.end(body);
    });
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () =>
    resolve({ port: server.address().port, recorded, close: () => new Promise((r) => server.close(r)) })));
}

/** Runs engram with args and input; resolves to {status, stdout, stderr}. Asynchronous: the proxy lives in this
 * process and must answer while engram runs. */
function runEngram(args, input, env) {
  return new Promise((resolve, reject) => {
    const child = spawn(process.env.ENGRAM_BIN, args, { env, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '', stderr = '';
    const timer = setTimeout(() => child.kill('SIGKILL'), 60000);
    child.stdout.on('data', (d) => { stdout += d; });
    child.stderr.on('data', (d) => { stderr += d; });
    child.on('error', reject);
    child.on('close', (status) => {
      clearTimeout(timer);
      resolve({ status, stdout, stderr });
    });
    child.stdin.end(input);
  });
}

const lines = [
  { op: 'create_collection', collection: 'plain', dim: 3, distance: 'Cosine',
    hnsw_config: { m: 8, ef_construct: 50, full_scan_threshold: 500 }, quantization_config: { scalar: { type: 'int8' } } },
  { op: 'create_collection', collection: 'hybrid', dim: 2, distance: 'Dot', sparse: true },
  { op: 'create_collection', collection: 'plain', dim: 3, distance: 'Cosine',
    hnsw_config: { m: 8, ef_construct: 50, full_scan_threshold: 500 }, quantization_config: { scalar: { type: 'int8' } } },
  { op: 'get_collection', collection: 'plain' },
  { op: 'list_collections' },
  { op: 'create_payload_index', collection: 'plain', field: 'city', type: 'keyword' },
  { op: 'upsert', collection: 'plain', points: [
    { id: 1, vector: [1, 0, 0], payload: { city: 'Lima', 'a.b': 1 } },
    { id: '550e8400-e29b-41d4-a716-446655440000', vector: [0, 1, 0], payload: { city: 'Oslo' } },
    { id: 3, vector: [0, 0, 1] }, { id: 4, vector: [1, 1, 0] }, { id: 5, vector: [0, 1, 1] }] },
  { op: 'upsert', collection: 'hybrid', points: [
    { id: 7, vector: [1, 2], sparse_vector: { indices: [1, 4], values: [0.5, 2] }, payload: { session_id: 's1' } }] },
  { op: 'get', collection: 'plain', ids: [1, 3, 99], with_vectors: true },
  { op: 'update_payload', collection: 'plain', ids: [1], payload: { team: 'core' } },
  { op: 'overwrite_payload', collection: 'plain', ids: [3], payload: { only: true } },
  { op: 'delete_payload_keys', collection: 'plain', ids: [1], keys: ['team', 'a.b'] },
  { op: 'batch_update_vectors', collection: 'plain', points: [{ id: 4, vector: [0.5, 0.5, 0] }] },
  { op: 'count', collection: 'plain', filter: { must: [{ key: 'city', match: { value: 'Lima' } }] } },
  { op: 'scroll', collection: 'plain', limit: 2, offset: 3, with_vectors: true },
  { op: 'search', collection: 'plain', vector: [1, 0.2, 0], limit: 2, offset: 1, score_threshold: 0.1,
    session_id: 's9', params: { hnsw_ef: 32, exact: true, quantization: { oversampling: 2, rescore: true } } },
  { op: 'search_sparse', collection: 'hybrid', sparse_vector: { indices: [4], values: [1] }, limit: 3 },
  { op: 'search_hybrid', collection: 'hybrid', dense_vector: [1, 1], sparse_vector: { indices: [1], values: [1] },
    limit: 3, filter: { must: [{ key: 'session_id', match: { value: 's1' } }] }, with_vectors: true },
  { op: 'delete', collection: 'plain', ids: [5, 6] },
  { op: 'delete', collection: 'plain', filter: { must: [{ key: 'city', match: { value: 'Oslo' } }] } },
  { op: 'delete_payload_index', collection: 'plain', field: 'city' },
  { op: 'create_entity', id: 11, text: 'Alice writes C' },
  { op: 'recall', type: 'entity', text: 'Alice', limit: 2 },
  { op: 'delete_memory', id: 11, type: 'entity' },
  { op: 'delete_collection', collection: 'hybrid' },
];

test('every request body the Qdrant backend sends matches Qdrant\'s OpenAPI request schema', async () => {
  const proxy = await recordingProxy();
  const dir = mkdtempSync(join(tmpdir(), 'engram-backend-requests-'));
  try {
    const env = { ...process.env };
    delete env.ENGRAM_QDRANT_API_KEY; // the open server wants none
    const run = await runEngram(['--data', join(dir, 'data'), '--no-sync',
      '--set', 'vectors.backend=qdrant', '--set', `vectors.url=http://127.0.0.1:${proxy.port}`,
      '--set', 'vectors.collection_prefix=backend_requests_', '--set', 'vectors.batch_size=2', 'exec'],
    lines.map((l) => JSON.stringify(l)).join('\n') + '\n', env);
    assert.equal(run.status, 0, run.stderr);
    const answers = run.stdout.trim().split('\n').map((l) => JSON.parse(l));
    answers.forEach((a, i) => assert.equal(a.ok, true, `${JSON.stringify(lines[i])} -> ${JSON.stringify(a)}`));
    const routes = new Set();
    for (const r of proxy.recorded) {
      const bare = r.path.split('?')[0].replace(/^\/collections\/[^/]+/, '/collections/{c}')
        .replace(/\/index\/[^/]+$/, '/index/{field}');
      routes.add(`${r.method} ${bare}`);
      if (r.body !== null) validateRequest(r.path, r.method, r.body);
      if (['PUT', 'POST', 'DELETE'].includes(r.method) && !/points$|points\/(count|scroll|query)$/.test(bare) &&
          bare !== '/collections/{c}' && bare !== '/collections') {
        assert.match(r.path, /[?&]wait=true/, `${r.method} ${r.path} is a write sent without wait=true`);
      }
    }
    for (const route of ['GET /collections', 'GET /collections/{c}', 'PUT /collections/{c}', 'DELETE /collections/{c}',
      'PUT /collections/{c}/index', 'DELETE /collections/{c}/index/{field}', 'PUT /collections/{c}/points',
      'POST /collections/{c}/points', 'POST /collections/{c}/points/payload', 'PUT /collections/{c}/points/payload',
      'POST /collections/{c}/points/payload/delete', 'PUT /collections/{c}/points/vectors',
      'POST /collections/{c}/points/delete', 'POST /collections/{c}/points/count', 'POST /collections/{c}/points/scroll',
      'POST /collections/{c}/points/query']) {
      assert.ok(routes.has(route), `the backend never sent ${route} (sent: ${[...routes].join(', ')})`);
    }
    if (!openapiAvailable) console.log('request bodies not validated: the OpenAPI document is missing');
  } finally {
    await proxy.close();
    rmSync(dir, { recursive: true, force: true });
  }
});
