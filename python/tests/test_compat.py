"""engram.compat driven the way the original system's callers drive its storage: episodic and semantic memories
created through MemorySaga, recall by QdrantStore.search plus Neo4jStore.get_relationships, Hebbian strengthening
and decay, find_path, delete — embedded and against `engram serve` — and the original's error behaviour, with
its defects fixed (inventory §10)."""

import asyncio
import datetime
import math
import os
import subprocess
import sys
import time
import uuid

import pytest

import engram
from engram.compat import (CircuitBreaker, CircuitBreakerConfig, CircuitBreakerError, CircuitState, MemorySaga,
                           Neo4jStore, QdrantStore, get_circuit_breaker)
from engram.compat import resilience
from engram.compat.saga import CompensationError, Saga, SagaState

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
DIM = 8


def run(coroutine):
    return asyncio.run(coroutine)


def vec(*hot):
    """A unit-ish vector with 1.0 at the given positions."""
    return [1.0 if i in hot else 0.0 for i in range(DIM)]


def new_id():
    return str(uuid.uuid4())


@pytest.fixture(autouse=True)
def fresh_breakers():
    """The breakers are process-wide, as in the original; its conftest cleared them before every test too."""
    resilience._clear_registry()
    yield
    resilience._clear_registry()


@pytest.fixture(params=["embedded", "remote"])
def engram_target(request, monkeypatch):
    """What the stores are given: an engram opened here, or the URL of conftest's `engram serve`."""
    if request.param == "remote":
        return request.getfixturevalue("server").url
    return request.getfixturevalue("embedded")


def stores(target):
    graph = Neo4jStore(engram=target)
    vectors = QdrantStore(engram=target, dimension=DIM)
    return graph, vectors, MemorySaga(vectors, graph)


def test_agent_memory_lifecycle_as_the_original_callers_use_it(engram_target):
    async def scenario():
        graph, vectors, saga = stores(engram_target)
        await vectors.initialize()
        session = f"s-{uuid.uuid4().hex[:8]}"

        # semantic memory: two entities, the second related to the first
        alice, wal = new_id(), new_id()
        created = await saga.create_entity_with_relationships(
            alice, vec(0), {"session_id": session, "name": "Alice"}, {"name": "Alice", "sessionId": session}, [],
            vectors.entities_collection)
        assert created.state is SagaState.COMMITTED and created.results == [None, alice]
        created = await saga.create_entity_with_relationships(
            wal, vec(1), {"session_id": session, "name": "WAL"}, {"name": "WAL", "sessionId": session},
            [(alice, "RELATES_TO", {"weight": 0.3})], vectors.entities_collection)
        assert created.state is SagaState.COMMITTED and len(created.results) == 3

        # episodic memory: the episode's node carries the episode id even though the caller's props lack it
        episode = new_id()
        text = "Alice fixed the WAL"
        created = await saga.create_episode(episode, vec(0, 1), {"session_id": session, "content": text},
                                            {"sessionId": session, "content": text}, vectors.episodes_collection)
        assert created.state is SagaState.COMMITTED and created.saga_id == "parallel_create_episode"
        assert (await graph.get_node(episode, label="Episode"))["content"] == "Alice fixed the WAL"
        await graph.create_relationship(episode, alice, "HAS_CONTEXT")
        await graph.create_relationship(episode, wal, "HAS_CONTEXT")

        # recall: vector search, then graph context for each hit
        hits = await vectors.search(vectors.entities_collection, vec(1), limit=2, session_id=session)
        assert [h[0] for h in hits][0] == wal and hits[0][1] == pytest.approx(1.0)
        assert hits[0][2] == {"session_id": session, "name": "WAL"}
        context = await graph.get_relationships(wal)
        assert {(r["rel_type"], r["other_id"]) for r in context} == {("RELATES_TO", alice), ("HAS_CONTEXT", episode)}
        assert all(r["source_id"] == wal for r in context)
        outgoing = await graph.get_relationships(wal, "RELATES_TO", direction="out")
        assert len(outgoing) == 1 and outgoing[0]["properties"]["weight"] == 0.3
        batch = await graph.get_relationships_batch([alice, wal, "no-such-node"], rel_type="RELATES_TO")
        assert batch["no-such-node"] == [] and batch[alice][0]["other_id"] == wal

        # Hebbian: co-retrieval strengthens, a negative outcome weakens
        weight = await graph.strengthen_relationship(wal, alice)
        assert weight == pytest.approx(0.3 + 0.1 * (1 - 0.3))
        assert await graph.strengthen_relationship(alice, wal, learning_rate=0.5) > weight  # found reversed
        assert await graph.weaken_relationship(wal, alice, 0.5) < weight
        assert await graph.strengthen_relationship(alice, episode) > 0  # HAS_CONTEXT, reversed
        assert await graph.strengthen_relationship(alice, new_id()) == 0.0  # none either way

        # decay: a relationship last used 40 days ago decays, once; fresh ones are left alone
        stale = (datetime.datetime.now() - datetime.timedelta(days=40)).isoformat()
        await graph.create_relationship(alice, episode, "SOURCE_OF", {"weight": 0.5, "lastAccessed": stale})
        assert await graph.count_stale_relationships(stale_days=30, session_id=session) == 1
        first = await graph.batch_decay_relationships(stale_days=30, decay_rate=0.01, session_id=session)
        assert first == {"decayed": 1, "pruned": 0}
        again = await graph.batch_decay_relationships(stale_days=30, decay_rate=0.01, session_id=session)
        assert again == {"decayed": 0, "pruned": 0}  # idempotent: the original decayed on every call
        (source_of,) = await graph.get_relationships(alice, "SOURCE_OF")
        assert source_of["properties"]["weight"] < 0.5

        # find_path: alice - episode - wal or alice - wal directly, the shortest
        path = await graph.find_path(alice, wal, 3)
        assert [s["type"] for s in path] == ["node", "relationship", "node"]
        assert path[0] == {"type": "node", "id": alice, "labels": ["Entity"]} and path[2]["id"] == wal
        assert path[1]["rel_type"] == "RELATES_TO" and path[1]["properties"]["weight"] == path[1]["weight"]
        assert await graph.find_path(alice, new_id(), 2) is None

        # delete: the vector, the node and its relationships go together
        deleted = await saga.delete_memory(wal, "Entity", vectors.entities_collection)
        assert deleted.state is SagaState.COMMITTED
        assert await graph.get_node(wal) is None
        assert await vectors.get(vectors.entities_collection, [wal]) == []
        assert {r["other_id"] for r in await graph.get_relationships(alice)} == {episode}
        assert await vectors.count(vectors.entities_collection, {"session_id": session}) == 1

        await graph.close()
        await vectors.close()

    run(scenario())


