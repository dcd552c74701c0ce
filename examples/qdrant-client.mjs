// qdrant-client.mjs — the README's example: Qdrant's official JavaScript client, unchanged, against engram serve.
// A hybrid collection in the original system's layout (named dense vector "dense", sparse vector "sparse"),
// searched with reciprocal-rank fusion. Usage: ENGRAM_URL=http://127.0.0.1:6333 node examples/qdrant-client.mjs
// (with @qdrant/js-client-rest installed: scripts/install-node-deps.sh installs it into tests/qdrant-js).
import { QdrantClient } from "@qdrant/js-client-rest";

const client = new QdrantClient({ url: process.env.ENGRAM_URL ?? "http://127.0.0.1:6333" });
await client.createCollection("memories", {
  vectors: { dense: { size: 4, distance: "Cosine" } },
  sparse_vectors: { sparse: {} },
});
await client.upsert("memories", {
  wait: true,
  points: [
    { id: 1, vector: { dense: [0.9, 0.1, 0, 0.2], sparse: { indices: [7, 42], values: [1, 0.5] } }, payload: { text: "Alice fixed the WAL" } },
    { id: 2, vector: { dense: [0.1, 0.9, 0.3, 0], sparse: { indices: [3], values: [1] } }, payload: { text: "Bob wrote the docs" } },
  ],
});
const { points } = await client.query("memories", {
  prefetch: [
    { query: [1, 0.2, 0, 0.2], using: "dense", limit: 10 },
    { query: { indices: [42], values: [1] }, using: "sparse", limit: 10 },
  ],
  query: { fusion: "rrf" },
  limit: 2,
  with_payload: true,
});
console.log(points.map((p) => `${p.id} ${p.score.toFixed(3)} ${p.payload.text}`).join("\n"));
