// transactions.test.mjs — Cypher writes through the official Neo4j JavaScript driver against `engram serve --bolt`
// (run.sh): auto-commit statements, explicit transactions committed (visible to another session only after),
// rolled back (gone), and failing midway (nothing of them kept, the session usable after), managed transactions
// (executeWrite / executeRead), a write's bookmark passed to a new session, 8 sessions writing and reading at once
// (the final counts exact), and writes and reads routed through neo4j://. Nodes here have ids starting "tx-".
import assert from 'node:assert/strict';
import { test } from 'node:test';
import neo4j from 'neo4j-driver';
import { TEST_LIMIT_MS, failsWith, num, withDriver, withSession } from './common.mjs';

const CREATE = 'CREATE (n:Entity {id: $id, name: $name}) RETURN n.id AS id';
const COUNT_PREFIX = 'MATCH (n:Entity) WHERE n.id STARTS WITH $prefix RETURN count(n) AS n';

async function countWithPrefix(driver, prefix) {
  const { records } = await driver.executeQuery(COUNT_PREFIX, { prefix }, { routing: neo4j.routing.READ });
  return num(records[0].get('n'));
}

test('an auto-commit CREATE reports its counters and another session reads it', { timeout: TEST_LIMIT_MS },
  async () => {
    await withDriver(async (driver) => {
      const summary = await withSession(driver, async (session) => {
        const result = await session.run(CREATE, { id: 'tx-auto', name: 'auto' });
        assert.equal(result.records[0].get('id'), 'tx-auto');
        return result.summary;
      });
      assert.equal(summary.queryType, 'rw');
      assert.equal(summary.counters.updates().nodesCreated, 1);
      assert.equal(summary.counters.updates().labelsAdded, 1);
      assert.equal(summary.counters.updates().propertiesSet, 2);
      assert.equal(summary.counters.containsUpdates(), true);
      await withSession(driver, async (session) => {
        const { records } = await session.run('MATCH (n {id: $id}) RETURN n.name AS name', { id: 'tx-auto' });
        assert.deepEqual(records.map((r) => r.get('name')), ['auto']);
      });
    });
  });

test('an explicit transaction is seen by another session only once committed', { timeout: TEST_LIMIT_MS },
  async () => {
    await withDriver(async (driver) => {
      await withSession(driver, async (writer) => {
        const tx = await writer.beginTransaction();
        await tx.run(CREATE, { id: 'tx-commit-1', name: 'one' });
        await tx.run(CREATE, { id: 'tx-commit-2', name: 'two' });
        // inside the transaction its writes are visible
        const inside = await tx.run(COUNT_PREFIX, { prefix: 'tx-commit-' });
        assert.equal(num(inside.records[0].get('n')), 2);
        assert.equal(await countWithPrefix(driver, 'tx-commit-'), 0);
        await tx.commit();
      });
      assert.equal(await countWithPrefix(driver, 'tx-commit-'), 2);
    });
  });

test('a rolled back transaction leaves nothing', { timeout: TEST_LIMIT_MS }, async () => {
  await withDriver(async (driver) => {
    await withSession(driver, async (session) => {
      const tx = await session.beginTransaction();
      await tx.run(CREATE, { id: 'tx-rollback-1', name: 'gone' });
      await tx.run('MATCH (n {id: $id}) SET n.more = 1', { id: 'tx-rollback-1' });
      await tx.rollback();
      const { records } = await session.run('MATCH (n {id: $id}) RETURN n', { id: 'tx-rollback-1' });
      assert.equal(records.length, 0);
    });
    assert.equal(await countWithPrefix(driver, 'tx-rollback-'), 0);
  });
});

test('an error mid-transaction fails it, keeps nothing of it, and the session goes on', { timeout: TEST_LIMIT_MS },
  async () => {
    await withDriver(async (driver) => {
      await withSession(driver, async (session) => {
        await session.run(CREATE, { id: 'tx-error-existing', name: 'before' });
        const tx = await session.beginTransaction();
        await tx.run(CREATE, { id: 'tx-error-new', name: 'in the failed transaction' });
        await tx.run('MATCH (n {id: $id}) SET n.name = $name', { id: 'tx-error-existing', name: 'changed' });
        // the id exists: Neo4j's uniqueness constraint failure
        await assert.rejects(tx.run(CREATE, { id: 'tx-error-existing', name: 'again' }),
          failsWith(/^Neo\.ClientError\.Schema\.ConstraintValidationFailed$/));
        await assert.rejects(tx.commit());
        await tx.close();
        const { records } = await session.run(
          'MATCH (n:Entity) WHERE n.id STARTS WITH "tx-error-" RETURN n.id AS id, n.name AS name ORDER BY id');
        assert.deepEqual(records.map((r) => [r.get('id'), r.get('name')]), [['tx-error-existing', 'before']]);
      });
    });
  });

