"""engram.aio under a running event loop, embedded and against `engram serve`: the async methods mirror the
blocking ones (signature, docstring, results, exceptions), run concurrently, and never block the loop — a ticker
task keeps ticking while engram is held up by an injected delay."""

import asyncio
import inspect
import threading
import time
import uuid

import pytest

import engram
import engram.aio
from engram._operations import Operations

SLOW_MS = 300  # the injected delay: long enough that a blocked loop would miss dozens of 10 ms ticks


@pytest.fixture(params=["embedded", "remote"])
def make_db(request, library, folder, monkeypatch):
    """A coroutine function giving a fresh AsyncEngram over a folder of its own: opened here, or served by
    conftest's `engram serve`. Fault injection is allowed in both (the server inherits the environment)."""
    monkeypatch.setenv("ENGRAM_ALLOW_FAULTS", "1")
    if request.param == "embedded":
        async def opened():
            return await engram.aio.open(folder, library=library, durability="none")
    else:
        url = request.getfixturevalue("server").url

        async def opened():
            return engram.aio.connect(url)
    return opened


def run(coroutine):
    return asyncio.run(coroutine)


def test_every_operation_is_a_coroutine_with_the_same_signature_and_docstring():
    names = [n for n, m in vars(Operations).items() if not n.startswith("_") and callable(m)]
    assert len(names) > 50  # every operation of docs/operations.md
    for name in names:
        twin = getattr(engram.aio.AsyncEngram, name)
        original = getattr(Operations, name)
        assert inspect.iscoroutinefunction(twin), name
        assert inspect.signature(twin) == inspect.signature(original), name
        assert twin.__doc__ == original.__doc__ and twin.__doc__, name
        assert twin.__name__ == name


def test_results_and_errors_are_those_of_the_blocking_api(make_db):
    async def scenario():
        async with await make_db() as db:
            node_id = f"n-{uuid.uuid4().hex}"
            assert await db.create_node("Entity", node_id, properties={"name": "alice"}) == {"id": node_id}
            node = await db.get_node(node_id)
            assert node == {"id": node_id, "label": "Entity", "properties": {"name": "alice"}}
            with pytest.raises(engram.NotFound):
                await db.get_node(f"missing-{uuid.uuid4().hex}")
            with pytest.raises(engram.InvalidArgument):
                await db.create_node("NoSuchLabel", "x")
            with pytest.raises(TypeError):
                await db.create_node("Entity", node_id, {"positional": "properties are keyword-only"})

    run(scenario())


def test_concurrent_calls_with_gather(make_db):
    async def scenario():
        async with await make_db() as db:
            prefix = uuid.uuid4().hex
            ids = [f"{prefix}-{i}" for i in range(40)]
            created = await asyncio.gather(*(db.create_node("Entity", i, properties={"i": n})
                                             for n, i in enumerate(ids)))
            assert created == [{"id": i} for i in ids]
            nodes = await asyncio.gather(*(db.get_node(i) for i in ids))
            assert [n["properties"]["i"] for n in nodes] == list(range(40))

    run(scenario())


def test_a_slow_call_does_not_block_the_loop_and_slow_calls_overlap(make_db):
    async def scenario():
        async with await make_db() as db:
            node_id = f"slow-{uuid.uuid4().hex}"
            await db.create_node("Entity", node_id)
            await db.set_faults(f"graph.get_node=delay_ms:{SLOW_MS}")
            ticks = 0
            stop = asyncio.Event()

            async def ticker():
                nonlocal ticks
                while not stop.is_set():
                    await asyncio.sleep(0.01)
                    ticks += 1

            ticking = asyncio.create_task(ticker())
            try:
                started = time.monotonic()
                await db.get_node(node_id)
                one = time.monotonic() - started
                assert one >= SLOW_MS / 1000
                # A loop blocked for 300 ms would tick once at most; a free one ticks about 30 times.
                assert ticks >= 10, f"the loop ticked {ticks} times during a {one:.2f}s call"

                started = time.monotonic()
                await asyncio.gather(*(db.get_node(node_id) for _ in range(3)))
                # Three delayed calls on three threads take about one delay, not three.
                assert time.monotonic() - started < 2.5 * SLOW_MS / 1000
            finally:
                stop.set()
                await ticking
                await db.set_faults("")

    run(scenario())


def test_close_waits_and_later_calls_fail(make_db):
    async def scenario():
        db = await make_db()
        await db.stats()
        await db.close()
        with pytest.raises(engram.Unavailable):
            await db.stats()

    run(scenario())


def test_one_object_serves_successive_event_loops(library, folder):
    db = run(engram.aio.open(folder, library=library))
    try:
        run(db.create_node("Entity", "a"))  # a first loop, then it ends
        assert run(db.get_node("a"))["id"] == "a"  # a second one: the object is bound to no loop
    finally:
        run(db.close())


def test_wrapping_a_blocking_engram_shares_it(embedded):
    with embedded as sync:
        db = engram.aio.AsyncEngram(sync, workers=2)
        assert db.workers == 2
        run(db.create_node("Entity", "shared"))
        assert sync.get_node("shared")["label"] == "Entity"


def test_open_failure_raises_and_leaves_no_threads(tmp_path, library):
    (tmp_path / "not-a-folder").write_text("x")
    before = set(threading.enumerate())
    with pytest.raises(engram.EngramError):
        run(engram.aio.open(str(tmp_path / "not-a-folder"), library=library))
    time.sleep(0.1)
    leftover = [t for t in threading.enumerate() if t not in before and t.name.startswith("engram-aio")]
    assert not leftover
