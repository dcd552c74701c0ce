// service.test.mjs — Qdrant's service routes through the official client and raw HTTP: the version the client
// checks (GET /), the health probes, the error envelope of an unknown route, and the API key (which routes need
// it, both ways of giving it, and the refusal without it).
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';

import {
  apiKey,
  assertErrorEnvelope,
  clientWarnings,
  createClient,
  request,
  settleVersionCheck,
  validateResponse,
} from './helpers.mjs';

describe('GET /', () => {
  test('the client reads a version it accepts, without a warning', async () => {
    const client = createClient();
    const info = await client.versionInfo();
    assert.equal(typeof info.title, 'string');
    assert.match(info.version, /^1\.19\.\d+$/);
    await settleVersionCheck(client);
    assert.deepEqual(clientWarnings(), []);
  });

  test('the answer is bare, not in the envelope, as Qdrant answers it', async () => {
    const answer = await request('GET', '/');
    assert.equal(answer.status, 200);
    assert.match(answer.contentType, /^application\/json/);
    assert.equal(answer.json.result, undefined);
    assert.equal(typeof answer.json.version, 'string');
    validateResponse('/', 'GET', 200, answer.json);
  });
});

describe('health probes', () => {
  for (const [path, text] of [
    ['/healthz', 'healthz check passed'],
    ['/livez', 'healthz check passed'],
    ['/readyz', 'all shards are ready'],
  ]) {
    test(`${path} answers 200 in plain text`, async () => {
      const answer = await request('GET', path);
      assert.equal(answer.status, 200);
      assert.match(answer.contentType, /^text\/plain/);
      assert.equal(answer.text, text);
    });
  }
});

describe("Qdrant's service routes that engram does not have", () => {
  for (const [method, path] of [
    ['GET', '/telemetry'],
    ['GET', '/issues'],
    ['DELETE', '/issues'],
    ['GET', '/cluster'],
    ['GET', '/cluster/telemetry'],
    ['POST', '/cluster/recover'],
    ['DELETE', '/cluster/peer/3'],
    ['GET', '/quotas'],
    ['GET', '/snapshots'],
    ['POST', '/snapshots'],
    ['GET', '/snapshots/full.snapshot'],
  ]) {
    test(`${method} ${path} answers 400 naming what is not supported`, async () => {
      const answer = await request(method, path);
      assert.equal(answer.status, 400);
      assert.match(assertErrorEnvelope(answer.json), /^Wrong input: .* is not supported by engram$/);
    });
  }
});

describe('unknown routes', () => {
  test('an unknown path is 404 with the error envelope', async () => {
    const answer = await request('GET', '/no/such/route');
    assert.equal(answer.status, 404);
    assertErrorEnvelope(answer.json);
  });

  test('a known path with another method is 405 with the error envelope', async () => {
    const answer = await request('DELETE', '/healthz');
    assert.equal(answer.status, 405);
    assertErrorEnvelope(answer.json);
  });
});

describe('API key', () => {
  // As in Qdrant, the key is checked before the route is looked up: an unknown route is 401 without the key and
  // 404 with it, so these tests need no route beyond the service ones.
  test('without the key any route but the open ones is 401 with the error envelope', async () => {
    for (const [method, path] of [['GET', '/collections'], ['POST', '/v1/exec'], ['GET', '/no/such/route']]) {
      const answer = await request(method, path, { keyed: true, body: method === 'POST' ? { op: 'health' } : undefined });
      assert.equal(answer.status, 401, `${method} ${path}`);
      assertErrorEnvelope(answer.json);
    }
  });

  test('a wrong key is 401 whichever header carries it', async () => {
    for (const headers of [{ 'api-key': `${apiKey}-wrong` }, { authorization: `Bearer ${apiKey}-wrong` }]) {
      const answer = await request('GET', '/no/such/route', { keyed: true, headers });
      assert.equal(answer.status, 401, JSON.stringify(headers));
    }
  });

  test('the right key passes the check in either header', async () => {
    for (const headers of [{ 'api-key': apiKey }, { authorization: `Bearer ${apiKey}` }]) {
      const answer = await request('GET', '/no/such/route', { keyed: true, headers });
      assert.equal(answer.status, 404, JSON.stringify(headers));
    }
  });

  test('the root and the probes need no key, as in Qdrant', async () => {
    for (const path of ['/', '/healthz', '/livez', '/readyz']) {
      const answer = await request('GET', path, { keyed: true });
      assert.equal(answer.status, 200, path);
    }
  });

  test('the client with the key checks the version without a warning', async () => {
    const client = createClient({ keyed: true });
    assert.match((await client.versionInfo()).version, /^1\.19\./);
    await settleVersionCheck(client);
    assert.deepEqual(clientWarnings(), []);
  });

  test('the client with a wrong key is refused with 401', async () => {
    const client = createClient({ keyed: true, key: 'not-the-key' });
    await assert.rejects(client.getCollections(), (error) => {
      assert.equal(error.status, 401);
      return true;
    });
  });
});
