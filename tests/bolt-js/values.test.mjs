// values.test.mjs — values through the official Neo4j JavaScript driver against `engram serve --bolt` (run.sh):
// every parameter type round-tripping through `RETURN $x` (null, booleans, integers to the Int64 extremes, floats
// with -0.0, NaN and the infinities, strings with NUL and emoji, lists, maps, nesting, bytes, the temporal and
// spatial values as the driver sends them), parameters past the decoder's bounds refused clearly, and property
// values engram refuses; nodes, relationships and paths in
// results (labels, properties, identity, element ids, a shortestPath's segments); large results pulled in pages
// (`fetchSize` 1000: every record once, in order). Nodes here have ids starting "val-".
import assert from 'node:assert/strict';
import { test } from 'node:test';
import neo4j from 'neo4j-driver';
import { TEST_LIMIT_MS, failsWith, num, withDriver, withSession } from './common.mjs';

const { Date: CypherDate, DateTime, Duration, LocalDateTime, LocalTime, Point, Time } = neo4j.types;

async function roundTrip(driver, value) {
  const { records, keys } = await driver.executeQuery('RETURN $x AS y', { x: value });
  assert.deepEqual(keys, ['y']);
  assert.equal(records.length, 1);
  return records[0].get('y');
}

// Values that come back as the same JavaScript value (Object.is for numbers: -0 and NaN are themselves).
const SAME_VALUES = {
  null: null,
  true: true,
  false: false,
  'a small number (sent as a Float)': 42,
  'a fraction': 1.5,
  '-0.0': -0.0,
  NaN: NaN,
  Infinity: Infinity,
  '-Infinity': -Infinity,
  'the largest double': Number.MAX_VALUE,
  'the smallest subnormal': Number.MIN_VALUE,
  'an empty string': '',
  'a NUL character': '\u0000',
  'NUL inside text': 'a\u0000b',
  emoji: '🧠 engram 🦀',
  'text in several scripts': 'Grüße, 日本語, עברית',
  'a long string': 'x'.repeat(100000),
  'an empty list': [],
  'a list of mixed values': [1, 'two', true, null, 2.5],
  'an empty map': {},
  'a map': { a: 1, b: 'two', c: null },
  'nested lists and maps': { list: [[1, 2], { deep: { deeper: ['x', { deepest: true }] } }], empty: { l: [] } },
};

for (const [name, value] of Object.entries(SAME_VALUES)) {
  test(`RETURN $x gives back ${name}`, { timeout: TEST_LIMIT_MS }, async () => {
    await withDriver(async (driver) => {
      const back = await roundTrip(driver, value);
      if (typeof value === 'number') assert.ok(Object.is(back, value), `${back} is not ${value}`);
      else assert.deepEqual(back, value);
    });
  });
}

test('RETURN $x gives back Integers from the Int64 extremes through the marker boundaries', { timeout: TEST_LIMIT_MS },
  async () => {
    const texts = ['-9223372036854775808', '-9223372036854775807', '-2147483649', '-2147483648', '-32769', '-129',
      '-128', '-17', '-16', '-1', '0', '1', '127', '128', '32767', '32768', '2147483647', '2147483648',
      '9223372036854775806', '9223372036854775807'];
    await withDriver(async (driver) => {
      const back = await roundTrip(driver, texts.map((t) => neo4j.int(t)));
      assert.deepEqual(back.map((i) => (neo4j.isInt(i) ? i.toString() : `not an Integer: ${i}`)), texts);
      // and through arithmetic: Integers stay Integers, overflow is an error
      const { records } = await driver.executeQuery('RETURN $x - 1 AS y', { x: neo4j.int('-9223372036854775807') });
      assert.equal(records[0].get('y').toString(), '-9223372036854775808');
      await assert.rejects(driver.executeQuery('RETURN $x + 1 AS y', { x: neo4j.int('9223372036854775807') }),
        failsWith(/^Neo\.ClientError\.Statement\.ArithmeticError$/));
    });
  });

