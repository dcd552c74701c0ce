"""Which engram the compat stores use, and the guard every store call goes through.

The original's Neo4jStore and QdrantStore each talk to their own server; here both are views of one engram, so
that a MemorySaga over a Neo4jStore and a QdrantStore writes one store's graph and vectors. The engram is:
- the `engram=` keyword of the store: an engram.Engram, engram.Remote, engram.aio.AsyncEngram, or a folder path
  or http(s) URL as text;
- else the store's own `uri` / `url` when it is an http(s) URL of `engram serve`;
- else the process default: what engram.compat.configure() was given, else $ENGRAM_COMPAT (a folder or a URL),
  else http://127.0.0.1:6333 (engram serve's default address, and the original QdrantStore's default URL).
Stores naming the same folder or URL share one opened engram (a folder is open in one process at most once),
which is closed when the last of them closes."""

import asyncio
import concurrent.futures
import os
import threading
from typing import Any, Awaitable, Callable, Dict, Generic, Optional, Tuple, TypeVar, Union

from .. import errors
from .._operations import Operations
from ..aio import AsyncEngram
from .resilience import CircuitBreaker, CircuitBreakerConfig, get_circuit_breaker

T = TypeVar("T")
Target = Union[str, Operations, AsyncEngram]

DEFAULT_URL = "http://127.0.0.1:6333"
DEFAULT_TIMEOUT = 30.0

# The engram errors that mean the request was wrong, not that the store failed: they pass through the store
# breakers without counting (the original counted them, so one caller's bad input tripped every caller's breaker).
CALLER_ERRORS = (errors.InvalidArgument, errors.NotFound, errors.Conflict, ValueError, LookupError, TypeError)

_default: Dict[str, Any] = {}
_shared: Dict[str, Tuple["concurrent.futures.Future[AsyncEngram]", int]] = {}  # key → (opening, users)
_lock = threading.Lock()


class DatabaseTimeoutError(Exception):
    """A store operation took longer than the store's timeout. The call may still complete in engram."""

    def __init__(self, operation: str, timeout: float) -> None:
        super().__init__(f"Database operation '{operation}' timed out after {timeout}s")
        self.operation = operation
        self.timeout = timeout


class DatabaseConnectionError(Exception):
    """The store could not be reached or initialised."""

    def __init__(self, operation: str = "connection", message: Optional[str] = None) -> None:
        super().__init__(message or f"Database connection failed during '{operation}'")
        self.operation = operation


def configure(target: Union[str, Operations, AsyncEngram], **keywords: Any) -> None:
    """Sets the engram that compat stores use when given neither `engram=` nor an http(s) `uri`/`url`: a data
    folder (opened embedded on first use, `keywords` passed to engram.open: settings, `library=`), an http(s)
    URL of `engram serve` (`keywords` to engram.connect: `api_key=`), or an engram object."""
    with _lock:
        _default.clear()
        _default.update(target=target, keywords=keywords)


def _key(target: str) -> str:
    return target if target.startswith(("http://", "https://")) else os.path.realpath(target)


class Backend:
    """One store's hold on its engram: opened lazily on first use (the original connected lazily too), shared
    by name with the other stores, released by close()."""

    def __init__(self, engram: Optional[Target], address: Optional[str], api_key: Optional[str] = None) -> None:
        if engram is None and address and address.startswith(("http://", "https://")):
            engram = address
        elif engram is None and address:
            raise ValueError(f"{address!r}: engram.compat reaches engram through its HTTP API or in this process; "
                             "pass engram= a data folder, an http(s) URL of `engram serve`, or an engram object "
                             "(Bolt clients can use the server's Bolt port directly)")
        keywords: Dict[str, Any] = {"api_key": api_key} if api_key else {}
        if engram is None:
            with _lock:
                engram = _default.get("target") or os.environ.get("ENGRAM_COMPAT") or DEFAULT_URL
                keywords = dict(_default.get("keywords", keywords)) if "target" in _default else keywords
        if isinstance(engram, str) and not engram.startswith(("http://", "https://")):
            keywords.pop("api_key", None)  # a server's key means nothing to a folder opened here
        self._target = engram
        self._keywords = keywords
        self._db: Optional[AsyncEngram] = None
        self._key: Optional[str] = None
        self._opening: "Optional[concurrent.futures.Future[AsyncEngram]]" = None

    @property
    def description(self) -> str:
        """Where the engram is, credentials never included (a URL's user:password@ is cut)."""
        target = self._target
        if isinstance(target, str):
            if "@" in target and "://" in target:
                scheme, rest = target.split("://", 1)
                return f"{scheme}://{rest.split('@', 1)[1]}"
            return target
        return repr(target)

    @property
    def opened(self) -> bool:
        return self._db is not None

    async def db(self) -> AsyncEngram:
        """The AsyncEngram, opened or connected on first use. A folder is opened on a thread (opening reads its
        log), never on the event loop; stores of one folder wait for the same opening."""
        if self._db is not None:
            return self._db
        target = self._target
        if isinstance(target, AsyncEngram):
            self._db = target
        elif isinstance(target, Operations):
            self._db = AsyncEngram(target)
        elif self._opening is None:
            self._opening = _hold(_key(target), target, self._keywords)
            try:
                self._db = await asyncio.wrap_future(self._opening)
            except BaseException:
                self._opening = None
                raise
            self._key = _key(target)
        else:
            await asyncio.wrap_future(self._opening)  # another call of this store is opening it
        assert self._db is not None
        return self._db

    async def close(self) -> None:
        """Lets go of the engram; one this package opened is closed when its last store lets go."""
        db, key, self._db, self._key, self._opening = self._db, self._key, None, None, None
        if db is None or key is None:
            return  # an engram object the caller gave: the caller closes it
        with _lock:
            opening, users = _shared[key]
            if users > 1:
                _shared[key] = (opening, users - 1)
                return
            del _shared[key]
        await db.close()


