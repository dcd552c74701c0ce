"""The embedded Engram's own behaviour: settings at open, threads sharing one handle, pickling, and crash safety
(a writer killed with SIGKILL loses no acknowledged memory and leaves both stores consistent)."""

import os
import pickle
import signal
import subprocess
import sys
import threading
import time

import pytest

import engram

THREADS = 8
CALLS = 40
CRASH_WRITES_BEFORE_KILL = 30  # acknowledged memories to see before the kill
CRASH_TIMEOUT = 60.0


def test_settings_at_open(folder, library):
    with engram.open(folder, library=library, durability="none", graph__schema="open") as db:
        assert db.path == folder and repr(db) == f"<engram.Engram {folder!r}>"
        db.create_node("Contact", "c1")
        assert db.get_node("c1")["label"] == "Contact"
    with engram.open(folder, library=library, settings={"graph.schema": "t4dm", "durability": "none"}) as db:
        with pytest.raises(engram.InvalidArgument):
            db.create_node("Contact", "c2")
        assert db.get_node("c1")["label"] == "Contact"  # data written under open stays readable
        assert {s["name"]: s["value"] for s in db.config()}["graph.schema"] == "t4dm"
    with pytest.raises(engram.InvalidArgument):
        engram.open(folder, library=library, durability="sometimes")


def test_pickling_is_refused(embedded):
    with pytest.raises(TypeError, match="engram.open"):
        pickle.dumps(embedded)
    remote = engram.connect("http://127.0.0.1:9", api_key="k")
    assert repr(pickle.loads(pickle.dumps(remote))) == repr(remote)  # a Remote is only an address: it travels


def test_threads_share_one_engram(embedded):
    embedded.create_collection("shared", 2)
    errors = []

    def work(thread):
        try:
            for i in range(CALLS):
                node = f"t{thread}-{i}"
                assert embedded.create_node("Entity", node, properties={"i": i}) == {"id": node}
                point = thread * CALLS + i
                assert embedded.upsert("shared", [{"id": point, "vector": [1.0, i + 1.0]}]) == {"upserted": 1}
                assert embedded.get_node(node)["properties"] == {"i": i}
                assert embedded.get("shared", [point])[0]["id"] == point
                if i:
                    embedded.create_relationship(node, f"t{thread}-{i - 1}", "PART_OF")
                if i % 10 == 0:
                    memory = embedded.create_entity(text=f"thread {thread} call {i}")
                    assert embedded.recall("entity", text=f"thread {thread} call {i}", limit=1)["memories"][0][
                        "id"] == memory["id"]
        except Exception as e:  # reported by the main thread, which pytest watches
            errors.append(e)

    threads = [threading.Thread(target=work, args=(t,)) for t in range(THREADS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    assert not errors, errors
    assert embedded.count_nodes(label="Entity") == THREADS * CALLS + THREADS * (CALLS // 10)
    assert embedded.count("shared") == THREADS * CALLS
    assert embedded.count_relationships() == THREADS * (CALLS - 1)


def test_close_waits_for_calls_in_flight(embedded):
    embedded.create_collection("c", 2)
    stop = threading.Event()
    failures = []

    def writer():
        i = 0
        while not stop.is_set():
            try:
                embedded.upsert("c", [{"id": i, "vector": [1.0, 0.5]}])
            except engram.Unavailable:
                return  # closed under it: the one acceptable failure
            except Exception as e:
                failures.append(e)
                return
            i += 1

    threads = [threading.Thread(target=writer) for _ in range(4)]
    for t in threads:
        t.start()
    time.sleep(0.2)
    embedded.close()
    stop.set()
    for t in threads:
        t.join(30)
    assert not failures, failures


WRITER = """
import engram, sys
db = engram.open(sys.argv[1], library=sys.argv[2], durability="fsync")
i = 0
while True:
    created = db.create_episode(id=i, text=f"crash test memory number {i}", payload={"n": i},
                                properties={"n": i}, session_id="crash")
    print(created["id"], flush=True)  # acknowledged: from here on it must survive
    i += 1
"""


def test_acknowledged_memories_survive_sigkill(folder, library):
    writer = subprocess.Popen([sys.executable, "-c", WRITER, folder, library], stdout=subprocess.PIPE, text=True)
    acknowledged = []
    deadline = time.monotonic() + CRASH_TIMEOUT
    try:
        assert writer.stdout is not None
        while len(acknowledged) < CRASH_WRITES_BEFORE_KILL and time.monotonic() < deadline:
            line = writer.stdout.readline()
            if not line:
                break
            acknowledged.append(line.strip())
        os.kill(writer.pid, signal.SIGKILL)  # mid-write: it never stops between creates
        tail, _ = writer.communicate(timeout=30)
        acknowledged += [line for line in tail.split("\n") if line]  # printed before the kill landed
    finally:
        if writer.poll() is None:
            writer.kill()
            writer.wait()
    assert writer.returncode == -signal.SIGKILL
    assert len(acknowledged) >= CRASH_WRITES_BEFORE_KILL

    with engram.open(folder, library=library) as db:
        report = db.check()
        assert report["consistent"] is True, report
        for memory in acknowledged:
            node = db.get_node(memory, label="Episode")
            assert node["properties"]["n"] == int(memory) and node["properties"]["sessionId"] == "crash"
            hits = db.recall("episode", text=f"crash test memory number {memory}", limit=3)["memories"]
            assert memory in [h["id"] for h in hits]
            assert [p["payload"]["n"] for p in db.get("episodes", [int(memory)])] == [int(memory)]
