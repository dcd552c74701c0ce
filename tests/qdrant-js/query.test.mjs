// query.test.mjs — search and query through the official client (query, queryBatch) and raw HTTP (the older
// /points/search and /points/search/batch, which the 1.19 client no longer wraps): dense, sparse and hybrid
// queries with prefetch and RRF / DBSF fusion, filters, thresholds, selectors, and the errors (404, 400, 422).
// Answers are checked against Qdrant's OpenAPI schema (helpers.mjs). The scores are worked out by hand in
// tests/test_serve_query.c on the same points.
//
// The collection (named vectors `dense`, Dot, dim 2, and `sparse`):
//   id  dense      sparse         payload
//   1   [1, 0]     {1: 1}         {color: red,  n: 1}
//   2   [0, 1]     {1: 3, 2: 1}   {color: blue, n: 2}
//   3   [0.5, 0]   none           {color: red,  n: 3}
//   4   [0, 0.5]   {2: 5}         {color: blue, n: 4}
// The dense query [1, 0] ranks 1 (1), 3 (0.5), 2 (0), 4 (0); the sparse query {1: 1} ranks 2 (3), 1 (1).
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';

import { raw, refused } from './answers.mjs';
import { assertErrorEnvelope, createClient, request, validateSchema } from './helpers.mjs';

const client = createClient();
const hybrid = 'query_hybrid_1';
const plain = 'query_plain_1';
const queryPath = `/collections/${hybrid}/points/query`;

const dense = { query: [1, 0], using: 'dense' };
const sparse = { query: { indices: [1], values: [1] }, using: 'sparse' };
const red = { must: [{ key: 'color', match: { value: 'red' } }] };
const blue = { must: [{ key: 'color', match: { value: 'blue' } }] };

/** [[id, score], ...] of scored points, scores rounded to 6 places. */
const ranking = (points) => points.map((p) => [p.id, Math.round(p.score * 1e6) / 1e6]);

/** The result of an older search route (a raw request that must succeed, in Qdrant's envelope). */
async function searchResult(path, body) {
  const answer = await request('POST', path, { body });
  assert.equal(answer.status, 200, `POST ${path}: ${answer.text}`);
  assert.equal(answer.json.status, 'ok');
  return answer.json.result;
}

/** Asserts that a client call rejects with the HTTP status and a message holding words. */
async function rejectsWith(promise, status, words) {
  await assert.rejects(promise, (error) => {
    assert.equal(error.status, status, `status of ${JSON.stringify(error.data ?? error.message)}`);
    const message = assertErrorEnvelope(error.data);
    assert.ok(message.includes(words), `"${message}" does not say "${words}"`);
    return true;
  });
}

before(async () => {
  await client.createCollection(hybrid, {
    vectors: { dense: { size: 2, distance: 'Dot' } },
    sparse_vectors: { sparse: {} },
  });
  await client.upsert(hybrid, {
    wait: true,
    points: [
      { id: 1, vector: { dense: [1, 0], sparse: { indices: [1], values: [1] } }, payload: { color: 'red', n: 1 } },
      { id: 2, vector: { dense: [0, 1], sparse: { indices: [1, 2], values: [3, 1] } }, payload: { color: 'blue', n: 2 } },
      { id: 3, vector: { dense: [0.5, 0] }, payload: { color: 'red', n: 3 } },
      { id: 4, vector: { dense: [0, 0.5], sparse: { indices: [2], values: [5] } }, payload: { color: 'blue', n: 4 } },
    ],
  });
  await client.createCollection(plain, { vectors: { size: 3, distance: 'Cosine' } });
  await client.upsert(plain, {
    wait: true,
    points: [
      { id: 10, vector: [1, 0, 0], payload: { tag: 'a' } },
      { id: 11, vector: [0, 1, 0], payload: { tag: 'b' } },
    ],
  });
});

after(async () => {
  await client.deleteCollection(hybrid);
  await client.deleteCollection(plain);
});

