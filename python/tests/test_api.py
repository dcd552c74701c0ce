"""Every operation through the package, against an embedded Engram and a Remote alike (the `db` fixture), with
the answers docs/operations.md gives."""

import pytest

import engram

UUID = "550e8400-e29b-41d4-a716-446655440000"


def test_nodes(db):
    assert db.create_node("Entity", "alice", properties={"name": "Alice", "age": 30}) == {"id": "alice"}
    assert db.create_node("Entity", "alice", properties={"name": "Alice", "age": 30}) == {"id": "alice"}
    assert db.create_node("Episode", "e1") == {"id": "e1"}
    assert db.get_node("alice") == {"id": "alice", "label": "Entity", "properties": {"name": "Alice", "age": 30}}
    assert db.get_node("alice", label="Entity")["id"] == "alice"
    assert [n["id"] for n in db.get_nodes(["e1", "nobody", "alice"])] == ["e1", "alice"]
    assert db.update_node("alice", {"age": None, "city": "Paris"}) == {"id": "alice"}
    assert db.get_node("alice")["properties"] == {"name": "Alice", "city": "Paris"}
    assert db.update_property("alice", "city", "Lyon") == {"id": "alice"}
    assert db.update_property("alice", "city", None) == {"id": "alice"}  # None is sent: it removes the property
    assert db.get_node("alice")["properties"] == {"name": "Alice"}
    assert db.batch_create_nodes([{"label": "Procedure", "id": f"p{i}", "properties": {"i": i}}
                                  for i in range(5)]) == {"created": 5}
    assert db.count_nodes() == 7
    assert db.count_nodes(label="Procedure") == 5
    page = db.list_nodes(label="Procedure", limit=3)
    assert [n["id"] for n in page["nodes"]] == ["p0", "p1", "p2"] and page["next_cursor"] is not None
    rest = db.list_nodes(label="Procedure", cursor=page["next_cursor"])
    assert [n["id"] for n in rest["nodes"]] == ["p3", "p4"] and rest["next_cursor"] is None
    found = db.find_nodes("ALI", properties=["name"])
    assert [n["id"] for n in found["nodes"]] == ["alice"] and found["next_cursor"] is None
    assert db.find_nodes("ali", label="Procedure")["nodes"] == []
    assert db.stats() == {"nodes": 7, "nodes_by_label": {"Episode": 1, "Entity": 1, "Procedure": 5},
                          "relationships": 0}
    assert db.delete_node("p4") == {"id": "p4"}
    assert db.delete_node("p3", label="Procedure") == {"id": "p3"}
    assert db.count_nodes() == 5


def test_relationships_hebbian_and_paths(db):
    db.batch_create_nodes([{"label": "Entity", "id": n} for n in ("a", "b", "c", "d")])
    assert db.create_relationship("a", "b", "RELATES_TO", properties={"weight": 0.5}) == {
        "source_id": "a", "target_id": "b", "type": "RELATES_TO"}
    assert db.batch_create_relationships([{"source_id": "b", "target_id": "c", "type": "CAUSES"},
                                          {"source_id": "c", "target_id": "d", "type": "USES"}]) == {"written": 2}
    assert db.count_relationships() == 3
    out = db.get_relationships("a", direction="out")
    assert len(out) == 1 and out[0]["target_id"] == "b" and out[0]["properties"]["weight"] == 0.5
    assert db.get_relationships("b", type="CAUSES", direction="in") == []
    assert len(db.get_relationships("b")) == 2
    batch = db.get_relationships_batch(["a", "d", "nobody"], direction="out")
    assert len(batch["a"]) == 1 and batch["d"] == [] and batch["nobody"] == []

    assert db.strengthen_relationship("a", "b", type="RELATES_TO", learning_rate=0.5) == {"weight": 0.75}
    strengthened = db.get_relationships("a", direction="out")[0]["properties"]
    assert strengthened["coAccessCount"] == 1
    assert db.strengthen_relationship("b", "a")["weight"] == pytest.approx(0.775)  # the other direction, lr 0.1
    assert db.weaken_relationship("a", "b", rate=0.5)["weight"] == pytest.approx(0.3875)
    assert db.count_stale_relationships() == 0
    assert db.count_stale_relationships(stale_days=0, session_id="nobody's") == 0
    assert db.batch_decay_relationships(stale_days=30, decay_rate=0.5, min_weight=0.01) == {"decayed": 0,
                                                                                             "pruned": 0}

    path = db.find_path("a", "d")
    assert path["length"] == 3 and [n["id"] for n in path["nodes"]] == ["a", "b", "c", "d"]
    assert db.find_path("a", "d", max_depth=2) is None
    assert db.find_path("a", "d", types=["RELATES_TO", "CAUSES"]) is None
    assert db.delete_relationship("c", "d", "USES") == {"source_id": "c", "target_id": "d", "type": "USES"}
    assert db.count_relationships() == 2



