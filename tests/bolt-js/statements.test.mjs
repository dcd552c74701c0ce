// statements.test.mjs — C1–C26, every Cypher text the original system's graph store sends (copied verbatim below,
// from the storage inventory's §1.2, with the store's `{...}` substitutions made as it makes them), run with
// parameters through the official Neo4j JavaScript driver against `engram serve --bolt` (run.sh), and their effects
// and answers checked against the same data read or written through engram's own operations (`POST /v1/exec` on
// the same server; docs/operations.md). Nodes here have ids starting "c-".
import assert from 'node:assert/strict';
import { test } from 'node:test';
import neo4j from 'neo4j-driver';
import { TEST_LIMIT_MS, exec, num, withDriver, withSession } from './common.mjs';

const DAY_MS = 24 * 3600 * 1000;

// ---- the texts, as the store sends them (a leading newline and its indentation; `as` in lower case) ----

const C1 = 'CREATE CONSTRAINT episode_id IF NOT EXISTS FOR (e:Episode) REQUIRE e.id IS UNIQUE';
const C2 = 'CREATE CONSTRAINT entity_id IF NOT EXISTS FOR (e:Entity) REQUIRE e.id IS UNIQUE';
const C3 = 'CREATE CONSTRAINT procedure_id IF NOT EXISTS FOR (p:Procedure) REQUIRE p.id IS UNIQUE';
const C4 = 'CREATE INDEX episode_session IF NOT EXISTS FOR (e:Episode) ON (e.sessionId)';
const C5 = 'CREATE INDEX entity_session IF NOT EXISTS FOR (e:Entity) ON (e.sessionId)';
const C6 = 'CREATE INDEX procedure_session IF NOT EXISTS FOR (p:Procedure) ON (p.sessionId)';
const C7 = 'CREATE INDEX episode_timestamp IF NOT EXISTS FOR (e:Episode) ON (e.timestamp)';
const C8 = 'SHOW CONSTRAINTS';

// C10: `CREATE (n:{label} {{k1}: ${k1}, ...})` with the keys of the properties in order.
const C10 = (label, keys) => `
            CREATE (n:${label} {${keys.map((k) => `${k}: $${k}`).join(', ')}})
            RETURN n.id as id
            `;
// C11–C13: `{lbl}` is `:{label}` or empty.
const lbl = (label) => (label ? `:${label}` : '');
const C11 = (label) => `
            MATCH (n${lbl(label)} {id: $id})
            RETURN properties(n) as data
            `;
const C12 = (label, keys) => `
            MATCH (n${lbl(label)} {id: $id})
            SET ${keys.map((k) => `n.${k} = $${k}`).join(', ')}
            `;
const C13 = (label) => `
            MATCH (n${lbl(label)} {id: $id})
            DETACH DELETE n
            `;
// C14: `prop_clause` is empty or ` {k1: $k1, ...}`.
const C14 = (type, keys) => `
            MATCH (src {id: $source_id})
            MATCH (tgt {id: $target_id})
            CREATE (src)-[r:${type}${keys.length ? ` {${keys.map((k) => `${k}: $${k}`).join(', ')}}` : ''}]->(tgt)
            `;
const C15 = (type) => `
                    UNWIND $rels AS rel
                    MATCH (src {id: rel.source_id})
                    MATCH (tgt {id: rel.target_id})
                    CREATE (src)-[r:${type}]->(tgt)
                    SET r += rel.props
                    RETURN count(r) as created
                    `;
// C16, C17: the pattern by direction, with `{:T}` when a type is given.
const typed = (type) => (type ? `:${type}` : '');
const C16_PATTERN = { out: (t) => `-[r${typed(t)}]->`, in: (t) => `<-[r${typed(t)}]-`, both: (t) => `-[r${typed(t)}]-` };
const C16 = (direction, type) => `
            MATCH (n {id: $id})${C16_PATTERN[direction](type)}(other)
            RETURN {
                rel_type: type(r),
                properties: properties(r),
                source_id: n.id,
                other_id: other.id
            } as rel
            `;
