// equivalence.test.mjs — the same tools, the same calls, the same answers: the reference memory server
// (@modelcontextprotocol/server-memory, pinned) and `engram mcp` each get scenario.mjs's calls, one at a time in the
// same order, on an empty graph of their own; every answer must match (see scenario.mjs for how each compares).
// Every difference is collected before the test fails, so that one run names them all.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { ENGRAM, TEST_LIMIT_MS, call, close, engramStdio, ok, referenceStdio, scratch, sortedGraph }
  from './common.mjs';
import { STEPS } from './scenario.mjs';

const REFERENCE_TOOLS = ['create_entities', 'create_relations', 'add_observations', 'delete_entities',
  'delete_observations', 'delete_relations', 'read_graph', 'search_nodes', 'open_nodes'];

// What of an answer is compared, by the step's rule.
function comparable(result, step) {
  if (result.rpcError) return { rpcError: result.rpcError.code }; // the reference never answers a call so
  if (result.isError) return { isError: true, text: step.error === 'exact' ? result.content[0].text : '(any)' };
  const text = result.content.map((item) => item.text).join('\n');
  if (!step.graph) return { text, structured: result.structuredContent };
  return { text: sortedGraph(JSON.parse(text)), structured: result.structuredContent && sortedGraph(result.structuredContent) };
}

// How two answers differ: for two graphs, the entities and relations only one of them has (a whole graph would
// bury the difference); else both answers.
function describe(want, got) {
  if (!want.text?.entities || !got.text?.entities) {
    return `  reference: ${JSON.stringify(want)}\n  engram:    ${JSON.stringify(got)}`;
  }
  const only = (list, other) => list.filter((item) => !other.some((o) => JSON.stringify(o) === JSON.stringify(item)));
  const lines = [];
  for (const field of ['entities', 'relations']) {
    const [a, b] = [want.text[field], got.text[field]];
    if (only(a, b).length) lines.push(`  ${field} only the reference gives: ${JSON.stringify(only(a, b))}`);
    if (only(b, a).length) lines.push(`  ${field} only engram gives:        ${JSON.stringify(only(b, a))}`);
  }
  if (JSON.stringify(want.structured) !== JSON.stringify(got.structured)) lines.push('  (structured content too)');
  return lines.join('\n');
}

test('the reference server and engram answer the scripted calls alike', { timeout: TEST_LIMIT_MS }, async () => {
  const reference = await referenceStdio(join(scratch('reference'), 'memory.jsonl'));
  let engram; // opened inside the try, so that the reference is closed even when engram cannot start
  try {
    engram = await engramStdio(['--data', scratch('engram')]);
    // The client validates structured content against each tool's output schema once it has listed the tools.
    await reference.client.listTools();
    await engram.client.listTools();
    const differences = [];
    for (const [index, step] of STEPS.entries()) {
      const want = comparable(await call(reference.client, step.tool, step.args), step);
      const got = comparable(await call(engram.client, step.tool, step.args), step);
      try {
        assert.deepEqual(got, want);
      } catch {
        differences.push(`step ${index} ${step.tool} ${JSON.stringify(step.args)}\n${describe(want, got)}`);
      }
    }
    assert.equal(differences.length, 0, `${differences.length} answers differ:\n${differences.join('\n')}` +
      `\nengram's stderr:\n${engram.stderr()}`);
  } finally {
    await close(reference);
    if (engram) await close(engram);
  }
});

// The nine tools engram shares with the reference have the reference's definitions: a client written for one
// (its prompts, its argument checks) works with the other unchanged. `execution` is left out: the reference's SDK
// adds {taskSupport: "forbidden"}, which is what its absence means.
test('the reference tools are defined as the reference defines them', { timeout: TEST_LIMIT_MS }, async () => {
  const reference = await referenceStdio(join(scratch('reference-list'), 'memory.jsonl'));
  let engram;
  try {
    engram = await engramStdio(['--data', scratch('engram-list')]);
    const want = (await reference.client.listTools()).tools;
    const got = (await engram.client.listTools()).tools;
    assert.deepEqual(want.map((tool) => tool.name), REFERENCE_TOOLS);
    assert.deepEqual(got.slice(0, REFERENCE_TOOLS.length).map((tool) => tool.name), REFERENCE_TOOLS);
    for (const [index, tool] of want.entries()) {
      const fields = ({ name, title, description, inputSchema, outputSchema, annotations }) =>
        ({ name, title, description, inputSchema, outputSchema, annotations });
      assert.deepEqual(fields(got[index]), fields(tool), tool.name);
    }
  } finally {
    await close(reference);
    if (engram) await close(engram);
  }
});

// The reference's memory file, left by the scripted calls, imported into engram (`engram import-mcp-memory`): engram
// then holds the graph the reference holds, and a second import finds nothing to do.
test('engram import-mcp-memory takes the reference\'s file as it is', { timeout: TEST_LIMIT_MS }, async () => {
  const file = join(scratch('reference-import'), 'memory.jsonl');
  const reference = await referenceStdio(file);
  let want;
  try {
    for (const step of STEPS) await call(reference.client, step.tool, step.args);
    want = await ok(reference.client, 'read_graph');
  } finally {
    await close(reference);
  }
  const data = scratch('engram-import');
  const run = promisify(execFile);
  const limits = { timeout: 20000, killSignal: 'SIGKILL' };
  await run(ENGRAM, ['import-mcp-memory', file, '--data', data], limits);
  const again = await run(ENGRAM, ['import-mcp-memory', file, '--data', data], limits);
  assert.match(again.stdout, /nothing to import/);
  const engram = await engramStdio(['--data', data]);
  try {
    assert.deepEqual(sortedGraph(await ok(engram.client, 'read_graph')), sortedGraph(want));
  } finally {
    await close(engram);
  }
});