def test_cypher(db):
    created = db.cypher("CREATE (a:Entity {id: $id, name: 'Ada'})-[:USES {weight: 0.5}]->(p:Procedure {id: 'p1'}) "
                        "RETURN a", parameters={"id": "a1"})
    assert created["fields"] == ["a"]
    assert created["records"] == [[{"id": "a1", "label": "Entity", "properties": {"name": "Ada"}}]]
    assert created["stats"] == {"nodes-created": 2, "relationships-created": 1, "properties-set": 4,
                                "labels-added": 2, "contains-updates": True}
    read = db.cypher("MATCH path = (a:Entity)-[r:USES]->(p) RETURN r, path, count(*) AS n")
    ((r, path, n),) = read["records"]
    assert read["stats"] == {} and n == 1
    assert (r["source_id"], r["target_id"], r["type"], r["properties"]["weight"]) == ("a1", "p1", "USES", 0.5)
    assert path["length"] == 1 and path["nodes"] == [{"id": "a1", "label": "Entity"},
                                                     {"id": "p1", "label": "Procedure"}]
    kinds = db.cypher("RETURN $i AS i, $f AS f, $s AS s, $b AS b, $n AS n, $l AS l, $m AS m, toString($f) AS text",
                      parameters={"i": 7, "f": 2.0, "s": "x", "b": True, "n": None, "l": [1, "a"], "m": {"k": [1]}})
    assert kinds["records"] == [[7, 2.0, "x", True, None, [1, "a"], {"k": [1]}, "2.0"]]
    with pytest.raises(engram.InvalidArgument, match="Neo.ClientError.Statement.SyntaxError"):
        db.cypher("MATC (n) RETURN n")
    with pytest.raises(engram.InvalidArgument, match="invalid node label 'Person'"):
        db.cypher("CREATE (:Person {id: 'x'})")
    with pytest.raises(engram.Conflict):
        db.cypher("CREATE (:Entity {id: 'new'}) CREATE (:Procedure {id: 'a1'})")
    assert db.count_nodes() == 2

def test_memories_and_recall_by_text(db):
    assert db.create_entity(id=1, text="Alice is a storage engineer", properties={"name": "Alice"}) == {"id": "1"}
    episode = db.create_episode(id=UUID.upper(), text="Alice fixed the WAL", session_id="s1",
                                relationships=[{"target_id": "1", "type": "RELATES_TO"}])
    assert episode == {"id": UUID}
    procedure = db.create_procedure(text="run the recovery checklist", payload={"steps": 3})
    assert len(procedure["id"]) == 36  # a random UUID
    assert db.batch_create_memories([
        {"type": "entity", "id": 2, "text": "Bob reviews the saga code"},
        {"type": "episode", "id": 3, "text": "Bob approved the import",
         "relationships": [{"target_id": "2", "type": "RELATES_TO"}, {"target_id": "4", "type": "TEMPORAL_BEFORE"}]},
        {"type": "episode", "id": 4, "text": "the import shipped"}]) == {"ids": ["2", "3", "4"]}
    assert db.batch_create_memories([]) == {"ids": []}

    found = db.recall("episode", text="who fixed the WAL", limit=1, expand=1)
    assert found["truncated"] is False
    hit = found["memories"][0]
    assert hit["id"] == UUID and hit["payload"]["session_id"] == "s1"
    assert hit["node"]["label"] == "Episode" and hit["node"]["properties"]["sessionId"] == "s1"
    assert [n["id"] for n in hit["neighbors"]] == ["1"]
    assert [m["id"] for m in db.recall("episodes", text="import", session_id="s1")["memories"]] == [UUID]
    assert db.recall("procedure", text="x", filter={"must": [{"key": "steps", "range": {"gte": 3}}]},
                     dim=256)["memories"][0]["id"] == procedure["id"]

    assert db.update_memory(1, "entity", payload={"team": "storage"}, properties={"name": None}) == {"id": "1"}
    assert "name" not in db.get_node("1")["properties"]
    assert db.get("entities", [1])[0]["payload"]["team"] == "storage"
    assert db.delete_memory(4, "episode") == {"id": "4"}
    report = db.check()
    assert report["consistent"] is True and report["memories"] == 5 and report["orphans"] == []
    assert db.check(repair=True)["consistent"] is True