const C17_PATTERN = {
  out: (t) => `(n {id: id})-[r${typed(t)}]->(other)`,
  in: (t) => `(n {id: id})<-[r${typed(t)}]-(other)`,
  both: (t) => `(n {id: id})-[r${typed(t)}]-(other)`,
};
const C17 = (direction, type) => 'UNWIND $ids as id ' + `
            MATCH ${C17_PATTERN[direction](type)}
            RETURN n.id as node_id, type(r) as rel_type,
                   properties(r) as rel_props, other.id as other_id
            `;
const C18 = (prop) => `MATCH (n {id: $id}) SET n.${prop} = $value`;
const C19 = 'RETURN 1 as test';
const C20 = `
            MATCH (a)-[r]->(b)
            WHERE r.lastAccessed < $cutoff
            AND ($session_id IS NULL OR a.sessionId = $session_id)
            SET r.weight = r.weight * (1 - $decay_rate)
            RETURN count(r) as decayed
            `;
const C21 = `
            MATCH (a)-[r]->(b)
            WHERE r.weight < $min_weight
            AND ($session_id IS NULL OR a.sessionId = $session_id)
            DELETE r
            RETURN count(r) as pruned
            `;
const C22 = `
            MATCH (a)-[r]->(b)
            WHERE r.lastAccessed < $cutoff
            AND ($session_id IS NULL OR a.sessionId = $session_id)
            RETURN count(r) as count
            `;
const C23 = `
            MATCH (a {id: $source_id})-[r]->(b {id: $target_id})
            SET r.weight = COALESCE(r.weight, 0.1) + $lr * (1 - COALESCE(r.weight, 0.1)),
                r.coAccessCount = COALESCE(r.coAccessCount, 0) + 1,
                r.lastCoAccess = $now
            RETURN r.weight as new_weight
            `;
const C24 = `
            MATCH (a {id: $target_id})-[r]->(b {id: $source_id})
            SET r.weight = COALESCE(r.weight, 0.1) + $lr * (1 - COALESCE(r.weight, 0.1)),
                r.coAccessCount = COALESCE(r.coAccessCount, 0) + 1,
                r.lastCoAccess = $now
            RETURN r.weight as new_weight
            `;
const C25 = C10;
const C26 = (n) => `
            MATCH path = shortestPath((source {id: $source_id})-[*..${n}]-(target {id: $target_id}))
            RETURN [node in nodes(path) | {id: node.id, labels: labels(node)}] as nodes,
                   [rel in relationships(path) | {type: type(rel), properties: properties(rel)}] as relationships
            `;

// ---- helpers ----

// Integers (at any depth) as numbers, so that Bolt answers compare with JSON ones.
function plain(value) {
  if (neo4j.isInt(value)) return value.toNumber();
  if (Array.isArray(value)) return value.map(plain);
  if (value && typeof value === 'object') return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, plain(v)]));
  return value;
}

async function query(driver, text, params = {}) {
  const { records } = await driver.executeQuery(text, params);
  return records.map((r) => plain(r.toObject()));
}

async function nodes(ids, label = 'Entity', properties = {}) {
  await exec({ op: 'batch_create_nodes', nodes: ids.map((id) => ({ label, id, properties: { ...properties } })) });
}

const sortBy = (key) => (a, b) => (key(a) < key(b) ? -1 : key(a) > key(b) ? 1 : 0);

// ---- C1–C8, C19: the schema and the health check ----

test('C1–C7 succeed as schema statements changing nothing; C8 lists the three id constraints; C19 answers 1',
  { timeout: TEST_LIMIT_MS }, async () => {
    await withDriver(async (driver) => {
      await withSession(driver, async (session) => {
        for (const text of [C1, C2, C3, C4, C5, C6, C7, C1]) {
          const result = await session.run(text);
          assert.equal(result.records.length, 0);
          assert.equal(result.summary.queryType, 's');
          assert.equal(result.summary.counters.containsUpdates(), false);
        }
        const constraints = (await session.run(C8)).records.map((r) => r.toObject());
        assert.deepEqual(constraints.map((c) => c.name).sort(), ['entity_id', 'episode_id', 'procedure_id']);
        for (const c of constraints) {
          assert.equal(c.type, 'UNIQUENESS');
          assert.deepEqual(c.properties, ['id']);
        }
      });
      assert.deepEqual(await query(driver, C19), [{ test: 1 }]);
    });
  });