def test_the_original_errors_for_bad_input(engram_target):
    async def scenario():
        graph, vectors, _ = stores(engram_target)
        await vectors.initialize()
        node = new_id()
        await graph.create_node("Entity", {"id": node, "name": "n"})
        with pytest.raises(ValueError):
            await graph.create_node("Person", {"id": new_id()})  # label outside the whitelist
        with pytest.raises(ValueError):
            await graph.create_node("Entity", {"name": "no id"})  # the original made an unreachable node
        with pytest.raises(ValueError):
            await graph.create_node("Entity", {"id": new_id(), "bad name": 1})
        with pytest.raises(ValueError):
            await graph.create_node("Entity", {"id": new_id(), "name\n": 1})  # the original's regex let it in
        with pytest.raises(ValueError):
            await graph.create_relationship(node, node, "LIKES")
        with pytest.raises(ValueError):
            await graph.create_relationship(node, node, "RELATES_TO", {"x}]->() DETACH DELETE (n": 1})
        with pytest.raises(ValueError, match="Invalid direction"):
            await graph.get_relationships_batch([node], direction="sideways")
        with pytest.raises(ValueError):
            await graph.get_relationships(node, direction="sideways")
        for depth, message in ((0, "positive integer"), (True, "positive integer"), (11, "maximum allowed depth")):
            with pytest.raises(ValueError, match=message):
                await graph.find_path(node, node, depth)
        with pytest.raises(ValueError, match="exceeds maximum allowed size of 1000"):
            await graph.batch_create_nodes([("Entity", {"id": f"b{i}"}) for i in range(1001)])
        with pytest.raises(engram.NotFound):
            await graph.create_relationship(node, new_id(), "RELATES_TO")  # the original did nothing, silently
        with pytest.raises(engram.Conflict):
            await graph.create_node("Entity", {"id": node, "name": "other"})
        await graph.create_node("Entity", {"id": node, "name": "n"})  # the same again: a no-op
        assert await graph.get_node(new_id()) is None
        await graph.delete_node(new_id())  # already absent: fine, as in the original

        episodes = vectors.episodes_collection
        with pytest.raises(ValueError, match="dimension 3, expected 8"):
            await vectors.add(episodes, [new_id()], [[1.0, 2.0, 3.0]], [{}])
        with pytest.raises(ValueError, match="NaN or Inf"):
            await vectors.add(episodes, [new_id()], [[math.nan] * DIM], [{}])
        with pytest.raises(ValueError, match="differ in length"):
            await vectors.add(episodes, [new_id(), new_id()], [vec(0)], [{}])
        with pytest.raises(ValueError):
            await vectors.add(episodes, ["not-a-uuid"], [vec(0)], [{}])
        with pytest.raises(ValueError):
            await vectors.search(episodes, vec(0), filter={"timestamp": {"after": 3}})  # dropped silently before

        # none of those caller mistakes counted against the stores' breakers
        assert graph.circuit_breaker.state is CircuitState.CLOSED and graph.circuit_breaker.failure_count == 0
        assert vectors.circuit_breaker.failure_count == 0
        await graph.close()
        await vectors.close()

    run(scenario())


