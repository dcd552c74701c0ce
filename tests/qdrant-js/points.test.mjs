// points.test.mjs — Qdrant's point routes through the official client: upsert (points and batch forms, 5000 points
// at once), retrieve, get by id, delete (ids, filter), set / overwrite / delete / clear payload, update and delete
// vectors, the batch update endpoint, scroll (pages, filters, selectors) and count; errors (404 collection and
// point, 400 bad filter, wrong dimension, 422 validation), each raw answer checked against Qdrant's OpenAPI schema.
// Every collection here is named pts_*.
import assert from 'node:assert/strict';
import { before, describe, test } from 'node:test';

import { collectionsDeletedAfter, raw, refused, rejectsWith } from './answers.mjs';
import { createClient } from './helpers.mjs';

const client = createClient();
const made = collectionsDeletedAfter(client);

async function fresh(name, vectors = { size: 3, distance: 'Dot' }, extra = {}) {
  made.add(name);
  await client.deleteCollection(name);
  await client.createCollection(name, { vectors, ...extra });
}

const three = [
  { id: 1, vector: [1, 0, 0], payload: { city: 'Oslo', meta: { a: 1, b: 2 } } },
  { id: 2, vector: [0, 1, 0], payload: { city: 'Rome' } },
  { id: '5c56c793-69f3-4fbf-87e6-c4bf54c28c26', vector: [0, 0, 1] },
];

