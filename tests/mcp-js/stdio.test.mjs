// stdio.test.mjs — `engram mcp --data DIR` launched by the official SDK's StdioClientTransport, each test on a data
// folder of its own: the checks of tools.mjs, version negotiation spoken by hand, engram's answer where it
// deliberately differs from the reference, and a server killed with SIGKILL between calls, which must lose nothing
// it answered.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { once } from 'node:events';
import { SUPPORTED_PROTOCOL_VERSIONS } from '@modelcontextprotocol/sdk/types.js';
import { ENGRAM, TEST_LIMIT_MS, close, engramStdio, ok, scratch } from './common.mjs';
import { callsEveryTool, callsInParallel, failsAsTools, handshake, listsTools } from './tools.mjs';

// A test body given a fresh `engram mcp` on a folder of its own; the server's stderr is shown if the body fails.
function withEngram(name, body) {
  test(name, { timeout: TEST_LIMIT_MS }, async () => {
    const connection = await engramStdio(['--data', scratch('stdio')]);
    try {
      await body(connection);
    } catch (error) {
      error.message += `\nengram mcp's stderr:\n${connection.stderr()}`;
      throw error;
    } finally {
      await close(connection);
    }
  });
}

withEngram('the handshake', handshake);
withEngram('tools/list: every tool, every schema valid JSON Schema', listsTools);
withEngram('every tool', (connection) => callsEveryTool(connection, 'stdio'));
withEngram('failures are tool failures', failsAsTools);
withEngram('50 calls at once', (connection) => callsInParallel(connection, 'stdio'));

// The same name twice in one create_entities call: the reference would hold two entities of that name; engram
// keeps the first and answers only it (docs/mcp.md, "Where engram differs").
withEngram('a name twice in one create_entities call is created once', async ({ client }) => {
  const twice = [{ name: 'Twin', entityType: 'first', observations: [] },
    { name: 'Twin', entityType: 'second', observations: ['x'] }];
  assert.deepEqual(await ok(client, 'create_entities', { entities: twice }), { entities: [twice[0]] });
  assert.deepEqual((await ok(client, 'read_graph')).entities, [twice[0]]);
});

// Version negotiation, which the SDK's client does not let one choose: the raw newline-delimited JSON-RPC.
test('initialize answers the client\'s revision when it speaks it, else its newest', { timeout: TEST_LIMIT_MS },
  async () => {
    const server = spawn(ENGRAM, ['mcp', '--data', scratch('negotiate')], { stdio: ['pipe', 'pipe', 'inherit'] });
    const lines = createInterface({ input: server.stdout })[Symbol.asyncIterator]();
    // The next line the server writes, as JSON; within 5 s, so that a request left unanswered fails here.
    const answer = async () => {
      const { value } = await Promise.race([lines.next(), new Promise((_, reject) => setTimeout(
        () => reject(new Error('no answer within 5 s')), 5000).unref())]);
      return JSON.parse(value);
    };
    const exchange = (message) => {
      server.stdin.write(`${JSON.stringify(message)}\n`);
      return answer();
    };
    try {
      const initialize = (id, protocolVersion) => exchange({
        jsonrpc: '2.0', id, method: 'initialize',
        params: { protocolVersion, capabilities: {}, clientInfo: { name: 'raw', version: '0' } },
      });
      for (const [id, version] of SUPPORTED_PROTOCOL_VERSIONS.slice(0, 4).entries()) {
        const answer = await initialize(id, version);
        assert.equal(answer.id, id);
        assert.equal(answer.result.protocolVersion, version);
      }
      const unknown = await initialize(10, '1999-01-01');
      assert.equal(unknown.result.protocolVersion, SUPPORTED_PROTOCOL_VERSIONS[0]);
      // Text that is not JSON is a parse error with a null id; the session goes on.
      server.stdin.write('{not json\n');
      const parse = await answer();
      assert.equal(parse.error.code, -32700);
      assert.equal(parse.id, null);
      assert.deepEqual(await exchange({ jsonrpc: '2.0', id: 11, method: 'ping' }), { jsonrpc: '2.0', id: 11, result: {} });
      // The end of its input ends the server, with status 0.
      server.stdin.end();
      const [code] = await once(server, 'exit');
      assert.equal(code, 0);
    } finally {
      server.kill('SIGKILL');
    }
  });

// kill -9 between calls: everything answered before is there when the server starts again on the same folder. The
// last call is sent without waiting and the server killed at once: it may or may not be there, but nothing of it
// may be half there.
test('killed with SIGKILL, the server loses nothing it answered', { timeout: TEST_LIMIT_MS }, async () => {
  const data = scratch('crash');
  const graph = { entities: [], relations: [] };
  const first = await engramStdio(['--data', data]);
  let inFlight;
  try {
    for (let i = 0; i < 40; i++) {
      const entity = { name: `crash ${i} ✓`, entityType: 'crash', observations: [`made ${i}`] };
      await ok(first.client, 'create_entities', { entities: [entity] });
      graph.entities.push(entity);
      if (i > 0) {
        const relation = { from: `crash ${i - 1} ✓`, to: entity.name, relationType: 'precedes' };
        await ok(first.client, 'create_relations', { relations: [relation] });
        graph.relations.push(relation);
      }
      if (i % 5 === 0) {
        await ok(first.client, 'add_observations', { observations: [{ entityName: entity.name, contents: ['more'] }] });
        entity.observations.push('more');
      }
    }
    await ok(first.client, 'delete_entities', { entityNames: ['crash 0 ✓'] });
    graph.entities.shift();
    graph.relations.shift();
    inFlight = { name: 'in flight', entityType: 'crash', observations: ['maybe'] };
    first.client.callTool({ name: 'create_entities', arguments: { entities: [inFlight] } }).catch(() => {});
    process.kill(first.transport.pid, 'SIGKILL');
  } finally {
    await close(first);
  }
  const second = await engramStdio(['--data', data]);
  try {
    const after = await ok(second.client, 'read_graph');
    const landed = after.entities.filter((entity) => entity.name === inFlight.name);
    if (landed.length > 0) assert.deepEqual(landed, [inFlight]);
    after.entities = after.entities.filter((entity) => entity.name !== inFlight.name);
    const byName = (x, y) => (x.name < y.name ? -1 : 1);
    const byEnds = (x, y) => (x.from < y.from ? -1 : 1);
    assert.deepEqual(after.entities.sort(byName), graph.entities.sort(byName));
    assert.deepEqual(after.relations.sort(byEnds), graph.relations.sort(byEnds));
  } finally {
    await close(second);
  }
});