def test_values_round_trip_without_guessing(library, folder):
    async def scenario():
        with engram.open(folder, library=library) as db:
            graph = Neo4jStore(engram=db)
            node = new_id()
            when = datetime.datetime(2025, 1, 2, 3, 4, 5)
            await graph.create_node("Entity", {"id": node, "text": "[1,2]", "stamp": "20250101T000000",
                                               "tags": ["a", "b"], "meta": {"k": 1}, "when": when})
            got = await graph.get_node(node, label="Entity")
            assert got == {"id": node, "text": "[1,2]", "stamp": "20250101T000000", "tags": ["a", "b"],
                           "meta": {"k": 1}, "when": when.isoformat()}
            await graph.update_node(node, {"text": None, "extra": 1})
            await graph.update_property(node, "stamp", 7)
            got = await graph.get_node(node)
            assert "text" not in got and got["extra"] == 1 and got["stamp"] == 7
            with pytest.raises(engram.NotFound):
                await graph.update_property(new_id(), "x", 1)

    run(scenario())



def test_query_runs_the_original_callers_cypher(library, folder):
    async def scenario():
        # google_workspace.py's contact search, verbatim: its Contact label needs graph.schema=open
        with engram.open(folder, library=library, graph__schema="open") as db:
            graph = Neo4jStore(engram=db)
            assert await graph.query("RETURN 1 as n") == [{"n": 1}]  # observability/health.py's probe
            written = await graph.query(
                "CREATE (:Contact {id: 'k1', name: 'Ada Lovelace', organization: 'Analytical'}), "
                "(:Contact {id: 'k2', name: 'Bob', organization: 'ADA corp'}), (:Contact {id: 'k3', name: 'Eve'})")
            assert written == []
            contacts = await graph.query(
                "MATCH (c:Contact) WHERE toLower(c.name) CONTAINS toLower($query) OR toLower(c.organization) "
                "CONTAINS toLower($query) RETURN c LIMIT $limit", {"query": "ada", "limit": 10})
            assert contacts == [{"c": {"id": "k1", "name": "Ada Lovelace", "organization": "Analytical"}},
                                {"c": {"id": "k2", "name": "Bob", "organization": "ADA corp"}}]
            # neuro_symbolic.py's MERGE of a predicate between two nodes, then the path it makes
            await graph.query("MATCH (a {id: 'k1'}), (b {id: 'k2'}) MERGE (a)-[r:RELATES_TO {k: 1}]->(b)")
            rows = await graph.query("MATCH p = (a {id: $a})-[r]->(b) RETURN r, p, b.name AS name", {"a": "k1"})
            assert rows == [{"r": ({"id": "k1"}, "RELATES_TO", {"id": "k2"}),
                             "p": [{"id": "k1"}, "RELATES_TO", {"id": "k2"}], "name": "Bob"}]
            with pytest.raises(ValueError, match="SyntaxError"):
                await graph.query("MATC (n) RETURN n")

    run(scenario())

