// tools.mjs — checks that stdio.test.mjs and http.test.mjs both run, each over its own transport: the handshake,
// the tool list with every schema compiled, every tool called, tool failures, and calls in parallel. `open()`
// returns a fresh connection ({ client, received }); `prefix` keeps a file's entities apart from the others' on a
// shared server.
import assert from 'node:assert/strict';
import { LATEST_PROTOCOL_VERSION } from '@modelcontextprotocol/sdk/types.js';
import { call, compileSchema, fails, ok, sortedGraph } from './common.mjs';

const TOOLS = ['create_entities', 'create_relations', 'add_observations', 'delete_entities',
  'delete_observations', 'delete_relations', 'read_graph', 'search_nodes', 'open_nodes',
  'remember', 'recall', 'forget', 'relate', 'find_path', 'archive', 'restore', 'health'];

export async function handshake(connection) {
  // The first message the server sent is the initialize result: the SDK asks for its newest revision, which the
  // server speaks, so it is answered with that one.
  const initialize = connection.received[0].result;
  assert.equal(initialize.protocolVersion, LATEST_PROTOCOL_VERSION);
  assert.equal(typeof initialize.serverInfo.name, 'string');
  assert.equal(typeof initialize.serverInfo.version, 'string');
  assert.ok(initialize.capabilities.tools, 'no tools capability');
  assert.deepEqual(await connection.client.ping({ timeout: 5000 }), {});
}

export async function listsTools(connection) {
  const { tools } = await connection.client.listTools();
  assert.deepEqual(tools.map((tool) => tool.name), TOOLS);
  for (const tool of tools) {
    assert.equal(typeof tool.description, 'string', tool.name);
    assert.equal(tool.inputSchema.type, 'object', `${tool.name}: tools take an object`);
    assert.doesNotThrow(() => compileSchema(tool.inputSchema), `${tool.name}'s inputSchema`);
    assert.ok(tool.outputSchema, `${tool.name} has no outputSchema`);
    assert.equal(tool.outputSchema.type, 'object', `${tool.name}: structured content is an object`);
    assert.doesNotThrow(() => compileSchema(tool.outputSchema), `${tool.name}'s outputSchema`);
    for (const hint of ['readOnlyHint', 'destructiveHint', 'idempotentHint', 'openWorldHint']) {
      assert.equal(typeof tool.annotations[hint], 'boolean', `${tool.name}.annotations.${hint}`);
    }
  }
  // Each tool's arguments as the calls below give them validate against its input schema.
  for (const [name, args] of Object.entries(SAMPLE_ARGUMENTS)) {
    const validate = compileSchema(tools.find((tool) => tool.name === name).inputSchema);
    assert.ok(validate(args), `${name} ${JSON.stringify(args)}: ${JSON.stringify(validate.errors)}`);
  }
}

const SAMPLE_ARGUMENTS = {
  create_entities: { entities: [{ name: 'n', entityType: 't', observations: ['o'] }] },
  create_relations: { relations: [{ from: 'a', to: 'b', relationType: 'r' }] },
  add_observations: { observations: [{ entityName: 'n', contents: ['o'] }] },
  delete_entities: { entityNames: ['n'] },
  delete_observations: { deletions: [{ entityName: 'n', observations: ['o'] }] },
  delete_relations: { relations: [{ from: 'a', to: 'b', relationType: 'r' }] },
  read_graph: {},
  search_nodes: { query: 'q' },
  open_nodes: { names: ['n'] },
  remember: { text: 't', type: 'entity', session: 's', relations: [{ target: 'x', type: 'RELATES_TO' }] },
  recall: { text: 't', limit: 5, expand: 1 },
  forget: { id: 'x' },
  relate: { source: 'a', target: 'b', type: 'CAUSES' },
  find_path: { source: 'a', target: 'b', max_depth: 2, types: ['CAUSES'] },
  archive: { id: 'x' },
  restore: { id: 'x' },
  health: {},
};

