// mcp_bench.mjs — the MCP issue's workload on engram and on the reference memory server
// (@modelcontextprotocol/server-memory, pinned in tests/mcp-js), both launched over stdio by the official SDK's
// client (tests/mcp-js/node_modules; scripts/bench-mcp.sh installs it, builds engram and runs this):
//
//   create_entities   N entities in calls of 10, each with two observations
//   create_relations  N relations in calls of 10: entity i -> entity i+1 ("precedes", the last to the first)
//   search_nodes      Q queries, each an observation's token that one entity holds (the answer: it and its two
//                     relations)
//   open_nodes        Q calls of two names each
//
// One client, one call after the other, each call's latency measured around callTool. Each server starts on an
// empty folder (engram: a data folder; the reference: MEMORY_FILE_PATH) for every run; the runs alternate between
// the servers, and each server's best run (the shortest total) is printed: p50 / p99 / mean per tool in ms, the
// time of each phase and the total, then engram's speed-up over the reference per figure. After each run,
// read_graph must give N entities and N relations (a server that dropped a call would be measured doing less).
// engram runs with its default durability (group commit: every answered call is on disk); the reference writes its
// file with no fsync.
//
// usage: node bench/mcp_bench.mjs --engram PATH [--entities N] [--queries Q] [--runs R]
//                                 [--reference-entities M] [--servers engram,reference]
//   --reference-entities M  the reference's N, when it cannot do N in reasonable time (it rewrites its whole file on
//                           every call); its figures are then at M entities, and the output says so
// Prints key=value lines.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';

const TESTS = new URL('../tests/mcp-js/', import.meta.url);
const requireFromTests = createRequire(new URL('package.json', TESTS));
const SDK = (path) => import(new URL(`node_modules/@modelcontextprotocol/sdk/dist/esm/${path}`, TESTS));
const { Client } = await SDK('client/index.js');
const { StdioClientTransport } = await SDK('client/stdio.js');
const REFERENCE = requireFromTests.resolve('@modelcontextprotocol/server-memory/dist/index.js');
const version = (pkg) => JSON.parse(readFileSync(new URL(`node_modules/${pkg}/package.json`, TESTS))).version;
const VERSIONS = { sdk: version('@modelcontextprotocol/sdk'), reference: version('@modelcontextprotocol/server-memory') };
const BATCH = 10;
const CALL_LIMIT_MS = 120000; // a call of the reference on a large file is slow, but not that slow
const TOOLS = ['create_entities', 'create_relations', 'search_nodes', 'open_nodes'];

function usage() {
  console.error('usage: node bench/mcp_bench.mjs --engram PATH [--entities N] [--queries Q] [--runs R] ' +
    '[--reference-entities M] [--servers engram,reference]');
  process.exit(2);
}

function parseArgs(argv) {
  const options = { engram: null, entities: 10000, queries: 1000, runs: 3, referenceEntities: null,
    servers: ['engram', 'reference'] };
  for (let i = 0; i < argv.length; i += 2) {
    const [name, value] = [argv[i], argv[i + 1]];
    if (value === undefined) usage();
    if (name === '--engram') options.engram = value;
    else if (name === '--entities') options.entities = Number(value);
    else if (name === '--queries') options.queries = Number(value);
    else if (name === '--runs') options.runs = Number(value);
    else if (name === '--reference-entities') options.referenceEntities = Number(value);
    else if (name === '--servers') options.servers = value.split(',');
    else usage();
  }
  if (options.servers.includes('engram') && !options.engram) usage();
  options.referenceEntities ??= options.entities;
  return options;
}

const name = (i) => `entity ${String(i).padStart(6, '0')} «bench»`;
const token = (i) => `token-${String(i).padStart(6, '0')}`;

// The server's command, on a fresh folder of its own.
function launch(server, options, folder) {
  if (server === 'engram') return { command: options.engram, args: ['mcp', '--data', join(folder, 'data')] };
  return { command: process.execPath, args: [REFERENCE], env: { ...process.env, MEMORY_FILE_PATH: join(folder, 'memory.jsonl') } };
}

async function timedCall(client, latencies, tool, args) {
  const start = performance.now();
  const result = await client.callTool({ name: tool, arguments: args }, undefined, { timeout: CALL_LIMIT_MS });
  latencies.push(performance.now() - start);
  if (result.isError) throw new Error(`${tool} failed: ${result.content[0].text}`);
  return result;
}

