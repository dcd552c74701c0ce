// schema.test.mjs — graph.schema through the official Neo4j JavaScript driver: the server run.sh starts with the
// default schema, t4dm, refuses the labels and relationship types the original system's callers use outside its
// vocabulary (`Contact`, `CalendarEvent`, `KNOWS`) with a Neo.ClientError.Statement.* code naming them, reads and
// writes alike; the server started with `--set graph.schema=open` (ENGRAM_BOLT_OPEN_URL) runs the caller queries of
// the storage inventory's §1.4 on them. Those texts are copied here verbatim (with their optional parts as the
// callers fill them).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import neo4j from 'neo4j-driver';
import { OPEN_ADDRESS, TEST_LIMIT_MS, failsWith, num, withDriver } from './common.mjs';

// integrations/google_workspace.py
const CONTACT_SEARCH = 'MATCH (c:Contact) WHERE toLower(c.name) CONTAINS toLower($query) OR ' +
  'toLower(c.organization) CONTAINS toLower($query) RETURN c LIMIT $limit';
const EVENT_SEARCH = (start, end) => 'MATCH (e:CalendarEvent) WHERE toLower(e.title) CONTAINS toLower($query)' +
  (start ? ' AND e.start >= datetime($start)' : '') + (end ? ' AND e.start <= datetime($end)' : '') +
  ' RETURN e ORDER BY e.start LIMIT $limit';
// learning/neuro_symbolic.py (values inlined by the caller)
const MERGE_PREDICATE = (s, o, predicate, props) =>
  `MATCH (a {id: '${s}'}), (b {id: '${o}'}) MERGE (a)-[r:${predicate} ${props}]->(b)`;
// observability/health.py
const HEALTH = 'RETURN 1 as n';

test('graph.schema t4dm: Contact, CalendarEvent and KNOWS are refused, naming them', { timeout: TEST_LIMIT_MS },
  async () => {
    await withDriver(async (driver) => {
      const refused = /^Neo\.ClientError\.Statement\./;
      await assert.rejects(driver.executeQuery('CREATE (c:Contact {id: "schema-c1", name: "Ada"})'),
        failsWith(refused, 'Contact'));
      await assert.rejects(driver.executeQuery(CONTACT_SEARCH, { query: 'ada', limit: neo4j.int(10) }),
        failsWith(refused, 'Contact'));
      await assert.rejects(driver.executeQuery(EVENT_SEARCH(false, false), { query: 'x', limit: neo4j.int(10) }),
        failsWith(refused, 'CalendarEvent'));
      await driver.executeQuery('CREATE (:Entity {id: "schema-e1"}), (:Entity {id: "schema-e2"})');
      await assert.rejects(driver.executeQuery(MERGE_PREDICATE('schema-e1', 'schema-e2', 'KNOWS', '{since: 2020}')),
        failsWith(refused, 'KNOWS'));
      // the original vocabulary is served
      const { summary } = await driver.executeQuery(
        MERGE_PREDICATE('schema-e1', 'schema-e2', 'RELATES_TO', '{since: 2020}'));
      assert.equal(summary.counters.updates().relationshipsCreated, 1);
      assert.equal(num((await driver.executeQuery(HEALTH)).records[0].get('n')), 1);
    });
  });

test('graph.schema open: the §1.4 caller queries run on Contact, CalendarEvent and their own types',
  { timeout: TEST_LIMIT_MS }, async () => {
    await withDriver(async (driver) => {
      await driver.executeQuery(
        'UNWIND $contacts AS c CREATE (:Contact {id: c.id, name: c.name, organization: c.organization})',
        { contacts: [{ id: 'contact-1', name: 'Ada Lovelace', organization: 'Analytical Engines' },
          { id: 'contact-2', name: 'Charles Babbage', organization: 'Cambridge' },
          { id: 'contact-3', name: 'Grace Hopper', organization: 'US Navy' }] });
      const byName = await driver.executeQuery(CONTACT_SEARCH, { query: 'LOVE', limit: neo4j.int(10) });
      assert.deepEqual(byName.records.map((r) => r.get('c').properties.id), ['contact-1']);
      assert.deepEqual(byName.records[0].get('c').labels, ['Contact']);
      const byOrganization = await driver.executeQuery(CONTACT_SEARCH, { query: 'navy', limit: neo4j.int(10) });
      assert.deepEqual(byOrganization.records.map((r) => r.get('c').properties.name), ['Grace Hopper']);
      const limited = await driver.executeQuery(CONTACT_SEARCH, { query: 'a', limit: neo4j.int(2) });
      assert.equal(limited.records.length, 2);

      await driver.executeQuery(
        'UNWIND $events AS e CREATE (:CalendarEvent {id: e.id, title: e.title, start: e.start})',
        { events: [{ id: 'event-1', title: 'Storage review', start: '2026-12-09T10:00:00Z' },
          { id: 'event-2', title: 'storage planning', start: '2026-12-08T09:00:00Z' },
          { id: 'event-3', title: 'Lunch', start: '2026-12-08T12:00:00Z' }] });
      const events = await driver.executeQuery(EVENT_SEARCH(false, false), { query: 'STORAGE', limit: neo4j.int(10) });
      assert.deepEqual(events.records.map((r) => r.get('e').properties.id), ['event-2', 'event-1']);
      // datetime() is not served: a clear refusal naming it
      await assert.rejects(driver.executeQuery(EVENT_SEARCH(true, true),
        { query: 'storage', start: '2026-12-08T00:00:00Z', end: '2026-12-10T00:00:00Z', limit: neo4j.int(10) }),
      failsWith(/^Neo\.ClientError\.Statement\./, 'datetime'));

      await driver.executeQuery(MERGE_PREDICATE('contact-1', 'contact-2', 'CORRESPONDED_WITH', '{letters: 12}'));
      await driver.executeQuery(MERGE_PREDICATE('contact-1', 'contact-2', 'CORRESPONDED_WITH', '{letters: 12}'));
      const { records } = await driver.executeQuery(
        'MATCH (a:Contact)-[r]->(b) RETURN a.id AS a, type(r) AS t, r.letters AS letters, b.id AS b');
      assert.deepEqual(records.map((r) => [r.get('a'), r.get('t'), num(r.get('letters')), r.get('b')]),
        [['contact-1', 'CORRESPONDED_WITH', 12, 'contact-2']]);
      assert.equal(num((await driver.executeQuery(HEALTH)).records[0].get('n')), 1);
    }, { address: OPEN_ADDRESS });
  });
