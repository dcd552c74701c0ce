// readme-example.test.mjs — the README's Bolt example (examples/neo4j-driver.mjs) run as a user runs it, against
// the test server, so that the README shows what Neo4j's official driver really gets. The example is copied next
// to this file for the run, where Node resolves neo4j-driver from node_modules.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { copyFile, rm } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

import { BOLT_ADDRESS, PASSWORD, TEST_LIMIT_MS } from './common.mjs';

const here = dirname(fileURLToPath(import.meta.url));

test('the README example prints the path it shows', { timeout: TEST_LIMIT_MS }, async () => {
  const copy = join(here, '.readme-example.mjs');
  await copyFile(join(here, '..', '..', 'examples', 'neo4j-driver.mjs'), copy);
  try {
    const { stdout, stderr } = await promisify(execFile)(process.execPath, [copy], {
      env: { ...process.env, ENGRAM_BOLT_URL: `bolt://${BOLT_ADDRESS}`, ENGRAM_BOLT_PASSWORD: PASSWORD },
      timeout: TEST_LIMIT_MS - 5000,
    });
    assert.equal(stdout, "Alice -> the WAL [ 'IMPROVES_ON' ]\n");
    assert.equal(stderr, '');
  } finally {
    await rm(copy, { force: true });
  }
});