describe('upsert and read', () => {
  before(() => fresh('pts_read'));

  test('upsert a list, retrieve with selectors, get one', async () => {
    const result = await client.upsert('pts_read', { wait: true, points: three });
    assert.equal(result.status, 'completed');
    assert.equal(typeof result.operation_id, 'number');
    await raw('PUT', '/collections/pts_read/points', { points: three.slice(0, 1) });
    const got = await client.retrieve('pts_read', { ids: [2, 1, 99] });
    assert.deepEqual(got.map((p) => p.id), [2, 1]);
    assert.deepEqual(got[0].payload, { city: 'Rome' });
    assert.equal(got[0].vector, undefined);
    const withVector = await client.retrieve('pts_read', { ids: [1], with_payload: false, with_vector: true });
    assert.deepEqual(withVector, [{ id: 1, vector: [1, 0, 0] }]);
    const picked = await client.retrieve('pts_read', { ids: [1], with_payload: { exclude: ['meta.a'] } });
    assert.deepEqual(picked[0].payload, { city: 'Oslo', meta: { b: 2 } });
    await raw('POST', '/collections/pts_read/points', { ids: [1], with_payload: ['meta.b'] });
    const one = await raw('GET', '/collections/pts_read/points/5c56c793-69f3-4fbf-87e6-c4bf54c28c26');
    assert.deepEqual(one.vector, [0, 0, 1]);
    await refused('GET', '/collections/pts_read/points/77', undefined, 404, /^Not found: Point with id 77 does not exists!$/);
  });

  test('the batch form, and a wrong dimension refused with Qdrant\'s words', async () => {
    await client.upsert('pts_read', {
      wait: true,
      batch: { ids: [10, 11], vectors: [[1, 1, 1], [2, 2, 2]], payloads: [{ k: 1 }, { k: 2 }] },
    });
    assert.deepEqual((await client.retrieve('pts_read', { ids: [11] }))[0].payload, { k: 2 });
    await rejectsWith(client.upsert('pts_read', { points: [{ id: 12, vector: [1, 2] }] }), 400);
    await refused('PUT', '/collections/pts_read/points', { points: [{ id: 12, vector: [1, 2] }] }, 400,
      /^Wrong input: Vector dimension error: expected dim: 3, got 2$/);
    assert.deepEqual(await client.retrieve('pts_read', { ids: [12] }), []);
  });

  test('a missing collection is 404 on every point route', async () => {
    await rejectsWith(client.upsert('pts_none', { points: three }), 404);
    await rejectsWith(client.retrieve('pts_none', { ids: [1] }), 404);
    await rejectsWith(client.scroll('pts_none', {}), 404);
    await rejectsWith(client.count('pts_none', {}), 404);
    await refused('POST', '/collections/pts_none/points/delete', { points: [1] }, 404,
      /^Not found: Collection `pts_none` doesn't exist!$/);
  });
});

describe('writes', () => {
  before(() => fresh('pts_write'));

  test('payload: set, overwrite, delete keys, clear — by ids and by filter', async () => {
    await client.upsert('pts_write', { wait: true, points: three });
    await client.setPayload('pts_write', { payload: { seen: true }, points: [1, 2], wait: true });
    await client.setPayload('pts_write', {
      payload: { capital: true },
      filter: { must: [{ key: 'city', match: { any: ['Oslo', 'Rome'] } }] },
    });
    assert.deepEqual((await client.retrieve('pts_write', { ids: [2] }))[0].payload,
      { city: 'Rome', seen: true, capital: true });
    await client.overwritePayload('pts_write', { payload: { only: 1 }, points: [2] });
    assert.deepEqual((await client.retrieve('pts_write', { ids: [2] }))[0].payload, { only: 1 });
    await client.deletePayload('pts_write', { keys: ['meta', 'seen'], points: [1] });
    assert.deepEqual((await client.retrieve('pts_write', { ids: [1] }))[0].payload, { city: 'Oslo', capital: true });
    await client.clearPayload('pts_write', { points: [1] });
    assert.deepEqual((await client.retrieve('pts_write', { ids: [1] }))[0].payload, {});
    await raw('POST', '/collections/pts_write/points/payload', { payload: { x: 1 }, points: [1] });
    await refused('POST', '/collections/pts_write/points/payload', { payload: { x: 1 }, points: [404] }, 404,
      /No point with id 404 found/);
  });

  test('update vectors, delete points by ids and by filter, count', async () => {
    await client.updateVectors('pts_write', { points: [{ id: 1, vector: [0, 0, 5] }], wait: true });
    assert.deepEqual((await client.retrieve('pts_write', { ids: [1], with_vector: true }))[0].vector, [0, 0, 5]);
    await client.delete('pts_write', { points: [1], wait: true });
    assert.equal((await client.count('pts_write', { exact: true })).count, 2);
    await client.delete('pts_write', { filter: { must: [{ key: 'only', match: { value: 1 } }] } });
    const counted = await raw('POST', '/collections/pts_write/points/count', {});
    assert.deepEqual(counted, { count: 1 });
  });

  test('named and sparse vectors: upsert, update, delete the sparse one', async () => {
    await fresh('pts_hybrid', { dense: { size: 2, distance: 'Dot' } }, { sparse_vectors: { words: {} } });
    await client.upsert('pts_hybrid', {
      wait: true,
      points: [{ id: 1, vector: { dense: [1, 0], words: { indices: [3], values: [0.5] } } }],
    });
    await client.updateVectors('pts_hybrid', { points: [{ id: 1, vector: { words: { indices: [4], values: [1] } } }] });
    let [point] = await client.retrieve('pts_hybrid', { ids: [1], with_vector: true });
    assert.deepEqual(point.vector, { dense: [1, 0], words: { indices: [4], values: [1] } });
    await client.deleteVectors('pts_hybrid', { points: [1], vector: ['words'] });
    [point] = await client.retrieve('pts_hybrid', { ids: [1], with_vector: true });
    assert.deepEqual(point.vector, { dense: [1, 0] });
    await rejectsWith(client.deleteVectors('pts_hybrid', { points: [1], vector: ['dense'] }), 400);
  });

  test('the batch update endpoint applies its operations in order', async () => {
    await fresh('pts_batch');
    const results = await client.batchUpdate('pts_batch', {
      wait: true,
      operations: [
        { upsert: { points: [{ id: 1, vector: [1, 0, 0] }, { id: 2, vector: [0, 1, 0] }] } },
        { set_payload: { payload: { a: 1 }, points: [1, 2] } },
        { overwrite_payload: { payload: { b: 2 }, points: [2] } },
        { delete_payload: { keys: ['a'], points: [1] } },
        { update_vectors: { points: [{ id: 1, vector: [0, 0, 1] }] } },
        { delete: { points: [2] } },
        { clear_payload: { points: [1] } },
      ],
    });
    assert.equal(results.length, 7);
    assert.ok(results.every((r) => r.status === 'completed'));
    const page = await client.scroll('pts_batch', { with_vector: true });
    assert.deepEqual(page.points, [{ id: 1, payload: {}, vector: [0, 0, 1] }]);
    await refused('POST', '/collections/pts_batch/points/batch',
      { operations: [{ delete: { points: [1] } }, { upsert: { points: [{ id: 3, vector: [1] }] } }] }, 400,
      /Vector dimension error/);
    assert.equal((await client.count('pts_batch')).count, 1);
  });
});

describe('scroll and count', () => {
  before(async () => {
    await fresh('pts_scroll');
    const points = Array.from({ length: 25 }, (_, i) => ({ id: i + 1, vector: [i, 1, 0], payload: { odd: i % 2 === 0 } }));
    await client.upsert('pts_scroll', { wait: true, points });
  });

  test('pages follow next_page_offset to the end', async () => {
    const seen = [];
    let offset;
    do {
      const page = await client.scroll('pts_scroll', { limit: 10, offset, with_payload: false });
      seen.push(...page.points.map((p) => p.id));
      offset = page.next_page_offset;
    } while (offset !== null && offset !== undefined);
    assert.deepEqual(seen, Array.from({ length: 25 }, (_, i) => i + 1));
    await raw('POST', '/collections/pts_scroll/points/scroll', { limit: 3 });
  });

  test('filters and counts agree', async () => {
    const filter = { must: [{ key: 'odd', match: { value: true } }] };
    const page = await client.scroll('pts_scroll', { filter, limit: 100 });
    const { count } = await client.count('pts_scroll', { filter, exact: true });
    assert.equal(page.points.length, count);
    assert.equal(count, 13);
  });

  test('a bad filter is 400, limit 0 is 422, order_by is refused', async () => {
    await rejectsWith(client.scroll('pts_scroll', { filter: { must: [{ key: 'odd', match: {} }] } }), 400);
    await refused('POST', '/collections/pts_scroll/points/count', { filter: { must: [{ key: 'a', geo_radius: {} }] } },
      400, /^Format error in JSON body: filter/);
    await refused('POST', '/collections/pts_scroll/points/scroll', { limit: 0 }, 422,
      /^Validation error in JSON body: \[limit: value 0 invalid, must be 1 or larger\]$/);
    await refused('POST', '/collections/pts_scroll/points/scroll', { order_by: 'odd' }, 400, /order_by/);
  });
});

describe('large batches', () => {
  test('5000 points in one upsert, then scrolled back whole', async () => {
    await fresh('pts_large', { size: 8, distance: 'Cosine' });
    const points = Array.from({ length: 5000 }, (_, i) => ({
      id: i,
      vector: Array.from({ length: 8 }, (_, d) => ((i * 31 + d * 7) % 17) + 1),
      payload: { i, group: `g${i % 10}` },
    }));
    await client.upsert('pts_large', { wait: true, points });
    assert.equal((await client.count('pts_large')).count, 5000);
    const { count } = await client.count('pts_large', { filter: { must: [{ key: 'group', match: { value: 'g3' } }] } });
    assert.equal(count, 500);
    const all = await client.scroll('pts_large', { limit: 6000, with_payload: false });
    assert.equal(all.points.length, 5000);
    assert.equal(all.next_page_offset ?? null, null);
    await client.delete('pts_large', { filter: { must: [{ key: 'group', match: { value: 'g3' } }] } });
    assert.equal((await client.count('pts_large')).count, 4500);
  });
});
