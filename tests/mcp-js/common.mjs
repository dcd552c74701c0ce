// common.mjs — what the *.test.mjs files share: MCP clients of the official SDK connected to `engram mcp` over stdio
// (on a data folder of the test's own, or `--url` to a running `engram serve`), to `/mcp` of the servers run.sh
// started (ENGRAM_MCP_URL without an API key, ENGRAM_MCP_KEY_URL with ENGRAM_MCP_KEY), and to the reference memory
// server; tool answers reduced to what can be compared; and JSON Schema compilation with ajv.
// Every test file runs in its own process, in parallel with the others, on the same two HTTP servers: each names
// its entities with a prefix of its own.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { Ajv } from 'ajv';
import { Ajv2020 } from 'ajv/dist/2020.js';

export const ENGRAM = process.env.ENGRAM;
export const MCP_URL = process.env.ENGRAM_MCP_URL;
export const MCP_KEY_URL = process.env.ENGRAM_MCP_KEY_URL;
export const MCP_KEY = process.env.ENGRAM_MCP_KEY;
export const TEST_LIMIT_MS = 60000; // every test's own bound
export const CALL_LIMIT_MS = 20000; // every request's: the SDK's default (60 s) would outlast a test
export const REFERENCE = join(dirname(fileURLToPath(import.meta.url)),
  'node_modules/@modelcontextprotocol/server-memory/dist/index.js');

// A scratch folder removed when the process ends (node --test runs each file in a process of its own).
export function scratch(name) {
  const folder = mkdtempSync(join(tmpdir(), `engram-mcp-js-${name}-`));
  process.on('exit', () => rmSync(folder, { recursive: true, force: true }));
  return folder;
}

function client() {
  return new Client({ name: 'engram-mcp-js-tests', version: '1.0.0' });
}

// Connects a client over `transport`. The messages the server sent are recorded in `received` (the SDK keeps the
// handler set before connect and calls it first), so that tests can see the initialize result itself.
async function connect(transport) {
  const received = [];
  transport.onmessage = (message) => received.push(message);
  const mcp = client();
  await mcp.connect(transport, { timeout: CALL_LIMIT_MS });
  return { client: mcp, transport, received };
}

// `engram mcp` over stdio; `args` are the command's own (`--data DIR`, or `--url URL`). Its stderr is kept in
// `stderr` (a function returning what it has printed so far), for messages on failure.
export async function engramStdio(args, env = {}) {
  const transport = new StdioClientTransport({
    command: ENGRAM, args: ['mcp', ...args], env: { ...process.env, ...env }, stderr: 'pipe',
  });
  let text = '';
  transport.stderr.on('data', (chunk) => { text += chunk; });
  const connection = await connect(transport);
  return { ...connection, stderr: () => text };
}

// The reference memory server over stdio, keeping its graph in `file` (its MEMORY_FILE_PATH).
export async function referenceStdio(file) {
  const transport = new StdioClientTransport({
    command: process.execPath, args: [REFERENCE], env: { ...process.env, MEMORY_FILE_PATH: file }, stderr: 'pipe',
  });
  transport.stderr.resume(); // it prints a banner; unread, a full pipe would stall it
  return connect(transport);
}

// `/mcp` over Streamable HTTP; `headers` go with every request (the API key).
export async function engramHttp(url, headers = {}) {
  const transport = new StreamableHTTPClientTransport(new URL('/mcp', url), { requestInit: { headers } });
  return connect(transport);
}

// Calls a tool with the request bound in time. A JSON-RPC error (the SDK throws it) is returned as { rpcError },
// so that callers can tell it from a tool failure (a result with isError).
export async function call(mcp, name, args) {
  try {
    return await mcp.callTool({ name, arguments: args }, undefined, { timeout: CALL_LIMIT_MS });
  } catch (error) {
    if (typeof error.code === 'number') return { rpcError: { code: error.code, message: error.message } };
    throw error;
  }
}

// A call that must succeed: returns its structured content, after checking that the text item is its JSON (the
// reference's tools print their answer with JSON.stringify(value, null, 2); the three delete tools print a message).
export async function ok(mcp, name, args = {}) {
  const result = await call(mcp, name, args);
  assert.ok(!result.rpcError && !result.isError, `${name} ${JSON.stringify(args)} failed: ${JSON.stringify(result)}`);
  assert.equal(result.content.length, 1);
  assert.equal(result.content[0].type, 'text');
  assert.equal(typeof result.structuredContent, 'object');
  return result.structuredContent;
}

// A call that must be a tool failure (isError, one text item naming the problem); returns the text.
export async function fails(mcp, name, args) {
  const result = await call(mcp, name, args);
  assert.ok(result.isError === true, `${name} ${JSON.stringify(args)} did not fail: ${JSON.stringify(result)}`);
  assert.equal(result.content[0].type, 'text');
  assert.ok(result.content[0].text.length > 0);
  return result.content[0].text;
}

// A JSON Schema compiled by the ajv for its dialect ($schema: draft-07 unless it names 2020-12, the MCP default
// since 2025-06-18); strict mode, so that an unknown keyword or a malformed schema is an error, not ignored.
export function compileSchema(schema) {
  const draft2020 = !schema.$schema || schema.$schema.includes('2020-12');
  const ajv = draft2020 ? new Ajv2020({ strict: true, allErrors: true }) : new Ajv({ strict: true, allErrors: true });
  return ajv.compile(schema);
}

// A graph answer ({entities, relations}) with both lists sorted: the reference lists them in its file's order and
// engram in node-id order, an incidental difference (docs/mcp.md, "Order"). Observations keep their order: both
// append them in the order given.
export function sortedGraph(graph) {
  const byJson = (a, b) => (JSON.stringify(a) < JSON.stringify(b) ? -1 : 1);
  return { ...graph, entities: [...graph.entities].sort(byJson), relations: [...graph.relations].sort(byJson) };
}

export async function close(connection) {
  await connection.client.close();
}