def test_vector_store_operations(library, folder):
    async def scenario():
        with engram.open(folder, library=library) as db:
            vectors = QdrantStore(engram=db, dimension=DIM)
            await vectors.initialize()
            c = vectors.episodes_collection
            ids = [new_id() for _ in range(5)]
            await vectors.add(c, ids, [vec(i) for i in range(5)], [{"n": i, "session_id": "s"} for i in range(5)])
            assert await vectors.count(c) == 5
            assert await vectors.count(c, {"n": {"gt": 1, "lt": 4}}) == 2  # gt/lt were dropped by the original
            assert await vectors.count(c, {"n": [0, 4]}) == 2
            page, following = await vectors.scroll(c, limit=3, offset=0)
            rest, last = await vectors.scroll(c, limit=3, offset=following)
            assert len(page) == 3 and len(rest) == 2 and last is None
            assert {p[0] for p in page + rest} == set(ids)
            upper = ids[0].upper()
            assert (await vectors.get(c, [upper]))[0][0] == ids[0]
            await vectors.update_payload(c, ids[0], {"capsule_poses": [0.5] * 4, "capsule_routing_agreement": 0.9})
            poses = await vectors.batch_get_capsule_poses(c, [upper, ids[1]])
            assert poses[upper].has_poses and poses[upper].routing_agreement == 0.9 and poses[ids[1]] is None
            assert await vectors.batch_update_vectors(c, [(ids[1], vec(7)), (new_id(), vec(7))]) == 1
            (point,) = await vectors.get_with_vectors(c, [ids[1]])
            assert point[1] == {"n": 1, "session_id": "s"} and point[2][7] == pytest.approx(1.0)
            assert await vectors.batch_update_payloads(c, [(ids[2], {"x": 1}), (new_id(), {"x": 1})]) == 1
            assert await vectors.batch_delete(c, [ids[3], new_id()]) == 1
            assert await vectors.batch_delete_multi([(c, [ids[4]])]) == {c: 1}
            await vectors.ensure_hybrid_collection("hybrid")
            await vectors.add_hybrid("hybrid", ids[:2], [vec(0), vec(1)], [{3: 1.0}, {4: 1.0}], [{}, {}])
            hits = await vectors.search_hybrid("hybrid", vec(0), {3: 1.0}, limit=2)
            assert hits[0][0] == ids[0] and hits[0][1] == pytest.approx(1.0)
            dense_only = await vectors.search_hybrid("hybrid", vec(1), {}, limit=1)
            assert dense_only[0][0] == ids[1]

            # a failed batch_add leaves every collection as it was, pre-existing points included
            kept = ids[0]
            with pytest.raises(engram.NotFound):
                await vectors.batch_add([(c, [kept], [vec(6)], [{"n": "overwritten"}]),
                                         ("no-such-collection", [new_id()], [vec(0)], [{}])])
            (restored,) = await vectors.get(c, [kept])
            assert restored[1]["n"] == 0

    run(scenario())