test('RETURN $x gives back bytes', { timeout: TEST_LIMIT_MS }, async () => {
  await withDriver(async (driver) => {
    for (const bytes of [new Int8Array([]), new Int8Array([0, 1, -1, 127, -128]), new Int8Array(70000).fill(-7)]) {
      const back = await roundTrip(driver, bytes);
      assert.ok(back instanceof Int8Array);
      assert.deepEqual(Array.from(back), Array.from(bytes));
    }
  });
});

// Temporal and spatial values: the driver's classes, whose fields decode as Integers (numbers where the driver
// was given numbers); they must come back of the same class with the same fields. A DateTime with a zone id is
// sent with its offset worked out by the driver; it comes back with it.
const STRUCTURES = {
  Date: new CypherDate(2024, 2, 29),
  'Date before the epoch': new CypherDate(1969, 7, 20),
  Time: new Time(23, 59, 58, 999999999, -5 * 3600),
  LocalTime: new LocalTime(0, 0, 0, 1),
  LocalDateTime: new LocalDateTime(2026, 12, 7, 22, 30, 15, 123456789),
  'DateTime with an offset': new DateTime(2026, 12, 7, 22, 30, 15, 5, 3600),
  'DateTime with a zone id': new DateTime(2024, 7, 1, 12, 0, 0, 0, undefined, 'Europe/Paris'),
  Duration: new Duration(14, 3, 3661, 500),
  'a negative Duration': new Duration(-1, -2, -3, -4),
  'a 2D cartesian Point': new Point(7203, 1.5, -2.5),
  'a 2D WGS-84 Point': new Point(4326, 13.4, 52.5),
  'a 3D cartesian Point': new Point(9157, 1, 2, 3),
  'a 3D WGS-84 Point': new Point(4979, 13.4, 52.5, 34.0),
};

// A structure's fields with Integers as numbers.
function fields(value) {
  return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, neo4j.isInt(v) ? v.toNumber() : v]));
}

for (const [name, value] of Object.entries(STRUCTURES)) {
  test(`RETURN $x gives back ${name}`, { timeout: TEST_LIMIT_MS }, async () => {
    await withDriver(async (driver) => {
      const back = await roundTrip(driver, value);
      assert.equal(back?.constructor, value.constructor);
      const expected = fields(value);
      if (value.timeZoneId) expected.timeZoneOffsetSeconds = 2 * 3600; // Paris in July
      assert.deepEqual(fields(back), expected);
    });
  });
}

test('structures inside lists and maps come back too', { timeout: TEST_LIMIT_MS }, async () => {
  await withDriver(async (driver) => {
    const value = { when: [new CypherDate(2020, 1, 1), new Duration(0, 1, 0, 0)], where: new Point(7203, 0, 0) };
    const back = await roundTrip(driver, value);
    assert.deepEqual(fields(back.when[0]), fields(value.when[0]));
    assert.deepEqual(fields(back.when[1]), fields(value.when[1]));
    assert.deepEqual(fields(back.where), fields(value.where));
  });
});

// A list nested `depth` deep around 1.
function nested(depth) {
  let value = 1;
  for (let i = 0; i < depth; i++) value = [value];
  return value;
}

test('parameters within the decoder\'s bounds come back; past them they are a clear InvalidFormat error',
  { timeout: TEST_LIMIT_MS }, async () => {
    await withDriver(async (driver) => {
      // docs/bolt.md: 32 levels in a message (the RUN structure and its parameter map count) and 1,048,576 values
      assert.deepEqual(await roundTrip(driver, nested(25)), nested(25));
      const many = Array.from({ length: 1000000 }, (_, i) => i % 100);
      const { records } = await driver.executeQuery('RETURN size($x) AS n, $x[999999] AS last', { x: many });
      assert.equal(num(records[0].get('n')), 1000000);
      assert.equal(records[0].get('last'), 99);
      await assert.rejects(roundTrip(driver, nested(40)),
        failsWith(/^Neo\.ClientError\.Request\.InvalidFormat$/, 'nested deeper than 32 levels'));
      await assert.rejects(roundTrip(driver, Array.from({ length: 1100000 }, () => 0)),
        failsWith(/^Neo\.ClientError\.Request\.InvalidFormat$/));
      // the driver opens a new connection and goes on
      assert.equal(await roundTrip(driver, 'after'), 'after');
    });
  });

