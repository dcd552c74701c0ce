// bolt_driver_bench.mjs — the workloads of bench/bolt_bench.c through the official Neo4j JavaScript driver
// (neo4j-driver, installed in tests/bolt-js/node_modules by scripts/install-node-deps.sh) against `engram serve --bolt`
// holding the same graph (scripts/bench-bolt.sh builds, starts the server, loads the graph and runs this).
//
// One driver session, one request after the other:
//   get_node  session.run('MATCH (n:Entity {id: $id}) RETURN n')
//   expand    session.run('MATCH (n {id: $id})-[r]-(m) RETURN type(r), m.id')
//   create    session.beginTransaction(); tx.run(CREATE node); tx.run(MATCH ... CREATE two relationships); commit
//   floor     session.run('RETURN 1 AS n')
// Each workload runs for SECONDS, RUNS times in turn; the run with the most operations per second is printed with its
// latency p50 / p99 / mean (µs). With --baseline FILE (the output of bolt_bench, run just before on the same machine)
// it also prints the ratios of the driver's figures over the C API's in-process ones and over the C Bolt client's.
// There is no peer: nothing in shared/bench serves Bolt (there is no Neo4j here).
//
// usage: node bench/bolt_driver_bench.mjs --address HOST:PORT [--nodes N] [--seconds S] [--runs R] [--baseline FILE]
// The password is $ENGRAM_BOLT_PASSWORD (user neo4j). Prints key=value lines.
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';

const requireFromTests = createRequire(new URL('../tests/bolt-js/package.json', import.meta.url));
const neo4j = requireFromTests('neo4j-driver');
const DRIVER_VERSION = requireFromTests('neo4j-driver/package.json').version;

const GET_NODE_CYPHER = 'MATCH (n:Entity {id: $id}) RETURN n';
const EXPAND_CYPHER = 'MATCH (n {id: $id})-[r]-(m) RETURN type(r), m.id';
const CREATE_NODE_CYPHER = 'CREATE (m:Episode {id: $id, text: $text})';
const CREATE_RELS_CYPHER =
  'MATCH (m {id: $id}), (a {id: $a}), (b {id: $b}) CREATE (m)-[:RELATES_TO]->(a), (m)-[:TEMPORAL_BEFORE]->(b)';
const FLOOR_CYPHER = 'RETURN 1 AS n';
const MEMORY_TEXT = 'the agent noticed that the build cache was cold after the merge';

function parseArgs(argv) {
  const options = { address: null, nodes: 10000, seconds: 0.5, runs: 3, baseline: null };
  for (let i = 0; i < argv.length; i += 2) {
    const [name, value] = [argv[i], argv[i + 1]];
    if (value === undefined) usage();
    if (name === '--address') options.address = value;
    else if (name === '--baseline') options.baseline = value;
    else if (name === '--nodes') options.nodes = Number(value);
    else if (name === '--seconds') options.seconds = Number(value);
    else if (name === '--runs') options.runs = Number(value);
    else usage();
  }
  const valid = options.address && Number.isInteger(options.nodes) && options.nodes >= 10 && options.seconds >= 0.2 &&
    Number.isInteger(options.runs) && options.runs >= 1;
  if (!valid) usage();
  return options;
}

function usage() {
  console.error('usage: node bench/bolt_driver_bench.mjs --address HOST:PORT [--nodes N>=10] [--seconds S>=0.2] ' +
    '[--runs R>=1] [--baseline FILE]');
  process.exit(2);
}

// xorshift32: which nodes the requests name (any spread will do; the C bench uses its own).
let randomState = 0x9e3779b9;
function randomEntity(nodes) {
  randomState ^= randomState << 13;
  randomState ^= randomState >>> 17;
  randomState ^= randomState << 5;
  return `e${(randomState >>> 0) % nodes}`;
}

let memoriesCreated = 0;