// ---- C10–C13, C18, C25: nodes ----

test('C10 creates a node that get_node shows; C11 reads what create_node wrote, with and without the label',
  { timeout: TEST_LIMIT_MS }, async () => {
    await withDriver(async (driver) => {
      const props = { id: 'c-10', name: 'Alice', sessionId: 'c-s', tags: '["a","b"]', score: 0.5 };
      assert.deepEqual(await query(driver, C10('Entity', Object.keys(props)), props), [{ id: 'c-10' }]);
      const { id, ...stored } = props;
      assert.deepEqual(await exec({ op: 'get_node', id: 'c-10' }), { id, label: 'Entity', properties: stored });

      await exec({ op: 'create_node', label: 'Procedure', id: 'c-11', properties: { steps: 3, name: 'p' } });
      for (const label of ['Procedure', undefined]) {
        assert.deepEqual(await query(driver, C11(label), { id: 'c-11' }),
          [{ data: { id: 'c-11', steps: 3, name: 'p' } }]);
      }
      // another label, or no such node: no record (the store's get_node answers None)
      assert.deepEqual(await query(driver, C11('Episode'), { id: 'c-11' }), []);
      assert.deepEqual(await query(driver, C11(undefined), { id: 'c-nobody' }), []);
    });
  });

test('C12 and C18 update what get_node shows; C13 deletes a node and its relationships (exec: not_found)',
  { timeout: TEST_LIMIT_MS }, async () => {
    await withDriver(async (driver) => {
      await nodes(['c-12', 'c-12-friend']);
      await exec({ op: 'create_relationship', source_id: 'c-12-friend', target_id: 'c-12', type: 'RELATES_TO' });
      await query(driver, C12('Entity', ['name', 'level']), { id: 'c-12', name: 'renamed', level: neo4j.int(7) });
      await query(driver, C18('mood'), { id: 'c-12', value: 'calm' });
      assert.deepEqual((await exec({ op: 'get_node', id: 'c-12' })).properties,
        { name: 'renamed', level: 7, mood: 'calm' });
      // a missing node: a silent no-op
      await query(driver, C12('Entity', ['name']), { id: 'c-nobody', name: 'x' });

      const { summary } = await driver.executeQuery(C13('Entity'), { id: 'c-12' });
      assert.equal(summary.counters.updates().nodesDeleted, 1);
      assert.equal(summary.counters.updates().relationshipsDeleted, 1);
      await assert.rejects(exec({ op: 'get_node', id: 'c-12' }), { code: 'not_found' });
      assert.deepEqual(await exec({ op: 'get_relationships', id: 'c-12-friend' }), []);
      // again, and without the label: nothing to delete, no error
      await query(driver, C13(undefined), { id: 'c-12' });
    });
  });

test('C25 creates a batch of nodes in one transaction that get_nodes shows', { timeout: TEST_LIMIT_MS },
  async () => {
    await withDriver(async (driver) => {
      const batch = [['Episode', { id: 'c-25-a', content: 'x', sessionId: 'c-s' }],
        ['Entity', { id: 'c-25-b', name: 'y' }], ['Procedure', { id: 'c-25-c', steps: 2 }]];
      const ids = await withSession(driver, async (session) => {
        const tx = await session.beginTransaction();
        const created = [];
        for (const [label, props] of batch) {
          const result = await tx.run(C25(label, Object.keys(props)), props);
          created.push(result.records[0].get('id'));
        }
        await tx.commit();
        return created;
      });
      assert.deepEqual(ids, ['c-25-a', 'c-25-b', 'c-25-c']);
      const got = await exec({ op: 'get_nodes', ids });
      assert.deepEqual(got.map((n) => [n.id, n.label]), [['c-25-a', 'Episode'], ['c-25-b', 'Entity'],
        ['c-25-c', 'Procedure']]);
      assert.deepEqual(got[2].properties, { steps: 2 });
    });
  });