def test_recall_with_vectors_as_lists(db):
    db.create_collection("entities", 3, distance="Dot")
    db.create_entity(id=10, vector=[1.0, 0.0, 0.0])
    db.create_entity(id=11, vector=(0, 1, 0))
    assert [m["id"] for m in db.recall("entity", vector=[0.1, 0.9, 0.0])["memories"]] == ["11", "10"]


def test_numpy_vectors_and_numbers(db):
    np = pytest.importorskip("numpy")
    db.create_collection("entities", 4)
    db.create_entity(id=np.uint64(20), vector=np.array([1, 0, 0, 0], dtype=np.float32),
                     payload={"rank": np.int64(3), "score": np.float32(0.5), "ok": np.bool_(True)})
    db.create_entity(id=21, vector=np.arange(4, dtype=np.float64))
    hits = db.recall("entity", vector=np.array([0.9, 0.1, 0.0, 0.0]), limit=np.int32(1))["memories"]
    assert [h["id"] for h in hits] == ["20"]
    assert hits[0]["payload"]["rank"] == 3 and hits[0]["payload"]["score"] == 0.5 and hits[0]["payload"]["ok"]
    db.create_collection("m", 2, distance="Euclid")
    db.upsert("m", [{"id": i, "vector": v} for i, v in enumerate(np.eye(2, dtype=np.float32))])
    assert db.search("m", np.array([0.0, 1.0]), limit=1)[0]["id"] == 1
    assert db.search("m", np.array([[0.0, 1.0]])[0], score_threshold=np.float64(0.5))[0]["score"] == 0.0


def test_archive(db):
    db.create_episode(id=1, text="an old episode", created_at=1_000)
    db.create_episode(id=2, text="another old one", created_at=2_000, session_id="s2")
    db.create_episode(id=3, text="a fresh one")
    assert db.archive_memory(1, "episode") == {"id": "1"}
    run = db.archive_older_than("episode", 1, limit=10, session_id="s2", field="created_at")
    assert run["candidates"] == 1 and run["archived"] == 1 and run["failed"] == 0
    listed = db.list_archived(type="episode", limit=1)
    assert len(listed["entries"]) == 1 and listed["next_cursor"] is not None
    assert len(db.list_archived(cursor=listed["next_cursor"])["entries"]) == 1
    retrieved = db.retrieve_archived("1")
    assert set(retrieved) == {"record", "metadata"}
    verified = db.verify_archive()
    assert verified["entries"] == 2 and verified["ok"] == 2 and verified["corrupt"] == []
    assert db.restore_archived("1") == {"id": "1"}
    assert db.get_node("1")["label"] == "Episode"
    assert db.delete_archived("2") == {"id": "2"}
    assert db.cleanup_archive(retention_days=1) == {"removed": 0}
    assert db.list_archived()["entries"] == []
    assert db.check()["consistent"] is True