def test_memory_saga_compensates_the_half_that_was_written(library, folder, monkeypatch):
    monkeypatch.setenv("ENGRAM_ALLOW_FAULTS", "1")

    async def scenario():
        with engram.open(folder, library=library) as db:
            graph, vectors, saga = stores(db)
            await vectors.initialize()
            c = vectors.episodes_collection
            episode = new_id()
            result = await saga.create_episode(episode, vec(0), {}, {"bad name": 1}, c)  # the graph half fails
            assert result.state is SagaState.COMPENSATED and result.failed_step == "create_node"
            assert await vectors.get(c, [episode]) == []

            # the node exists already as another memory's: the failed create must not delete it
            other = new_id()
            await graph.create_node("Entity", {"id": other, "name": "keep me"})
            result = await saga.create_episode(other, vec(0), {}, {}, c)
            assert result.state is SagaState.COMPENSATED and result.failed_step == "create_node"
            assert (await graph.get_node(other))["name"] == "keep me"
            assert await vectors.get(c, [other]) == []

            # an existing memory written again with other content: the node refuses, and the undo puts the old
            # point back instead of deleting it (the original's rollback destroyed it)
            memory = new_id()
            assert (await saga.create_episode(memory, vec(4), {"v": "old"}, {"v": "old"}, c)).state \
                is SagaState.COMMITTED
            result = await saga.create_episode(memory, vec(5), {"v": "new"}, {"v": "new"}, c)
            assert result.state is SagaState.COMPENSATED and result.failed_step == "create_node"
            (old_point,) = await vectors.get_with_vectors(c, [memory])
            assert old_point[1] == {"v": "old"} and old_point[2][4] == pytest.approx(1.0)

            # an entity whose relationship target is missing: vector and node undone
            entity = new_id()
            result = await saga.create_entity_with_relationships(
                entity, vec(1), {}, {}, [(new_id(), "RELATES_TO", {})], vectors.entities_collection)
            assert result.state is SagaState.COMPENSATED and result.failed_step == "create_relationships"
            assert await graph.get_node(entity) is None
            assert await vectors.get(vectors.entities_collection, [entity]) == []
            # only the node made by the plain graph call above lacks a vector; no saga left an orphan
            assert [o["id"] for o in db.check()["orphans"]] == [other]

            # delete_memory undone when the second step fails: vector, node and relationships come back
            kept, friend = new_id(), new_id()
            await saga.create_entity_with_relationships(kept, vec(2), {"k": 1}, {"name": "kept"}, [],
                                                        vectors.entities_collection)
            await saga.create_entity_with_relationships(friend, vec(3), {}, {}, [(kept, "RELATES_TO", {"weight": 0.7})],
                                                        vectors.entities_collection)
            db.set_faults("graph.delete_node=fail")
            result = await saga.delete_memory(kept, "Entity", vectors.entities_collection)
            db.set_faults("")
            assert result.state is SagaState.COMPENSATED and result.failed_step == "delete_node"
            assert (await vectors.get(vectors.entities_collection, [kept]))[0][1] == {"k": 1}
            assert (await graph.get_relationships(kept))[0]["properties"]["weight"] == 0.7
            assert [o["id"] for o in db.check()["orphans"]] == [other]

    run(scenario())


def test_saga_semantics():
    async def scenario():
        log = []

        def step(name, fail=False, undo_fails=False, sleep=0.0):
            async def action():
                await asyncio.sleep(sleep)
                if fail:
                    raise RuntimeError(f"{name} failed")
                log.append(f"do {name}")
                return name

            async def compensate():
                if undo_fails:
                    raise RuntimeError(f"undo {name} failed")
                log.append(f"undo {name}")

            return name, action, compensate

        assert (await Saga("empty").execute()).state is SagaState.COMMITTED
        saga = Saga("ok").add_step(*step("a")).add_step(*step("b"))
        assert len(saga.saga_id) == 8 and saga.timeout == 60.0 and saga.state is SagaState.PENDING
        result = await saga.execute()
        assert result.state is SagaState.COMMITTED and result.results == ["a", "b"]
        with pytest.raises(RuntimeError):
            await saga.execute()  # a saga runs once

        log.clear()
        result = await Saga("fails").add_step(*step("a")).add_step(*step("b")).add_step(*step("c", fail=True)).execute()
        assert result.state is SagaState.COMPENSATED and result.failed_step == "c" and "c failed" in result.error
        assert log == ["do a", "do b", "undo b", "undo a"]  # reverse order; the step that raised is not undone

        log.clear()
        with pytest.raises(CompensationError) as raised:
            await Saga("stuck").add_step(*step("a", undo_fails=True)).add_step(*step("b", fail=True)).execute()
        assert raised.value.to_dict()["failed_step"] == "b" and "undo a failed" in raised.value.compensation_errors[0]
        result = await Saga("stuck", raise_on_compensation_failure=False) \
            .add_step(*step("a", undo_fails=True)).add_step(*step("b", fail=True)).execute()
        assert result.state is SagaState.FAILED

        log.clear()
        result = await Saga("slow", timeout=0.05).add_step(*step("a")).add_step(*step("b", sleep=1)).execute()
        assert result.failed_step == "timeout" and "0.05" in result.error
        assert log == ["do a", "undo b", "undo a"]  # the step cut short may have acted: it is undone too

    run(scenario())