test('an error in the middle of an auto-commit statement keeps nothing of it', { timeout: TEST_LIMIT_MS },
  async () => {
    await withDriver(async (driver) => {
      await assert.rejects(
        driver.executeQuery('UNWIND [1, 2, 0, 4] AS i CREATE (n:Entity {id: "tx-unwind-" + toString(i), r: 10 / i})'),
        failsWith(/^Neo\.ClientError\.Statement\.ArithmeticError$/));
      assert.equal(await countWithPrefix(driver, 'tx-unwind-'), 0);
    });
  });

test('executeWrite and executeRead run managed transactions', { timeout: TEST_LIMIT_MS }, async () => {
  await withDriver(async (driver) => {
    await withSession(driver, async (session) => {
      const created = await session.executeWrite(async (tx) => {
        await tx.run(CREATE, { id: 'tx-managed-a', name: 'a' });
        await tx.run(CREATE, { id: 'tx-managed-b', name: 'b' });
        const result = await tx.run(
          'MATCH (a {id: $a}), (b {id: $b}) CREATE (a)-[r:RELATES_TO {weight: 0.25}]->(b) RETURN type(r) AS t',
          { a: 'tx-managed-a', b: 'tx-managed-b' });
        return result.records[0].get('t');
      });
      assert.equal(created, 'RELATES_TO');
      const read = await session.executeRead(async (tx) => {
        const result = await tx.run('MATCH (a {id: $a})-[r]->(b) RETURN b.id AS b, r.weight AS w', { a: 'tx-managed-a' });
        return result.records.map((r) => [r.get('b'), r.get('w')]);
      });
      assert.deepEqual(read, [['tx-managed-b', 0.25]]);
      // a managed transaction whose work throws is rolled back
      await assert.rejects(session.executeWrite(async (tx) => {
        await tx.run(CREATE, { id: 'tx-managed-thrown', name: 'x' });
        throw new Error('the application gives up');
      }), /the application gives up/);
    });
    assert.equal(await countWithPrefix(driver, 'tx-managed-'), 2);
  });
});

test("a write's bookmark passed to a new session: its read sees the write", { timeout: TEST_LIMIT_MS },
  async () => {
    await withDriver(async (driver) => {
      const bookmarks = await withSession(driver, async (session) => {
        await session.executeWrite((tx) => tx.run(CREATE, { id: 'tx-bookmark', name: 'marked' }));
        return session.lastBookmarks();
      });
      assert.equal(bookmarks.length, 1);
      assert.match(bookmarks[0], /^engram:[0-9]+$/);
      const name = await withSession(driver, (session) => session.executeRead(async (tx) => {
        const result = await tx.run('MATCH (n {id: $id}) RETURN n.name AS name', { id: 'tx-bookmark' });
        return result.records[0].get('name');
      }), { bookmarks, defaultAccessMode: neo4j.session.READ });
      assert.equal(name, 'marked');
    });
  });

test('8 sessions write and read at once; the counts are exact', { timeout: TEST_LIMIT_MS }, async () => {
  const SESSIONS = 8;
  const NODES_EACH = 40;
  await withDriver(async (driver) => {
    const seen = await Promise.all(Array.from({ length: SESSIONS }, (_, s) => withSession(driver, async (session) => {
      const counts = [];
      for (let i = 0; i < NODES_EACH; i++) {
        const id = `tx-concurrent-${s}-${i}`;
        if (i % 2 === 0) {
          await session.run(CREATE, { id, name: `s${s}` });
        } else {
          await session.executeWrite((tx) => tx.run(CREATE, { id, name: `s${s}` }));
        }
        const { records } = await session.run(
          'MATCH (n:Entity) WHERE n.name = $name AND n.id STARTS WITH "tx-concurrent-" RETURN count(n) AS n',
          { name: `s${s}` });
        counts.push(num(records[0].get('n')));
      }
      return counts;
    })));
    // each session reads its own writes, one more after each
    for (const counts of seen) assert.deepEqual(counts, Array.from({ length: NODES_EACH }, (_, i) => i + 1));
    assert.equal(await countWithPrefix(driver, 'tx-concurrent-'), SESSIONS * NODES_EACH);
  });
});

test('through neo4j:// (routing) a write goes to the writer and a READ-routed query sees it', { timeout: TEST_LIMIT_MS },
  async () => {
    await withDriver(async (driver) => {
      await driver.executeQuery(CREATE, { id: 'tx-routed', name: 'routed' }, { routing: neo4j.routing.WRITE });
      const { records } = await driver.executeQuery('MATCH (n {id: $id}) RETURN n.name AS name', { id: 'tx-routed' },
        { routing: neo4j.routing.READ });
      assert.deepEqual(records.map((r) => r.get('name')), ['routed']);
      await withSession(driver, async (session) => {
        await session.executeWrite((tx) => tx.run('MATCH (n {id: $id}) SET n.name = $name', { id: 'tx-routed',
          name: 'renamed' }));
        const name = await session.executeRead(async (tx) =>
          (await tx.run('MATCH (n {id: $id}) RETURN n.name AS name', { id: 'tx-routed' })).records[0].get('name'));
        assert.equal(name, 'renamed');
      });
    }, { scheme: 'neo4j' });
  });