def test_collections_and_points(db):
    assert db.create_collection("docs", 3, distance="Cosine", sparse=True, hnsw_config={"m": 8},
                                quantization_config={"scalar": {"type": "int8"}}) == {"collection": "docs"}
    assert db.create_collection("plain", 2) == {"collection": "plain"}
    info = db.get_collection("docs")
    assert info["dim"] == 3 and info["sparse"] is True and info["hnsw_config"]["m"] == 8
    assert db.list_collections() == ["docs", "plain"]
    assert db.create_payload_index("docs", "session_id", "keyword") == {"collection": "docs",
                                                                          "field": "session_id", "type": "keyword"}
    assert db.get_collection("docs")["payload_indexes"] == {"session_id": "keyword"}

    points = [{"id": 1, "vector": [1, 0, 0], "payload": {"session_id": "s1", "n": 1},
               "sparse_vector": {"indices": [7], "values": [2.0]}},
              {"id": UUID, "vector": [0, 1, 0], "payload": {"session_id": "s2", "n": 2},
               "sparse_vector": {"indices": [7, 9], "values": [1.0, 1.0]}},
              {"id": 2, "vector": [0, 0, 1], "payload": {"session_id": "s1", "n": 3}}]
    assert db.upsert("docs", points[:2]) == {"upserted": 2}
    assert db.add("docs", points[2:]) == {"upserted": 1}
    got = db.get("docs", [UUID, 1, 99], with_vectors=True)
    assert [p["id"] for p in got] == [UUID, 1] and got[1]["vector"] == [1.0, 0.0, 0.0]
    assert "payload" not in db.get("docs", [1], with_payload=False)[0]
    assert db.update_payload("docs", [1], {"tag": "x"}) == {"updated": 1}
    assert db.get("docs", [1])[0]["payload"] == {"session_id": "s1", "n": 1, "tag": "x"}
    assert db.delete_payload_keys("docs", [1], ["tag", "absent"]) == {"updated": 1}
    assert db.overwrite_payload("docs", [2], {"session_id": "s1"}) == {"updated": 1}
    assert db.get("docs", [2])[0]["payload"] == {"session_id": "s1"}
    assert db.batch_update_vectors("docs", [{"id": 2, "vector": [0, 0, 2]}]) == {"updated": 1}

    assert db.count("docs") == 3
    assert db.count("docs", filter={"must": [{"key": "session_id", "match": {"value": "s1"}}]}) == 2
    page = db.scroll("docs", limit=2, with_payload=False)
    assert page == {"points": [{"id": 1}, {"id": 2}], "next_offset": UUID}
    assert db.scroll("docs", offset=page["next_offset"], with_vectors=True)["points"][0]["vector"] == [0.0, 1.0,
                                                                                                         0.0]
    assert db.scroll("docs", filter={"must_not": [{"has_id": [1, 2]}]})["points"][0]["id"] == UUID

    best = db.search("docs", [0.9, 0.1, 0], limit=2, params={"exact": True})
    assert [p["id"] for p in best] == [1, UUID] and best[0]["score"] > best[1]["score"]
    assert [p["id"] for p in db.search("docs", [0.9, 0.1, 0], offset=1, limit=1)] == [UUID]
    assert [p["id"] for p in db.search("docs", [0.9, 0.1, 0], session_id="s2")] == [UUID]
    assert db.search("docs", [0, 0, 1], score_threshold=0.99, with_payload=False) == [{"id": 2, "score": 1.0}]
    sparse = db.search_sparse("docs", {"indices": [7, 9], "values": [1.0, 1.0]})
    assert [(p["id"], p["score"]) for p in sparse] == [(1, 2.0), (UUID, 2.0)]
    assert db.search_sparse("docs", {"indices": [9], "values": [1.0]}, offset=0, limit=5,
                            session_id="s2")[0]["id"] == UUID
    fused = db.search_hybrid("docs", [0, 1, 0], {"indices": [9], "values": [1.0]}, limit=2)
    assert fused[0]["id"] == UUID and fused[0]["score"] == 1.0  # first in both rankings

    assert db.delete("docs", ids=[2]) == {"deleted": 1}
    assert db.delete("docs", filter={"must": [{"key": "n", "match": {"value": 2}}]}) == {"deleted": 1}
    assert db.delete_payload_index("docs", "session_id") == {"collection": "docs", "field": "session_id"}
    assert db.delete_collection("plain") == {"collection": "plain"}
    assert db.list_collections() == ["docs"]


def test_administration(db):
    health = db.health()
    assert health["status"] == "ok" and set(health["stores"]) == {"graph", "vectors"}
    settings = {s["name"]: s for s in db.config()}
    assert settings["durability"]["value"] == "none"
    with pytest.raises(engram.InvalidArgument, match="ENGRAM_ALLOW_FAULTS"):
        db.set_faults("graph.create_node=fail")  # tests only: refused unless the process allowed faults