// ---- C14–C17: relationships ----

test('C14 and C15 create relationships that get_relationships shows', { timeout: TEST_LIMIT_MS }, async () => {
  await withDriver(async (driver) => {
    await nodes(['c-14-a', 'c-14-b', 'c-14-c', 'c-14-d']);
    await query(driver, C14('USES', ['weight', 'note']),
      { source_id: 'c-14-a', target_id: 'c-14-b', weight: 0.3, note: 'n' });
    await query(driver, C14('PART_OF', []), { source_id: 'c-14-a', target_id: 'c-14-c' });
    // a missing end: a silent no-op
    await query(driver, C14('USES', []), { source_id: 'c-14-a', target_id: 'c-nobody' });
    const created = await withSession(driver, async (session) => {
      const tx = await session.beginTransaction();
      const result = await tx.run(C15('CAUSES'), {
        rels: [{ source_id: 'c-14-b', target_id: 'c-14-c', props: { weight: 0.9 } },
          { source_id: 'c-14-b', target_id: 'c-14-d', props: { weight: 0.1, why: 'w' } },
          { source_id: 'c-14-b', target_id: 'c-nobody', props: {} }],
      });
      await tx.commit();
      return num(result.records[0].get('created'));
    });
    assert.equal(created, 2);
    const out = (id) => exec({ op: 'get_relationships', id, direction: 'out' }).then((rels) =>
      rels.map((r) => [r.target_id, r.type, Object.fromEntries(Object.entries(r.properties)
        .filter(([k]) => k !== 'lastAccessed'))]).sort(sortBy((r) => r[0])));
    assert.deepEqual(await out('c-14-a'), [['c-14-b', 'USES', { weight: 0.3, note: 'n' }], ['c-14-c', 'PART_OF', {}]]);
    assert.deepEqual(await out('c-14-b'), [['c-14-c', 'CAUSES', { weight: 0.9 }],
      ['c-14-d', 'CAUSES', { weight: 0.1, why: 'w' }]]);
  });
});

test('C16 and C17 return what get_relationships and get_relationships_batch return, in every direction',
  { timeout: TEST_LIMIT_MS }, async () => {
    await withDriver(async (driver) => {
      await nodes(['c-16-hub', 'c-16-x', 'c-16-y', 'c-16-z']);
      await exec({ op: 'batch_create_relationships', relationships: [
        { source_id: 'c-16-hub', target_id: 'c-16-x', type: 'USES', properties: { weight: 0.5 } },
        { source_id: 'c-16-hub', target_id: 'c-16-y', type: 'REQUIRES', properties: { k: 'v' } },
        { source_id: 'c-16-z', target_id: 'c-16-hub', type: 'USES', properties: {} },
        { source_id: 'c-16-x', target_id: 'c-16-y', type: 'SIMILAR_TO', properties: {} },
      ] });
      const ids = ['c-16-hub', 'c-16-x', 'c-16-nobody'];
      for (const direction of ['out', 'in', 'both']) {
        for (const type of [undefined, 'USES']) {
          const expected = (await exec({ op: 'get_relationships', id: 'c-16-hub', direction, type }))
            .map((r) => {
              const outgoing = r.source_id === 'c-16-hub' && (direction !== 'in' || r.target_id === 'c-16-hub');
              return { rel_type: r.type, properties: r.properties, source_id: 'c-16-hub',
                other_id: outgoing ? r.target_id : r.source_id };
            }).sort(sortBy((r) => r.other_id + r.rel_type));
          const got = (await query(driver, C16(direction, type), { id: 'c-16-hub' })).map((r) => r.rel)
            .sort(sortBy((r) => r.other_id + r.rel_type));
          assert.deepEqual(got, expected, `C16 ${direction} ${type}`);

          const batch = await exec({ op: 'get_relationships_batch', ids, direction, type });
          const expectedBatch = ids.flatMap((id) => batch[id].map((r) => ({
            node_id: id, rel_type: r.type, rel_props: r.properties,
            other_id: r.source_id === id && (direction !== 'in' || r.target_id === id) ? r.target_id : r.source_id,
          }))).sort(sortBy((r) => r.node_id + r.other_id + r.rel_type));
          const gotBatch = (await query(driver, C17(direction, type), { ids }))
            .sort(sortBy((r) => r.node_id + r.other_id + r.rel_type));
          assert.deepEqual(gotBatch, expectedBatch, `C17 ${direction} ${type}`);
        }
      }
    });
  });