// One run of the workload on one server; returns the latencies per tool and the time of each phase (ms).
async function run(server, options, n) {
  const folder = mkdtempSync(join(tmpdir(), `engram-bench-mcp-${server}-`));
  const transport = new StdioClientTransport({ ...launch(server, options, folder), stderr: 'ignore' });
  const client = new Client({ name: 'engram-mcp-bench', version: '1.0.0' });
  try {
    await client.connect(transport);
    const latencies = Object.fromEntries(TOOLS.map((tool) => [tool, []]));
    const phases = {};
    const phase = async (tool, calls, args) => {
      const start = performance.now();
      for (let c = 0; c < calls; c++) await timedCall(client, latencies[tool], tool, args(c));
      phases[tool] = performance.now() - start;
    };
    const range = (c) => Array.from({ length: Math.min(BATCH, n - c * BATCH) }, (_, k) => c * BATCH + k);
    const calls = Math.ceil(n / BATCH);
    await phase('create_entities', calls, (c) => ({
      entities: range(c).map((i) => ({ name: name(i), entityType: 'bench', observations: [token(i), `made in call ${c}`] })),
    }));
    await phase('create_relations', calls, (c) => ({
      relations: range(c).map((i) => ({ from: name(i), to: name((i + 1) % n), relationType: 'precedes' })),
    }));
    // Spread over the whole graph: query q looks at entity (q * 7919) mod n.
    const pick = (q) => (q * 7919) % n;
    await phase('search_nodes', options.queries, (q) => ({ query: token(pick(q)) }));
    await phase('open_nodes', options.queries, (q) => ({ names: [name(pick(q)), name((pick(q) + Math.floor(n / 2)) % n)] }));
    const graph = (await client.callTool({ name: 'read_graph', arguments: {} }, undefined, { timeout: CALL_LIMIT_MS }))
      .structuredContent;
    if (graph.entities.length !== n || graph.relations.length !== n) {
      throw new Error(`${server}: read_graph has ${graph.entities.length} entities and ${graph.relations.length} ` +
        `relations, not ${n} of each`);
    }
    const total = Object.values(phases).reduce((sum, ms) => sum + ms, 0);
    return { latencies, phases, total };
  } finally {
    await client.close();
    rmSync(folder, { recursive: true, force: true });
  }
}

function percentile(sorted, p) {
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];
}

function summary(latencies) {
  const sorted = [...latencies].sort((a, b) => a - b);
  const mean = sorted.reduce((sum, ms) => sum + ms, 0) / sorted.length;
  return { p50: percentile(sorted, 50), p99: percentile(sorted, 99), mean, calls: sorted.length };
}

const fmt = (ms) => (ms >= 100 ? ms.toFixed(0) : ms >= 10 ? ms.toFixed(1) : ms.toFixed(2));

const options = parseArgs(process.argv.slice(2));
const sizes = { engram: options.entities, reference: options.referenceEntities };
console.log(`sdk=${VERSIONS.sdk} reference=${VERSIONS.reference} queries=${options.queries} runs=${options.runs} ` +
  `batch=${BATCH} ${options.servers.map((s) => `${s}_entities=${sizes[s]}`).join(' ')}`);
const best = {};
for (let r = 0; r < options.runs; r++) {
  for (const server of options.servers) {
    const result = await run(server, options, sizes[server]);
    console.log(`run=${r + 1} server=${server} total_s=${(result.total / 1000).toFixed(2)} ` +
      TOOLS.map((tool) => `${tool}_s=${(result.phases[tool] / 1000).toFixed(2)}`).join(' '));
    if (!best[server] || result.total < best[server].total) best[server] = result;
  }
}
for (const server of options.servers) {
  const { latencies, phases, total } = best[server];
  console.log(`best server=${server} entities=${sizes[server]} total_s=${(total / 1000).toFixed(2)}`);
  for (const tool of TOOLS) {
    const s = summary(latencies[tool]);
    console.log(`  server=${server} tool=${tool} calls=${s.calls} p50_ms=${fmt(s.p50)} p99_ms=${fmt(s.p99)} ` +
      `mean_ms=${fmt(s.mean)} phase_s=${(phases[tool] / 1000).toFixed(2)}`);
  }
}
if (best.engram && best.reference) {
  const note = sizes.engram === sizes.reference ? '' : ` (not like for like: engram at ${sizes.engram} entities, ` +
    `the reference at ${sizes.reference})`;
  console.log(`speedup engram over reference${note}: total=${(best.reference.total / best.engram.total).toFixed(1)}x`);
  for (const tool of TOOLS) {
    const e = summary(best.engram.latencies[tool]);
    const f = summary(best.reference.latencies[tool]);
    console.log(`  tool=${tool} p50=${(f.p50 / e.p50).toFixed(1)}x p99=${(f.p99 / e.p99).toFixed(1)}x ` +
      `phase=${(best.reference.phases[tool] / best.engram.phases[tool]).toFixed(1)}x`);
  }
}