// Every tool once, in an order where each finds what the earlier ones made. The client checks each answer's
// structured content against the tool's output schema (it has listed the tools).
export async function callsEveryTool(connection, prefix) {
  const mcp = connection.client;
  await mcp.listTools();
  const a = `${prefix} Ada`;
  const b = `${prefix} Bea`;
  assert.deepEqual(await ok(mcp, 'create_entities', {
    entities: [{ name: a, entityType: 'person', observations: ['wrote notes'] },
      { name: b, entityType: 'person', observations: [] }],
  }), { entities: [{ name: a, entityType: 'person', observations: ['wrote notes'] },
    { name: b, entityType: 'person', observations: [] }] });
  assert.deepEqual(await ok(mcp, 'create_relations', { relations: [{ from: a, to: b, relationType: 'mentors' }] }),
    { relations: [{ from: a, to: b, relationType: 'mentors' }] });
  assert.deepEqual(await ok(mcp, 'add_observations', { observations: [{ entityName: b, contents: ['learns'] }] }),
    { results: [{ entityName: b, addedObservations: ['learns'] }] });
  const both = {
    entities: [{ name: a, entityType: 'person', observations: ['wrote notes'] },
      { name: b, entityType: 'person', observations: ['learns'] }],
    relations: [{ from: a, to: b, relationType: 'mentors' }],
  };
  assert.deepEqual(sortedGraph(await ok(mcp, 'open_nodes', { names: [a, b] })), sortedGraph(both));
  assert.deepEqual(sortedGraph(await ok(mcp, 'search_nodes', { query: prefix.toUpperCase() })), sortedGraph(both));
  const graph = await ok(mcp, 'read_graph');
  assert.ok(graph.entities.some((entity) => entity.name === a) && graph.relations.length >= 1);
  const deleted = (message) => ({ success: true, message });
  assert.deepEqual(await ok(mcp, 'delete_observations', { deletions: [{ entityName: b, observations: ['learns'] }] }),
    deleted('Observations deleted successfully'));
  assert.deepEqual(await ok(mcp, 'delete_relations', { relations: [{ from: a, to: b, relationType: 'mentors' }] }),
    deleted('Relations deleted successfully'));
  assert.deepEqual(await ok(mcp, 'delete_entities', { entityNames: [a, b] }), deleted('Entities deleted successfully'));
  assert.deepEqual(await ok(mcp, 'open_nodes', { names: [a, b] }), { entities: [], relations: [] });

  // engram's own: two memories, related, found again, a path between them, archived and back, forgotten.
  const first = await ok(mcp, 'remember', { text: `${prefix} fixed the write-ahead log`, session: prefix });
  assert.equal(first.type, 'episode');
  const second = await ok(mcp, 'remember', {
    text: `${prefix} reviews the saga code`, type: 'entity', relations: [{ target: first.id, type: 'RELATES_TO' }],
  });
  const recalled = await ok(mcp, 'recall', { text: `${prefix} fixed the write-ahead log`, limit: 5 });
  assert.equal(recalled.memories[0].id, first.id);
  assert.equal(recalled.memories[0].text, `${prefix} fixed the write-ahead log`);
  assert.deepEqual(await ok(mcp, 'relate', { source: first.id, target: second.id, type: 'CAUSES' }),
    { source: first.id, target: second.id, type: 'CAUSES' });
  const path = await ok(mcp, 'find_path', { source: first.id, target: second.id, max_depth: 1, types: ['CAUSES'] });
  assert.equal(path.path.length, 1);
  assert.deepEqual(await ok(mcp, 'archive', { id: second.id }), { id: second.id, type: 'entity' });
  assert.deepEqual(await ok(mcp, 'restore', { id: second.id }), { id: second.id });
  assert.deepEqual(await ok(mcp, 'forget', { id: second.id }), { id: second.id, type: 'entity' });
  await fails(mcp, 'forget', { id: second.id });
  const health = await ok(mcp, 'health');
  assert.equal(health.status, 'ok');
}

// A call engram cannot carry out is a tool failure (isError with a message), not a JSON-RPC error: the model that
// made the call sees why and can correct it.
export async function failsAsTools(connection) {
  const mcp = connection.client;
  await mcp.listTools();
  assert.match(await fails(mcp, 'no_such_tool', {}), /no_such_tool/);
  assert.match(await fails(mcp, 'create_entities', { entities: [{ name: 42, entityType: 't', observations: [] }] }),
    /name/);
  assert.match(await fails(mcp, 'create_entities', {}), /entities/);
  assert.match(await fails(mcp, 'add_observations', { observations: [{ entityName: 'nobody here', contents: ['x'] }] }),
    /^Entity with name nobody here not found$/);
  assert.match(await fails(mcp, 'search_nodes', { query: ['a'] }), /query/);
  assert.match(await fails(mcp, 'remember', {}), /text/);
  assert.match(await fails(mcp, 'remember', { text: 'x', colour: 'red' }), /colour/); // engram's own refuse extras
  assert.match(await fails(mcp, 'recall', { text: 'x', vector: [1] }), /exactly one/);
  assert.match(await fails(mcp, 'find_path', { source: 'a', target: 'b', max_depth: 11 }), /max_depth/);
  assert.match(await fails(mcp, 'restore', { id: '12345' }), /not_found/);
  assert.match(await fails(mcp, 'relate', { source: 'a', target: 'b', type: 'LIKES' }), /invalid_argument/);
  // A method the server does not have is a JSON-RPC error, and the session goes on.
  await assert.rejects(mcp.listPrompts({}, { timeout: 5000 }), (error) => error.code === -32601);
  assert.equal((await call(mcp, 'read_graph', {})).isError, undefined);
}

// 50 calls in flight at once on one session, writes then reads: each is answered, and each answer is its own.
export async function callsInParallel(connection, prefix) {
  const mcp = connection.client;
  await mcp.listTools();
  const names = Array.from({ length: 50 }, (_, i) => `${prefix} parallel ${i}`);
  const created = await Promise.all(names.map((name, i) => ok(mcp, 'create_entities', {
    entities: [{ name, entityType: 'parallel', observations: [`number ${i}`] }],
  })));
  created.forEach((answer, i) => assert.deepEqual(answer.entities.map((entity) => entity.name), [names[i]]));
  const opened = await Promise.all(names.map((name) => ok(mcp, 'open_nodes', { names: [name] })));
  opened.forEach((answer, i) => assert.deepEqual(answer.entities[0].observations, [`number ${i}`]));
  const found = await ok(mcp, 'search_nodes', { query: `${prefix} parallel` });
  assert.equal(found.entities.length, 50);
  // Read-modify-writes of one entity from 50 calls at once: none is lost (calls of one process run one at a time).
  const added = await Promise.all(names.map((_, i) => ok(mcp, 'add_observations', {
    observations: [{ entityName: names[0], contents: [`extra ${i}`] }],
  })));
  added.forEach((answer, i) => assert.deepEqual(answer.results[0].addedObservations, [`extra ${i}`]));
  const [first] = (await ok(mcp, 'open_nodes', { names: [names[0]] })).entities;
  assert.equal(first.observations.length, 51);
}