// ---- C20–C24: Hebbian decay and strengthening ----

test('C22 counts what count_stale_relationships counts; C20 lowers exactly those weights; C21 prunes them',
  { timeout: TEST_LIMIT_MS }, async () => {
    await withDriver(async (driver) => {
      const session = 'c-hebb-session';
      await nodes(['c-20-a', 'c-20-b', 'c-20-c', 'c-20-d'], 'Entity', { sessionId: session });
      await nodes(['c-20-other'], 'Entity', { sessionId: 'c-another-session' });
      const now = Date.now();
      const old = now - 40 * DAY_MS;
      await exec({ op: 'batch_create_relationships', relationships: [
        { source_id: 'c-20-a', target_id: 'c-20-b', type: 'USES', properties: { weight: 0.5, lastAccessed: old } },
        { source_id: 'c-20-a', target_id: 'c-20-c', type: 'USES', properties: { weight: 0.011, lastAccessed: old } },
        { source_id: 'c-20-b', target_id: 'c-20-c', type: 'CAUSES', properties: { weight: 0.005, lastAccessed: now } },
        { source_id: 'c-20-c', target_id: 'c-20-d', type: 'CAUSES', properties: { weight: 0.8, lastAccessed: old } },
        { source_id: 'c-20-other', target_id: 'c-20-d', type: 'USES', properties: { weight: 0.5, lastAccessed: old } },
      ] });
      const cutoff = now - 30 * DAY_MS; // engram's lastAccessed is epoch milliseconds
      const stale = await exec({ op: 'count_stale_relationships', stale_days: 30, session_id: session });
      assert.equal(stale, 3);
      assert.deepEqual(await query(driver, C22, { cutoff, session_id: session }), [{ count: stale }]);
      // session_id null: every session (at least this one's and the other one's)
      const all = await exec({ op: 'count_stale_relationships', stale_days: 30 });
      assert.deepEqual(await query(driver, C22, { cutoff, session_id: null }), [{ count: all }]);

      assert.deepEqual(await query(driver, C20, { cutoff, decay_rate: 0.1, session_id: session }), [{ decayed: 3 }]);
      const outWeights = async () => {
        const batch = await exec({ op: 'get_relationships_batch', ids: ['c-20-a', 'c-20-b', 'c-20-c', 'c-20-other'],
          direction: 'out' });
        return Object.fromEntries(Object.values(batch).flat().map((r) => [`${r.source_id}>${r.target_id}`,
          r.properties.weight]));
      };
      const decayed = await outWeights();
      assert.deepEqual(decayed, {
        'c-20-a>c-20-b': 0.5 * (1 - 0.1), 'c-20-a>c-20-c': 0.011 * (1 - 0.1), 'c-20-b>c-20-c': 0.005,
        'c-20-c>c-20-d': 0.8 * (1 - 0.1), 'c-20-other>c-20-d': 0.5,
      });

      assert.deepEqual(await query(driver, C21, { min_weight: 0.01, session_id: session }), [{ pruned: 2 }]);
      const pruned = await outWeights();
      assert.deepEqual(Object.keys(pruned).sort(), ['c-20-a>c-20-b', 'c-20-c>c-20-d', 'c-20-other>c-20-d']);
    });
  });

