// readme-example.test.mjs — the README's JavaScript example (examples/qdrant-client.mjs) run as a user runs it,
// against the test server, so that the README shows what the official client really gets. The example is copied
// next to this file for the run, where Node resolves @qdrant/js-client-rest from node_modules.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { copyFile, rm } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

import { serverUrl } from './helpers.mjs';

const here = dirname(fileURLToPath(import.meta.url));

test('the README example prints the fused ranking it shows', async () => {
  const copy = join(here, '.readme-example.mjs');
  await copyFile(join(here, '..', '..', 'examples', 'qdrant-client.mjs'), copy);
  try {
    const { stdout, stderr } = await promisify(execFile)(process.execPath, [copy], {
      env: { ...process.env, ENGRAM_URL: serverUrl },
      timeout: 30000,
    });
    assert.equal(stdout, '1 1.000 Alice fixed the WAL\n2 0.333 Bob wrote the docs\n');
    assert.equal(stderr, '');
  } finally {
    await rm(copy, { force: true });
  }
});
