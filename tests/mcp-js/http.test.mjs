// http.test.mjs — `/mcp` of `engram serve` through the official SDK's StreamableHTTPClientTransport: the checks of
// tools.mjs on the server without an API key (ENGRAM_MCP_URL); the server with one (ENGRAM_MCP_KEY_URL), which
// takes the key as Qdrant's `api-key` header or as `Authorization: Bearer` (docs/serve.md) and refuses a request
// without it; and `engram mcp --url`, the stdio server whose tools run on a serve's folder through POST /v1/exec.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MCP_KEY, MCP_KEY_URL, MCP_URL, TEST_LIMIT_MS, close, engramHttp, engramStdio, ok } from './common.mjs';
import { callsEveryTool, callsInParallel, failsAsTools, handshake, listsTools } from './tools.mjs';

function withHttp(name, body, url = MCP_URL, headers = {}) {
  test(name, { timeout: TEST_LIMIT_MS }, async () => {
    const connection = await engramHttp(url, headers);
    try {
      await body(connection);
    } finally {
      await close(connection);
    }
  });
}

withHttp('the handshake', async (connection) => {
  await handshake(connection);
  // After initialize the transport sends the negotiated revision in the MCP-Protocol-Version header.
  assert.equal(connection.transport.protocolVersion, connection.received[0].result.protocolVersion);
});
withHttp('tools/list: every tool, every schema valid JSON Schema', listsTools);
withHttp('every tool', (connection) => callsEveryTool(connection, 'http'));
withHttp('failures are tool failures', failsAsTools);
withHttp('50 calls at once', (connection) => callsInParallel(connection, 'http'));

withHttp('with the api-key header', (connection) => callsEveryTool(connection, 'api-key header'),
  MCP_KEY_URL, { 'api-key': MCP_KEY });
withHttp('with Authorization: Bearer', (connection) => callsEveryTool(connection, 'bearer'),
  MCP_KEY_URL, { Authorization: `Bearer ${MCP_KEY}` });

test('without the key, or with a wrong one, /mcp answers 401', { timeout: TEST_LIMIT_MS }, async () => {
  for (const headers of [{}, { 'api-key': `${MCP_KEY}x` }, { Authorization: 'Bearer wrong' }]) {
    await assert.rejects(engramHttp(MCP_KEY_URL, headers), (error) => error.code === 401, JSON.stringify(headers));
    const response = await fetch(new URL('/mcp', MCP_KEY_URL), {
      method: 'POST',
      headers: { ...headers, 'Content-Type': 'application/json', Accept: 'application/json, text/event-stream' },
      body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'ping' }),
      signal: AbortSignal.timeout(5000),
    });
    assert.equal(response.status, 401);
  }
});

// Two sessions at once on one server: what one writes, the other reads.
test('two HTTP sessions share the folder', { timeout: TEST_LIMIT_MS }, async () => {
  const one = await engramHttp(MCP_URL);
  let two;
  try {
    two = await engramHttp(MCP_URL);
    const entity = { name: 'http shared «Ξ»', entityType: 'shared', observations: ['seen by both'] };
    await ok(one.client, 'create_entities', { entities: [entity] });
    assert.deepEqual((await ok(two.client, 'open_nodes', { names: [entity.name] })).entities, [entity]);
  } finally {
    await close(one);
    if (two) await close(two);
  }
});

// `engram mcp --url`: the same tools over stdio, on the serve's folder; the key from $ENGRAM_API_KEY.
test('engram mcp --url works on the serve\'s folder', { timeout: TEST_LIMIT_MS }, async () => {
  for (const [url, env, prefix] of [[MCP_URL, {}, 'remote'], [MCP_KEY_URL, { ENGRAM_API_KEY: MCP_KEY }, 'remote key']]) {
    const remote = await engramStdio(['--url', url], env);
    let direct; // opened inside the try, so that the stdio server is stopped even when /mcp cannot be reached
    try {
      direct = await engramHttp(url, env.ENGRAM_API_KEY ? { 'api-key': MCP_KEY } : {});
      await callsEveryTool(remote, prefix);
      const entity = { name: `${prefix} written over stdio`, entityType: 'remote', observations: [] };
      await ok(remote.client, 'create_entities', { entities: [entity] });
      assert.deepEqual((await ok(direct.client, 'open_nodes', { names: [entity.name] })).entities, [entity]);
    } catch (error) {
      error.message += `\nengram mcp --url's stderr:\n${remote.stderr()}`;
      throw error;
    } finally {
      await close(remote);
      if (direct) await close(direct);
    }
  }
});