describe('POST /points/query', () => {
  test('a dense query ranks by the named dense vector, with Qdrant’s shapes', async () => {
    const result = await client.query(hybrid, dense);
    assert.deepEqual(ranking(result.points), [[1, 1], [3, 0.5], [2, 0], [4, 0]]);
    for (const point of result.points) {
      assert.equal(point.version, 0);
      assert.equal(point.payload, undefined);
      assert.equal(point.vector, undefined);
    }
    const answer = await raw('POST', queryPath, { ...dense, with_payload: true, with_vector: true, limit: 1 });
    assert.deepEqual(answer.points[0].payload, { color: 'red', n: 1 });
    assert.deepEqual(answer.points[0].vector, { dense: [1, 0], sparse: { indices: [1], values: [1] } });
  });

  test('an unnamed collection takes a plain vector, limit, offset and a payload selector', async () => {
    const result = await client.query(plain, { query: [1, 0.1, 0], limit: 1, offset: 1, with_payload: ['tag'] });
    assert.equal(result.points.length, 1);
    assert.equal(result.points[0].id, 11);
    assert.deepEqual(result.points[0].payload, { tag: 'b' });
  });

  test('a sparse query ranks by dot product over shared indices', async () => {
    const result = await client.query(hybrid, sparse);
    assert.deepEqual(ranking(result.points), [[2, 3], [1, 1]]);
  });

  test('prefetch + RRF fuses with k = 2, positions from 0', async () => {
    const result = await client.query(hybrid, { prefetch: [dense, sparse], query: { fusion: 'rrf' } });
    assert.deepEqual(ranking(result.points), [[1, 0.833333], [2, 0.75], [3, 0.333333], [4, 0.2]]);
    const weighted = await client.query(hybrid, { prefetch: [dense, sparse], query: { rrf: { k: 1 } }, limit: 2 });
    assert.deepEqual(ranking(weighted.points), [[1, 1.5], [2, 1.333333]]);
  });

  test('prefetch + DBSF normalises each source by mean ± 3 sample standard deviations', async () => {
    const result = await client.query(hybrid, { prefetch: [dense, sparse], query: { fusion: 'dbsf' } });
    assert.deepEqual(ranking(result.points), [[1, 1.099746], [2, 0.987293], [3, 0.543519], [4, 0.369442]]);
  });

  test('filters: a prefetch’s own, and the request’s reaching every prefetch; thresholds on fused scores', async () => {
    const own = await client.query(hybrid, { prefetch: [{ ...dense, filter: red }, sparse], query: { fusion: 'rrf' } });
    assert.deepEqual(ranking(own.points), [[1, 0.833333], [2, 0.5], [3, 0.333333]]);
    const everywhere = await client.query(hybrid, { prefetch: [dense, sparse], query: { fusion: 'rrf' }, filter: blue });
    assert.deepEqual(ranking(everywhere.points), [[2, 1], [4, 0.333333]]);
    const above = await client.query(hybrid, { prefetch: [dense, sparse], query: { fusion: 'rrf' }, score_threshold: 0.75 });
    assert.deepEqual(ranking(above.points), [[1, 0.833333], [2, 0.75]]);
  });

  test('a point id as the query searches with its vector and leaves it out', async () => {
    const result = await client.query(hybrid, { query: 3, using: 'dense' });
    assert.deepEqual(ranking(result.points), [[1, 0.5], [2, 0], [4, 0]]);
  });

  test('queryBatch answers one QueryResponse per request, in order', async () => {
    const results = await client.queryBatch(hybrid, {
      searches: [{ ...dense, limit: 1 }, { prefetch: [dense, sparse], query: { fusion: 'rrf' }, limit: 2 }],
    });
    assert.equal(results.length, 2);
    assert.deepEqual(ranking(results[0].points), [[1, 1]]);
    assert.deepEqual(ranking(results[1].points), [[1, 0.833333], [2, 0.75]]);
    const answer = await raw('POST', `${queryPath}/batch`, { searches: [{ ...dense, limit: 1 }] });
    assert.deepEqual(ranking(answer[0].points), [[1, 1]]);
  });
});

describe('the older POST /points/search and /points/search/batch', () => {
  test('named dense and sparse vectors, filter and limit; a list of ScoredPoint', async () => {
    // 1.19's OpenAPI document no longer has these routes: each ScoredPoint is checked against its schema.
    const points = await searchResult(`/collections/${hybrid}/points/search`,
      { vector: { name: 'dense', vector: [1, 0] }, limit: 3, filter: red, with_payload: true });
    assert.deepEqual(ranking(points), [[1, 1], [3, 0.5]]);
    for (const point of points) validateSchema('ScoredPoint', point);
    const batch = await searchResult(`/collections/${hybrid}/points/search/batch`, {
      searches: [
        { vector: { name: 'sparse', vector: { indices: [2], values: [1] } }, limit: 1 },
        { vector: { name: 'dense', vector: [0, 1] }, limit: 1 },
      ],
    });
    assert.deepEqual(batch.map(ranking), [[[4, 5]], [[2, 1]]]);
  });

  test('a plain vector on an unnamed collection; limit is required', async () => {
    const points = await searchResult(`/collections/${plain}/points/search`, { vector: [0, 1, 0], limit: 1 });
    assert.deepEqual(ranking(points), [[11, 1]]);
    await refused('POST', `/collections/${plain}/points/search`, { vector: [0, 1, 0] }, 400, /missing field `limit`/);
  });
});

describe('errors', () => {
  test('a missing collection is 404', async () => {
    await rejectsWith(client.query('query_no_such_collection', { query: [1, 0] }), 404,
      'Collection `query_no_such_collection` doesn\'t exist!');
  });

  test('a wrong dimension, an unknown vector name and a bad filter are 400', async () => {
    await rejectsWith(client.query(hybrid, { query: [1, 0, 0], using: 'dense' }), 400,
      'Wrong input: Vector dimension error: expected dim: 2, got 3');
    await rejectsWith(client.query(hybrid, { query: [1, 0], using: 'nope' }), 400,
      'Wrong input: Not existing vector name error: nope');
    await rejectsWith(client.query(hybrid, { ...dense, filter: { must: [{ key: 'n', geo_radius: {} }] } }), 400,
      'Format error in JSON body: filter:');
  });

  test('limit 0 is a 422 validation error; fusion with `using` is a 400', async () => {
    await rejectsWith(client.query(hybrid, { ...dense, limit: 0 }), 422,
      'Validation error in JSON body: [limit: value 0 invalid, must be 1 or larger]');
    await rejectsWith(client.query(hybrid, { prefetch: [dense, sparse], query: { fusion: 'rrf' }, using: 'dense' }), 400,
      'Fusion queries cannot be combined with the \'using\' field.');
  });

  test('what engram does not support is refused by name', async () => {
    await rejectsWith(client.query(hybrid, { query: { recommend: { positive: [1] } }, using: 'dense' }), 400,
      '`recommend` queries are not supported by engram');
    await refused('POST', `/collections/${hybrid}/points/recommend`, { positive: [1], limit: 1 }, 400,
      /points\/recommend is not supported by engram/);
  });
});