test('a property value engram cannot store is a TypeError naming the property', { timeout: TEST_LIMIT_MS },
  async () => {
    await withDriver(async (driver) => {
      for (const [property, value] of [['when', new CypherDate(2024, 1, 1)], ['where', new Point(7203, 1, 2)],
        ['blob', new Int8Array([1])], ['nested', { a: 1 }], ['notANumber', NaN]]) {
        await assert.rejects(
          driver.executeQuery(`CREATE (n:Entity {id: "val-refused", ${property}: $v})`, { v: value }),
          failsWith(/^Neo\.ClientError\.Statement\.TypeError$/, property));
      }
      const { records } = await driver.executeQuery('MATCH (n {id: "val-refused"}) RETURN n');
      assert.equal(records.length, 0);
    });
  });

test('a node comes back with its label, properties (id too), identity and element id', { timeout: TEST_LIMIT_MS },
  async () => {
    await withDriver(async (driver) => {
      const { records } = await driver.executeQuery(
        'CREATE (n:Procedure {id: $id, steps: ["a", "b"], score: 0.5, runs: 3, ok: true}) ' +
        'RETURN n, id(n) AS identity, elementId(n) AS elementId, labels(n) AS labels',
        { id: 'val-node' });
      const node = records[0].get('n');
      assert.ok(node instanceof neo4j.types.Node);
      assert.deepEqual(node.labels, ['Procedure']);
      assert.deepEqual(records[0].get('labels'), ['Procedure']);
      assert.equal(node.properties.id, 'val-node');
      assert.deepEqual(node.properties.steps, ['a', 'b']);
      assert.equal(node.properties.score, 0.5);
      assert.equal(num(node.properties.runs), 3);
      assert.equal(node.properties.ok, true);
      assert.equal(node.elementId, 'val-node');
      assert.equal(records[0].get('elementId'), 'val-node');
      assert.ok(neo4j.isInt(node.identity) && node.identity.equals(records[0].get('identity')));
      assert.ok(node.identity.greaterThanOrEqual(0));
      // the same node read again has the same identity
      const again = await driver.executeQuery('MATCH (n {id: $id}) RETURN n', { id: 'val-node' });
      assert.ok(again.records[0].get('n').identity.equals(node.identity));
    });
  });

test('a relationship comes back with its type, properties and its ends', { timeout: TEST_LIMIT_MS }, async () => {
  await withDriver(async (driver) => {
    const { records } = await driver.executeQuery(
      'CREATE (a:Entity {id: "val-rel-a"}), (b:Episode {id: "val-rel-b"}), ' +
      '(a)-[r:DERIVED_FROM {weight: 0.75, note: "n"}]->(b) ' +
      'RETURN a, b, r, type(r) AS type, elementId(r) AS elementId, startNode(r) AS s, endNode(r) AS e');
    const [a, b, r] = ['a', 'b', 'r'].map((k) => records[0].get(k));
    assert.ok(r instanceof neo4j.types.Relationship);
    assert.equal(r.type, 'DERIVED_FROM');
    assert.equal(records[0].get('type'), 'DERIVED_FROM');
    assert.equal(r.properties.weight, 0.75);
    assert.equal(r.properties.note, 'n');
    assert.equal(r.startNodeElementId, a.elementId);
    assert.equal(r.endNodeElementId, b.elementId);
    assert.ok(r.start.equals(a.identity) && r.end.equals(b.identity));
    assert.equal(r.elementId, records[0].get('elementId'));
    assert.equal(records[0].get('s').elementId, 'val-rel-a');
    assert.equal(records[0].get('e').elementId, 'val-rel-b');
    // read back from either end
    const incoming = await driver.executeQuery('MATCH (b {id: "val-rel-b"})<-[r]-(a) RETURN r, a.id AS a');
    assert.equal(incoming.records.length, 1);
    assert.equal(incoming.records[0].get('r').elementId, r.elementId);
    assert.equal(incoming.records[0].get('a'), 'val-rel-a');
  });
});