def _hold(key: str, target: str, keywords: Dict[str, Any]) -> "concurrent.futures.Future[AsyncEngram]":
    """A future of the shared engram at `key`, counted as one more user; the first user starts the opening."""
    with _lock:
        opening, users = _shared.get(key, (None, 0))
        start = opening is None
        if start:
            opening = concurrent.futures.Future()
        _shared[key] = (opening, users + 1)
    if start:
        threading.Thread(target=_open, args=(key, target, keywords, opening), name="engram-compat-open",
                         daemon=True).start()
    return opening


def _open(key: str, target: str, keywords: Dict[str, Any], opening: "concurrent.futures.Future[AsyncEngram]") -> None:
    import engram
    try:
        if target.startswith(("http://", "https://")):
            opening.set_result(AsyncEngram(engram.connect(target, **keywords)))
        else:
            opening.set_result(AsyncEngram(engram.open(target, **keywords)))
    except BaseException as e:
        with _lock:
            _shared.pop(key, None)  # the next store tries again
        opening.set_exception(e)


class Guard:
    """Runs a store's engram calls the way the original ran its driver calls: through the store's circuit
    breaker and under its timeout, a timeout raising DatabaseTimeoutError. Caller errors do not count."""

    def __init__(self, name: str, config: Optional[CircuitBreakerConfig], timeout: Optional[float]) -> None:
        base = config or CircuitBreakerConfig(failure_threshold=5, success_threshold=2, reset_timeout=60.0)
        guarded = CircuitBreakerConfig(base.failure_threshold, base.success_threshold, base.reset_timeout,
                                       tuple(base.excluded_exceptions) + CALLER_ERRORS, base.half_open_max_calls)
        self.breaker: CircuitBreaker = get_circuit_breaker(name, guarded)
        self.timeout = timeout or DEFAULT_TIMEOUT  # the original's `timeout or 30`: 0 means the default too

    async def run(self, operation: str, call: Callable[[], Awaitable[T]]) -> T:
        async def timed() -> T:
            try:
                return await asyncio.wait_for(call(), self.timeout)
            except asyncio.TimeoutError:
                raise DatabaseTimeoutError(operation, self.timeout) from None

        return await self.breaker.execute(timed)


class SessionStores(Generic[T]):
    """The original's per-session store singletons (get_neo4j_store, get_qdrant_store): one store per session
    id, made with `make` on first use, all on the default engram."""

    def __init__(self, make: Callable[[], T]) -> None:
        self._make = make
        self._stores: Dict[str, T] = {}
        self._lock = threading.Lock()

    def get(self, session_id: str) -> T:
        with self._lock:
            if session_id not in self._stores:
                self._stores[session_id] = self._make()
            return self._stores[session_id]

    async def close(self, session_id: Optional[str]) -> None:
        """Closes the store of `session_id`, or every one when None."""
        with self._lock:
            names = list(self._stores) if session_id is None else [session_id]
            closing = [self._stores.pop(name) for name in names if name in self._stores]
        for store in closing:
            await store.close()  # type: ignore[attr-defined]
