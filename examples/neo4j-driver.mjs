// neo4j-driver.mjs — the README's example: Neo4j's official JavaScript driver, unchanged, against engram serve's
// Bolt port. Two memories and a relationship written in one transaction, then a shortest path between them.
// Usage: ENGRAM_BOLT_URL=bolt://127.0.0.1:7687 [ENGRAM_BOLT_PASSWORD=...] node examples/neo4j-driver.mjs
// (with neo4j-driver installed: scripts/install-node-deps.sh installs it into tests/bolt-js; tests/bolt-js runs it).
import neo4j from "neo4j-driver";

const driver = neo4j.driver(
  process.env.ENGRAM_BOLT_URL ?? "bolt://127.0.0.1:7687",
  neo4j.auth.basic("neo4j", process.env.ENGRAM_BOLT_PASSWORD ?? ""),
);
try {
  await driver.executeQuery(
    `UNWIND $memories AS m
     CREATE (:Entity {id: m.id, name: m.name, sessionId: $session})`,
    { memories: [{ id: "alice", name: "Alice" }, { id: "wal", name: "the WAL" }], session: "s-42" },
  );
  await driver.executeQuery(
    `MATCH (a:Entity {id: $from}), (b:Entity {id: $to})
     CREATE (a)-[:IMPROVES_ON {weight: 0.8}]->(b)`,
    { from: "alice", to: "wal" },
  );
  const { records } = await driver.executeQuery(
    `MATCH p = shortestPath((a {id: $from})-[*..4]-(b {id: $to}))
     RETURN [n IN nodes(p) | n.name] AS names, [r IN relationships(p) | type(r)] AS types`,
    { from: "alice", to: "wal" },
  );
  for (const record of records) console.log(record.get("names").join(" -> "), record.get("types"));
  // Alice -> the WAL [ 'IMPROVES_ON' ]
} finally {
  await driver.close();
}