test('a shortestPath comes back as a Path whose segments follow it, whatever each relationship\'s direction',
  { timeout: TEST_LIMIT_MS }, async () => {
    await withDriver(async (driver) => {
      // val-p1 -> val-p2 <- val-p3 -> val-p4, and a longer way round val-p1 -> val-p5 -> val-p6 -> val-p4
      await driver.executeQuery(
        'UNWIND range(1, 6) AS i CREATE (:Entity {id: "val-p" + toString(i), i: i})');
      await driver.executeQuery(
        'UNWIND $links AS l MATCH (a {id: l[0]}), (b {id: l[1]}) CREATE (a)-[:RELATES_TO]->(b)',
        { links: [['val-p1', 'val-p2'], ['val-p3', 'val-p2'], ['val-p3', 'val-p4'], ['val-p1', 'val-p5'],
          ['val-p5', 'val-p6'], ['val-p6', 'val-p7-missing']] });
      const { records } = await driver.executeQuery(
        'MATCH p = shortestPath((a {id: $from})-[*..5]-(b {id: $to})) RETURN p, length(p) AS length, ' +
        '[n IN nodes(p) | n.id] AS ids',
        { from: 'val-p1', to: 'val-p4' });
      assert.equal(records.length, 1);
      const path = records[0].get('p');
      assert.ok(path instanceof neo4j.types.Path);
      assert.equal(path.length, 3);
      assert.equal(num(records[0].get('length')), 3);
      assert.deepEqual(records[0].get('ids'), ['val-p1', 'val-p2', 'val-p3', 'val-p4']);
      assert.equal(path.start.elementId, 'val-p1');
      assert.equal(path.end.elementId, 'val-p4');
      const segments = path.segments.map((s) => [s.start.elementId, s.relationship.startNodeElementId,
        s.relationship.endNodeElementId, s.end.elementId, s.relationship.type]);
      assert.deepEqual(segments, [
        ['val-p1', 'val-p1', 'val-p2', 'val-p2', 'RELATES_TO'],
        ['val-p2', 'val-p3', 'val-p2', 'val-p3', 'RELATES_TO'], // walked against its direction
        ['val-p3', 'val-p3', 'val-p4', 'val-p4', 'RELATES_TO'],
      ]);
      assert.equal(num(path.segments[0].start.properties.i), 1);
      // no path within the bound: no row
      const none = await driver.executeQuery(
        'MATCH p = shortestPath((a {id: $from})-[*..2]-(b {id: $to})) RETURN p', { from: 'val-p1', to: 'val-p4' });
      assert.equal(none.records.length, 0);
    });
  });

// Streams `statement` in a session with fetchSize 1000 (so the server answers PULL n=1000 with has_more) and
// returns the column's values in arrival order.
async function streamColumn(driver, statement, column) {
  return withSession(driver, async (session) => {
    const values = [];
    for await (const record of session.run(statement)) values.push(num(record.get(column)));
    return values;
  }, { fetchSize: 1000 });
}

test('UNWIND range(1, 20000) arrives in pages of 1000, every record once, in order', { timeout: TEST_LIMIT_MS },
  async () => {
    await withDriver(async (driver) => {
      const values = await streamColumn(driver, 'UNWIND range(1, 20000) AS i RETURN i', 'i');
      assert.equal(values.length, 20000);
      assert.ok(values.every((v, k) => v === k + 1));
    });
  });

test('5,000 created nodes read back in pages of 1000, every one once, in order', { timeout: TEST_LIMIT_MS },
  async () => {
    await withDriver(async (driver) => {
      const { summary } = await driver.executeQuery(
        'UNWIND range(1, 5000) AS i CREATE (:Episode {id: "val-page-" + toString(i), i: i})');
      assert.equal(summary.counters.updates().nodesCreated, 5000);
      const values = await streamColumn(driver,
        'MATCH (n:Episode) WHERE n.id STARTS WITH "val-page-" RETURN n.i AS i ORDER BY i', 'i');
      assert.equal(values.length, 5000);
      assert.ok(values.every((v, k) => v === k + 1));
    });
  });
