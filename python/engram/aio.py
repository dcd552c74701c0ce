"""engram.aio — the same API for asyncio: every method of engram.Engram / engram.Remote as a coroutine with the
same name, keywords, defaults and docstring, whose blocking call runs on a worker thread, never on the event loop.

    import engram.aio
    async with await engram.aio.open("/var/lib/agent-memory") as db:
        await db.create_entity(id=1, text="Alice fixed the WAL")
        hits, nodes = await asyncio.gather(db.search(collection="entities", vector=v), db.get_nodes(ids=["1"]))

    db = engram.aio.connect("http://127.0.0.1:6333", api_key=KEY)   # engram serve

Why a thread per call rather than an asyncio-native client: the embedded store is a C library (its calls block
in fsync and in the store's locks) and the remote one speaks HTTP through urllib; a worker thread lets both block
without stalling the loop, and ctypes releases the GIL, so calls on different threads run in parallel inside
engram.

Why a dedicated executor per AsyncEngram rather than asyncio.to_thread (the loop's default executor): the
default executor is shared with everything else the program offloads (getaddrinfo among it), so a burst of slow
engram writes could starve DNS lookups and the reverse; a pool of its own bounds how many engram calls run at
once (`workers`), lets close() wait for exactly the calls in flight, and does not tie the object to one event
loop, so it may be used from several loops (one per thread, or one per test) in turn.

Cancelling the task awaiting a call does not stop the call: the thread finishes it, and a write may take effect
(engram's writes are idempotent, so retry)."""

import asyncio
import concurrent.futures
import functools
import inspect
import os
from typing import Any, Callable, Mapping, Optional, TypeVar

from . import _transport
from . import open as _blocking_open
from ._operations import Operations
from .errors import error_for

__all__ = ["open", "connect", "AsyncEngram"]

T = TypeVar("T")


class AsyncEngram:
    """An engram store for asyncio: each method of engram.Operations is a coroutine here, running the blocking
    call on this object's own threads. Built by engram.aio.open / engram.aio.connect, or around an Engram or
    Remote you already have: `AsyncEngram(db)` (then the two share the store; closing either closes it).

    `sync` is the blocking object underneath, for code that is not async. Use `async with` or `await close()`."""

    def __init__(self, sync: Operations, *, workers: Optional[int] = None) -> None:
        # As many threads as asyncio.to_thread would allow by default: enough to keep engram's own threads
        # busy, few enough that a flood of calls queues here rather than inside the store.
        self.workers = workers or min(32, (os.cpu_count() or 1) + 4)
        self.sync = sync
        self._executor = concurrent.futures.ThreadPoolExecutor(max_workers=self.workers,
                                                               thread_name_prefix="engram-aio")
        self._closed = False

    async def _run(self, function: Callable[..., T], *args: Any, **keywords: Any) -> T:
        if self._closed:  # fail as the blocking object does, without a thread
            raise error_for("unavailable", f"{getattr(function, '__name__', 'call')}: this AsyncEngram is closed")
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._executor, functools.partial(function, *args, **keywords))

    async def close(self) -> None:
        """Closes the store after the calls in flight (on a worker thread: closing waits for them), then stops
        the threads. Later calls raise engram.Unavailable; closing again does nothing."""
        if self._closed:
            return
        await self._run(self.sync.close)  # type: ignore[attr-defined]
        self._closed = True
        self._executor.shutdown(wait=False)

    async def __aenter__(self) -> "AsyncEngram":
        return self

    async def __aexit__(self, *exc: Any) -> None:
        await self.close()

    def __repr__(self) -> str:
        return f"<engram.aio.AsyncEngram over {self.sync!r}>"


def _coroutine_for(name: str, method: Callable[..., Any]) -> Callable[..., Any]:
    """The async twin of one Operations method: same name, signature, annotations and docstring (help() and
    inspect.signature show the real keywords), calling the blocking method on a worker thread."""

    async def call(self: AsyncEngram, *args: Any, **keywords: Any) -> Any:
        return await self._run(getattr(self.sync, name), *args, **keywords)

    functools.update_wrapper(call, method)
    call.__qualname__ = f"AsyncEngram.{name}"
    call.__signature__ = inspect.signature(method)  # type: ignore[attr-defined]
    return call


def _install_operations() -> None:
    """One coroutine per public method of Operations, so that a new operation is async here without a line of
    this module changing."""
    for name, member in vars(Operations).items():
        if not name.startswith("_") and callable(member) and not hasattr(AsyncEngram, name):
            setattr(AsyncEngram, name, _coroutine_for(name, member))


_install_operations()


async def open(path: str, *, library: Optional[str] = None, settings: Optional[Mapping[str, Any]] = None,
               workers: Optional[int] = None, **keywords: Any) -> AsyncEngram:
    """engram.open for asyncio: opens (or creates) the data folder `path` on a worker thread (opening may
    replay the log) and returns the AsyncEngram. Settings as in engram.open: keywords with `__` for a dot
    (`graph__schema="open"`) or `settings={...}`. `workers` bounds the calls running at once."""
    opened = AsyncEngram(_Opening(), workers=workers)
    try:
        opened.sync = await opened._run(_blocking_open, path, library=library, settings=settings, **keywords)
    except BaseException:
        opened._executor.shutdown(wait=False)
        raise
    return opened


def connect(url: str, *, api_key: Optional[str] = None, timeout: float = 60.0,
            workers: Optional[int] = None) -> AsyncEngram:
    """engram.connect for asyncio: the API against `engram serve` at `url`. Nothing is sent until the first
    call, so this needs no await; each call is one HTTP request on a worker thread."""
    return AsyncEngram(_transport.Remote(url, api_key=api_key, timeout=timeout), workers=workers)


class _Opening(Operations):
    """What an AsyncEngram holds while engram.aio.open opens its folder on one of its threads."""

    def _call(self, op: str, arguments: Mapping[str, Any]) -> Any:
        raise error_for("unavailable", f"{op}: the folder is still being opened")