test('C23 and C24 strengthen as strengthen_relationship does, forward and in reverse', { timeout: TEST_LIMIT_MS },
  async () => {
    await withDriver(async (driver) => {
      await nodes(['c-23-a', 'c-23-b', 'c-23-c', 'c-23-d', 'c-23-e', 'c-23-f']);
      // the same edges twice: one pair strengthened by C23/C24 through Bolt, the other by exec
      await exec({ op: 'batch_create_relationships', relationships: [
        { source_id: 'c-23-a', target_id: 'c-23-b', type: 'USES', properties: { weight: 0.4 } },
        { source_id: 'c-23-c', target_id: 'c-23-d', type: 'USES', properties: { weight: 0.4 } },
        { source_id: 'c-23-b', target_id: 'c-23-e', type: 'RELATES_TO', properties: {} },
        { source_id: 'c-23-d', target_id: 'c-23-f', type: 'RELATES_TO', properties: {} },
      ] });
      const params = (source_id, target_id) => ({ source_id, target_id, lr: 0.1, now: new Date().toISOString() });
      for (let round = 1; round <= 2; round++) {
        const viaBolt = await query(driver, C23, params('c-23-a', 'c-23-b'));
        const viaExec = await exec({ op: 'strengthen_relationship', source_id: 'c-23-c', target_id: 'c-23-d',
          learning_rate: 0.1 });
        assert.equal(viaBolt.length, 1);
        assert.ok(Math.abs(viaBolt[0].new_weight - viaExec.weight) < 1e-12, `${viaBolt[0].new_weight} ${viaExec.weight}`);
        const [rel] = await exec({ op: 'get_relationships', id: 'c-23-a', direction: 'out' });
        assert.equal(rel.properties.weight, viaBolt[0].new_weight);
        assert.equal(rel.properties.coAccessCount, round);
      }
      // reverse: C23 finds nothing from e to b, so the store sends C24; exec strengthens the reverse edge itself
      assert.deepEqual(await query(driver, C23, params('c-23-e', 'c-23-b')), []);
      const reverse = await query(driver, C24, params('c-23-e', 'c-23-b'));
      const reverseExec = await exec({ op: 'strengthen_relationship', source_id: 'c-23-f', target_id: 'c-23-d',
        learning_rate: 0.1 });
      assert.equal(reverse.length, 1);
      assert.ok(Math.abs(reverse[0].new_weight - reverseExec.weight) < 1e-12);
      assert.ok(Math.abs(reverse[0].new_weight - (0.1 + 0.1 * 0.9)) < 1e-12); // no weight counts as 0.1
      const [rel] = await exec({ op: 'get_relationships', id: 'c-23-b', direction: 'out' });
      assert.equal(rel.properties.coAccessCount, 1);
      assert.equal(typeof rel.properties.lastCoAccess, 'string');
    });
  });

// ---- C26: paths ----

test('C26 returns the path find_path returns, for every depth bound', { timeout: TEST_LIMIT_MS }, async () => {
  await withDriver(async (driver) => {
    await nodes(['c-26-a', 'c-26-b'], 'Entity');
    await nodes(['c-26-c'], 'Episode');
    await nodes(['c-26-d', 'c-26-lonely'], 'Procedure');
    await exec({ op: 'batch_create_relationships', relationships: [
      { source_id: 'c-26-a', target_id: 'c-26-b', type: 'USES', properties: { weight: 0.2 } },
      { source_id: 'c-26-c', target_id: 'c-26-b', type: 'PART_OF', properties: {} },
      { source_id: 'c-26-c', target_id: 'c-26-d', type: 'SOURCE_OF', properties: { note: 'x' } },
    ] });
    for (let depth = 1; depth <= 4; depth++) {
      const expected = await exec({ op: 'find_path', source_id: 'c-26-a', target_id: 'c-26-d', max_depth: depth });
      const got = await query(driver, C26(depth), { source_id: 'c-26-a', target_id: 'c-26-d' });
      if (expected === null) {
        assert.deepEqual(got, [], `depth ${depth}`);
        continue;
      }
      assert.deepEqual(got, [{
        nodes: expected.nodes.map((n) => ({ id: n.id, labels: [n.label] })),
        relationships: expected.relationships.map((r) => ({ type: r.type, properties: r.properties })),
      }], `depth ${depth}`);
      assert.ok(depth >= 3);
    }
    assert.equal(await exec({ op: 'find_path', source_id: 'c-26-a', target_id: 'c-26-lonely', max_depth: 10 }), null);
    assert.deepEqual(await query(driver, C26(10), { source_id: 'c-26-a', target_id: 'c-26-lonely' }), []);
  });
});
