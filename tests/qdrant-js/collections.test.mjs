// collections.test.mjs — Qdrant's collection routes through the official client: create (unnamed and named
// vectors, sparse vectors, hnsw and int8 settings), get, list, exists, update, delete; aliases (create, rename,
// delete, list, resolution); payload indexes (create, replace, delete); and the refusals, as raw answers checked
// against Qdrant's OpenAPI schema. Every collection here is named col_*.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';

import { collectionsDeletedAfter, refused, rejectsWith } from './answers.mjs';
import { createClient, request, validateResponse } from './helpers.mjs';

const client = createClient();
const made = collectionsDeletedAfter(client);

async function create(name, body) {
  made.add(name);
  return client.createCollection(name, body);
}

describe('collections', () => {
  test('create, get, list, exists and delete an unnamed-vector collection', async () => {
    assert.equal(await create('col_plain', { vectors: { size: 4, distance: 'Cosine' } }), true);
    const info = await client.getCollection('col_plain');
    assert.equal(info.status, 'green');
    assert.equal(info.points_count, 0);
    assert.deepEqual(info.config.params.vectors, { size: 4, distance: 'Cosine' });
    const raw = await request('GET', '/collections/col_plain');
    validateResponse('/collections/col_plain', 'GET', 200, raw.json);
    const { collections } = await client.getCollections();
    assert.ok(collections.some((c) => c.name === 'col_plain'));
    validateResponse('/collections', 'GET', 200, (await request('GET', '/collections')).json);
    assert.deepEqual(await client.collectionExists('col_plain'), { exists: true });
    assert.deepEqual(await client.collectionExists('col_never'), { exists: false });
    validateResponse('/collections/x/exists', 'GET', 200, (await request('GET', '/collections/col_plain/exists')).json);
    assert.equal(await client.deleteCollection('col_plain'), true);
    assert.equal(await client.deleteCollection('col_plain'), false);
    made.delete('col_plain');
  });

  test('named dense and sparse vectors, hnsw and int8 quantization are reported back', async () => {
    await create('col_named', {
      vectors: { dense: { size: 8, distance: 'Dot' } },
      sparse_vectors: { words: {} },
      hnsw_config: { m: 24, ef_construct: 128 },
      quantization_config: { scalar: { type: 'int8', always_ram: true } },
    });
    const info = await client.getCollection('col_named');
    assert.deepEqual(info.config.params.vectors, { dense: { size: 8, distance: 'Dot' } });
    assert.ok(info.config.params.sparse_vectors.words);
    assert.equal(info.config.hnsw_config.m, 24);
    assert.equal(info.config.hnsw_config.ef_construct, 128);
    assert.equal(info.config.quantization_config.scalar.type, 'int8');
    validateResponse('/collections/col_named', 'GET', 200, (await request('GET', '/collections/col_named')).json);
  });

  test('update takes optimizer tuning and refuses what it cannot change', async () => {
    await create('col_update', { vectors: { size: 2, distance: 'Dot' } });
    assert.equal(await client.updateCollection('col_update', { optimizers_config: { indexing_threshold: 1000 } }), true);
    await refused('PATCH', '/collections/col_update', { hnsw_config: { m: 4 } }, 400, /changing `hnsw_config`/);
  });

  test('a second create is 409 and the refusals of create name what engram lacks', async () => {
    await create('col_twice', { vectors: { size: 2, distance: 'Dot' } });
    await rejectsWith(client.createCollection('col_twice', { vectors: { size: 2, distance: 'Dot' } }), 409);
    await refused('PUT', '/collections/col_twice', { vectors: { size: 2, distance: 'Dot' } }, 409,
      /^Wrong input: Collection `col_twice` already exists!$/);
    const cases = [
      [{ vectors: { size: 0, distance: 'Dot' } }, 422, /^Validation error in JSON body: \[vectors\.size/],
      [{ vectors: { size: 2, distance: 'Hamming' } }, 400, /^Format error in JSON body/],
      [{ vectors: { a: { size: 2, distance: 'Dot' }, b: { size: 2, distance: 'Dot' } } }, 400, /named dense vectors/],
      [{ vectors: { size: 2, distance: 'Dot', multivector_config: { comparator: 'max_sim' } } }, 400, /multivectors/],
      [{ vectors: { size: 2, distance: 'Dot' }, quantization_config: { binary: {} } }, 400, /binary quantization/],
      [{ vectors: { size: 2, distance: 'Dot' }, shard_number: 3 }, 400, /shard_number 3/],
      [{ vectors: { size: 2, distance: 'Dot' }, sparse_vectors: { s: { modifier: 'idf' } } }, 400, /idf/],
    ];
    for (const [body, status, pattern] of cases) await refused('PUT', '/collections/col_refused', body, status, pattern);
    assert.deepEqual(await client.collectionExists('col_refused'), { exists: false });
  });

  test('a missing collection is 404 with Qdrant\'s message', async () => {
    await rejectsWith(client.getCollection('col_missing'), 404);
    await refused('GET', '/collections/col_missing', undefined, 404, /^Not found: Collection `col_missing` doesn't exist!$/);
  });
});

describe('aliases', () => {
  test('create, list, resolve, rename and delete', async () => {
    await create('col_alias_target', { vectors: { size: 2, distance: 'Dot' } });
    assert.equal(await client.updateCollectionAliases({
      actions: [{ create_alias: { collection_name: 'col_alias_target', alias_name: 'col_alias_a' } }],
    }), true);
    const mine = await client.getCollectionAliases('col_alias_target');
    assert.deepEqual(mine.aliases, [{ alias_name: 'col_alias_a', collection_name: 'col_alias_target' }]);
    validateResponse('/aliases', 'GET', 200, (await request('GET', '/aliases')).json);
    validateResponse('/collections/x/aliases', 'GET', 200,
      (await request('GET', '/collections/col_alias_target/aliases')).json);
    const all = await client.getAliases();
    assert.ok(all.aliases.some((a) => a.alias_name === 'col_alias_a'));
    // Every collection route resolves the alias.
    await client.upsert('col_alias_a', { wait: true, points: [{ id: 1, vector: [1, 0] }] });
    assert.equal((await client.getCollection('col_alias_a')).points_count, 1);
    await client.updateCollectionAliases({
      actions: [{ rename_alias: { old_alias_name: 'col_alias_a', new_alias_name: 'col_alias_b' } }],
    });
    assert.equal((await client.count('col_alias_b')).count, 1);
    await client.updateCollectionAliases({ actions: [{ delete_alias: { alias_name: 'col_alias_b' } }] });
    assert.deepEqual((await client.getCollectionAliases('col_alias_target')).aliases, []);
  });

  test('a failing action leaves every action of the request undone', async () => {
    await create('col_alias_atomic', { vectors: { size: 2, distance: 'Dot' } });
    await refused('POST', '/collections/aliases', {
      actions: [
        { create_alias: { collection_name: 'col_alias_atomic', alias_name: 'col_alias_first' } },
        { create_alias: { collection_name: 'col_alias_none', alias_name: 'col_alias_second' } },
      ],
    }, 404, /Collection `col_alias_none` doesn't exist!/);
    assert.deepEqual((await client.getCollectionAliases('col_alias_atomic')).aliases, []);
    await refused('POST', '/collections/aliases',
      { actions: [{ rename_alias: { old_alias_name: 'col_alias_ghost', new_alias_name: 'x' } }] }, 404,
      /Alias col_alias_ghost does not exists!/);
  });
});

describe('payload indexes', () => {
  test('create, replace by another type, delete, and refusals', async () => {
    await create('col_index', { vectors: { size: 2, distance: 'Dot' } });
    await client.upsert('col_index', {
      wait: true,
      points: [{ id: 1, vector: [1, 0], payload: { city: 'Oslo' } }, { id: 2, vector: [0, 1], payload: { n: 3 } }],
    });
    const created = await client.createPayloadIndex('col_index', { field_name: 'city', field_schema: 'keyword', wait: true });
    assert.equal(created.status, 'completed');
    await client.createPayloadIndex('col_index', { field_name: 'n', field_schema: { type: 'integer', range: true } });
    let info = await client.getCollection('col_index');
    assert.deepEqual(info.payload_schema.city, { data_type: 'keyword', points: 1 });
    assert.equal(info.payload_schema.n.data_type, 'integer');
    await client.createPayloadIndex('col_index', { field_name: 'n', field_schema: 'float' });
    info = await client.getCollection('col_index');
    assert.equal(info.payload_schema.n.data_type, 'float');
    validateResponse('/collections/col_index', 'GET', 200, (await request('GET', '/collections/col_index')).json);
    const deleted = await client.deletePayloadIndex('col_index', 'n', { wait: true });
    assert.equal(deleted.status, 'completed');
    await client.deletePayloadIndex('col_index', 'never_indexed');
    info = await client.getCollection('col_index');
    assert.deepEqual(Object.keys(info.payload_schema), ['city']);
    const raw = await request('PUT', '/collections/col_index/index', { body: { field_name: 'b', field_schema: 'bool' } });
    validateResponse('/collections/col_index/index', 'PUT', 200, raw.json);
    await refused('PUT', '/collections/col_index/index', { field_name: 'g', field_schema: 'geo' }, 400,
      /geo payload indexes are not supported/);
    await refused('PUT', '/collections/col_missing/index', { field_name: 'g', field_schema: 'keyword' }, 404,
      /doesn't exist!/);
  });
});