function workloads(session, nodes) {
  return {
    get_node: async () => {
      const { records } = await session.run(GET_NODE_CYPHER, { id: randomEntity(nodes) });
      if (records.length !== 1) throw new Error('get_node: no single record');
    },
    expand: async () => {
      const { records } = await session.run(EXPAND_CYPHER, { id: randomEntity(nodes) });
      if (records.length === 0) throw new Error('expand: no records');
    },
    create: async () => {
      const id = `d${memoriesCreated++}`;
      const tx = session.beginTransaction();
      try {
        await tx.run(CREATE_NODE_CYPHER, { id, text: MEMORY_TEXT });
        await tx.run(CREATE_RELS_CYPHER, { id, a: randomEntity(nodes), b: randomEntity(nodes) });
        await tx.commit();
      } finally {
        await tx.close();
      }
    },
    floor: async () => {
      await session.run(FLOOR_CYPHER);
    },
  };
}

async function measure(operation, seconds) {
  const latencies = [];
  const start = process.hrtime.bigint();
  const end = start + BigInt(Math.round(seconds * 1e9));
  let t = start;
  while (t < end) {
    await operation();
    const after = process.hrtime.bigint();
    latencies.push(Number(after - t) / 1e3);
    t = after;
  }
  latencies.sort((a, b) => a - b);
  const n = latencies.length;
  return {
    operations: n,
    perSecond: n / (Number(t - start) / 1e9),
    p50: latencies[Math.floor(n / 2)],
    p99: latencies[Math.floor(n * 0.99)],
    mean: latencies.reduce((sum, x) => sum + x, 0) / n,
  };
}

// The figures of bolt_bench's output: { "get_node/in_process": { perSecond, p50, p99 }, ... }.
function readBaseline(file) {
  const figures = {};
  for (const line of readFileSync(file, 'utf8').split('\n')) {
    const fields = Object.fromEntries([...line.matchAll(/(\w+)=(\S+)/g)].map((m) => [m[1], m[2]]));
    if (fields.workload && fields.via && fields.per_s) {
      figures[`${fields.workload}/${fields.via}`] = {
        perSecond: Number(fields.per_s), p50: Number(fields.p50_us), p99: Number(fields.p99_us),
      };
    }
  }
  return figures;
}

function ratioLine(name, label, driver, other) {
  const ratio = (x, y) => (x / y).toFixed(1);
  return `bolt-driver-bench workload=${name} ${label} p50_ratio=${ratio(driver.p50, other.p50)} ` +
    `p99_ratio=${ratio(driver.p99, other.p99)} throughput_ratio=${ratio(other.perSecond, driver.perSecond)}`;
}

async function main() {
  const options = parseArgs(process.argv.slice(2));
  const driver = neo4j.driver(`bolt://${options.address}`,
    neo4j.auth.basic('neo4j', process.env.ENGRAM_BOLT_PASSWORD ?? ''), { maxTransactionRetryTime: 0 });
  const session = driver.session();
  try {
    const work = workloads(session, options.nodes);
    await work.floor(); // connects and authenticates outside the timed runs
    console.log(`bolt-driver-bench nodes=${options.nodes} seconds=${options.seconds} runs=${options.runs} ` +
      `client=neo4j-driver/${DRIVER_VERSION} node=${process.version} connections=1 durability=none ` +
      'peer=none note="no Bolt server in shared/bench (no Neo4j here): ratios are engram over Bolt against engram ' +
      'in-process, same run"');
    const best = {};
    for (let run = 0; run < options.runs; run++) {
      for (const [name, operation] of Object.entries(work)) {
        const figure = await measure(operation, options.seconds);
        if (!best[name] || figure.perSecond > best[name].perSecond) best[name] = figure;
      }
    }
    const baseline = options.baseline ? readBaseline(options.baseline) : {};
    for (const [name, f] of Object.entries(best)) {
      console.log(`bolt-driver-bench workload=${name} via=driver ops=${f.operations} per_s=${f.perSecond.toFixed(0)} ` +
        `p50_us=${f.p50.toFixed(1)} p99_us=${f.p99.toFixed(1)} mean_us=${f.mean.toFixed(1)}`);
      const inProcess = baseline[`${name}/in_process`], cBolt = baseline[`${name}/bolt`];
      if (inProcess) console.log(ratioLine(name, 'driver_over_in_process', f, inProcess));
      if (cBolt) console.log(ratioLine(name, 'driver_over_c_bolt', f, cBolt));
    }
  } finally {
    await session.close();
    await driver.close();
  }
}

await main();