def test_circuit_breaker_semantics():
    async def scenario():
        breaker = CircuitBreaker("t", CircuitBreakerConfig(failure_threshold=2, success_threshold=1, reset_timeout=0.1))

        async def boom():
            raise OSError("down")

        async def fine():
            return "ok"

        for _ in range(2):
            with pytest.raises(OSError):
                await breaker.execute(boom)
        assert breaker.is_open
        with pytest.raises(CircuitBreakerError, match="'t' is OPEN after 2 failures"):
            await breaker.execute(fine)
        await asyncio.sleep(0.12)
        breaker._check_state()
        assert breaker.state is CircuitState.HALF_OPEN

        # one probe at a time in HALF_OPEN (the original let every caller through)
        gate = asyncio.Event()

        async def slow_probe():
            await gate.wait()
            return "probe"

        probe = asyncio.create_task(breaker.execute(slow_probe))
        await asyncio.sleep(0.01)
        with pytest.raises(CircuitBreakerError):
            await breaker.execute(fine)
        gate.set()
        assert await probe == "probe" and breaker.state is CircuitState.CLOSED

        # a lambda returning a coroutine is awaited: its failure counts (the original recorded a success)
        for _ in range(2):
            with pytest.raises(OSError):
                await breaker.execute(lambda: boom())
        assert breaker.is_open
        await breaker.reset()
        assert breaker.state is CircuitState.CLOSED and set(breaker.get_stats()) == {
            "name", "state", "failure_count", "success_count", "last_failure", "last_transition"}
        assert get_circuit_breaker("x") is get_circuit_breaker("x")
        with pytest.warns(RuntimeWarning):
            get_circuit_breaker("x", CircuitBreakerConfig(failure_threshold=9))

    run(scenario())


def test_store_breaker_opens_on_store_failures_only(library, folder, monkeypatch):
    monkeypatch.setenv("ENGRAM_ALLOW_FAULTS", "1")

    async def scenario():
        with engram.open(folder, library=library) as db:
            graph = Neo4jStore(engram=db, circuit_breaker_config=CircuitBreakerConfig(failure_threshold=3))
            for _ in range(10):
                assert await graph.get_node("absent") is None  # NotFound: a caller matter
            assert graph.circuit_breaker.failure_count == 0
            db.set_faults("graph.*=fail")
            for _ in range(3):
                with pytest.raises(engram.Unavailable):
                    await graph.get_node("absent")
            with pytest.raises(CircuitBreakerError):
                await graph.get_node("absent")
            assert (await graph.health_check())["status"] == "unhealthy"
            db.set_faults("")

    run(scenario())


def test_timeout_raises_database_timeout_error(library, folder, monkeypatch):
    monkeypatch.setenv("ENGRAM_ALLOW_FAULTS", "1")
    from engram.compat import DatabaseTimeoutError

    async def scenario():
        with engram.open(folder, library=library) as db:
            graph = Neo4jStore(engram=db, timeout=0.05)
            db.set_faults("graph.get_node=delay_ms:300")
            with pytest.raises(DatabaseTimeoutError, match="'get_node' timed out after 0.05s"):
                await graph.get_node("x")
            assert graph.circuit_breaker.failure_count == 1
            db.set_faults("")

    run(scenario())


def test_stores_given_a_path_share_one_engram(library, folder, monkeypatch):
    monkeypatch.setenv("ENGRAM_LIBRARY", library)

    async def scenario():
        graph, vectors = Neo4jStore(engram=folder), QdrantStore(engram=folder, dimension=DIM)
        # both open the folder at once, on a thread: one opening, shared (a second open would be Locked)
        await asyncio.gather(vectors.initialize(), graph.initialize())
        assert await graph._backend.db() is await vectors._backend.db()
        await graph.close()
        assert await vectors.count(vectors.episodes_collection) == 0  # still open for the other store
        await vectors.close()
        with engram.open(folder, library=library) as db:  # closed with the last store: free again
            assert "episodes" in db.list_collections()
        with pytest.raises(ValueError, match="bolt"):
            Neo4jStore(uri="bolt://localhost:7687")

    run(scenario())


def test_example_agent_memory_runs(library, folder):
    env = dict(os.environ, ENGRAM_LIBRARY=library)
    done = subprocess.run([sys.executable, os.path.join(ROOT, "examples", "agent_memory.py"), folder],
                          capture_output=True, text=True, env=env, timeout=120)
    assert done.returncode == 0, done.stderr
    assert "recall" in done.stdout and "consistent: True" in done.stdout


def test_initialize_reports_an_unreachable_engram(library):
    async def scenario():
        graph = Neo4jStore(engram="http://127.0.0.1:9")  # nothing listens on the discard port
        started = time.monotonic()
        with pytest.raises(Exception, match="Database initialization failed"):
            await graph.initialize()
        assert time.monotonic() - started < 30

    run(scenario())
