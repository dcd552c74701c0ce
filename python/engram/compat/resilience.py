"""The original's circuit breaker (t4dm.storage.resilience): CircuitBreaker, its config, state and error, and the
name-keyed registry the stores share.

It guards Python callables, as the original's does, so it is implemented here in Python; engram's own breakers
(one per store, inside engram: docs/operations.md, "Degraded operation") guard the stores underneath and show in
`health`. The compat stores put every engram call through the breaker named "neo4j" or "qdrant", so callers see
the original's CircuitBreakerError, states and stats.

Where the original was defective this one behaves correctly (docs/python.md lists each difference):
- execute awaits whatever awaitable the callable returns (`lambda: coro()` included), so success is never
  recorded for a coroutine nobody awaited;
- HALF_OPEN lets `half_open_max_calls` (1) probes run at a time; the others fail fast with CircuitBreakerError;
- the reset timeout is measured on the monotonic clock (a wall-clock jump neither opens nor closes it); stats
  keep wall-clock times;
- the state is guarded by a threading lock, never held across an await, so one breaker serves several event
  loops and threads, and the registry is thread-safe;
- asking the registry again for a name with another config warns instead of silently ignoring it."""

import dataclasses
import enum
import functools
import inspect
import threading
import time
import warnings
from typing import Any, Awaitable, Callable, Dict, Optional, Tuple, Type, TypeVar

__all__ = ["CircuitState", "CircuitBreakerConfig", "CircuitBreakerState", "CircuitBreaker", "CircuitBreakerError",
           "get_circuit_breaker", "get_storage_circuit_breakers", "reset_all_circuit_breakers"]

T = TypeVar("T")


class CircuitState(enum.Enum):
    """CLOSED: calls run. OPEN: calls fail at once. HALF_OPEN: a probe may run to test recovery."""

    CLOSED = "closed"
    OPEN = "open"
    HALF_OPEN = "half_open"


@dataclasses.dataclass
class CircuitBreakerConfig:
    """`failure_threshold` consecutive failures open the breaker; after `reset_timeout` seconds it lets probes
    through (HALF_OPEN), `success_threshold` successful probes close it. Exceptions of `excluded_exceptions`
    types pass through without counting either way. `half_open_max_calls` (not in the original, which let any
    number through) bounds the probes running at once."""

    failure_threshold: int = 5
    success_threshold: int = 2
    reset_timeout: float = 60.0
    excluded_exceptions: Tuple[Type[BaseException], ...] = ()
    half_open_max_calls: int = 1


@dataclasses.dataclass
class CircuitBreakerState:
    """The counters behind a breaker. Times are wall-clock (time.time()) as the original reports them."""

    state: CircuitState = CircuitState.CLOSED
    failure_count: int = 0
    success_count: int = 0
    last_failure_time: float = 0.0
    last_transition_time: float = dataclasses.field(default_factory=time.time)

    def record_failure(self) -> None:
        self.failure_count += 1
        self.success_count = 0
        self.last_failure_time = time.time()

    def record_success(self) -> None:
        self.success_count += 1
        self.failure_count = 0

    def reset(self) -> None:
        self.failure_count = 0
        self.success_count = 0


class CircuitBreakerError(Exception):
    """The breaker `name` is OPEN (or HALF_OPEN with its probe slots taken): the call was not made."""

    def __init__(self, name: str, failures: int, retry_after: float) -> None:
        super().__init__(f"Circuit breaker '{name}' is OPEN after {failures} failures. "
                         f"Will retry in {retry_after:.1f}s")
        self.name = name
        self.failures = failures
        self.retry_after = retry_after


class CircuitBreaker:
    """Guards calls to something that fails: `await breaker.execute(func, *args)` runs func (a plain function,
    a coroutine function, or anything returning an awaitable) unless the breaker is open."""

    def __init__(self, name: str, config: Optional[CircuitBreakerConfig] = None) -> None:
        self.name = name
        self.config = config or CircuitBreakerConfig()
        self._state = CircuitBreakerState()
        self._lock = threading.Lock()
        self._opened_at = 0.0  # time.monotonic() of the last failure, which the reset timeout counts from
        self._probes = 0

    @property
    def state(self) -> CircuitState:
        return self._state.state

    @property
    def is_open(self) -> bool:
        """True only in OPEN (HALF_OPEN lets probes through)."""
        return self._state.state is CircuitState.OPEN

    @property
    def failure_count(self) -> int:
        return self._state.failure_count

    def _transition(self, state: CircuitState) -> None:
        self._state.state = state
        self._state.last_transition_time = time.time()

    def _check_state(self) -> None:
        """OPEN turns HALF_OPEN (counters cleared) once `reset_timeout` has passed since the last failure."""
        with self._lock:
            self._check_state_locked()

    def _check_state_locked(self) -> None:
        if (self._state.state is CircuitState.OPEN
                and time.monotonic() - self._opened_at >= self.config.reset_timeout):
            self._transition(CircuitState.HALF_OPEN)
            self._state.reset()
            self._probes = 0

    def _admit(self) -> bool:
        """Lets the call through or raises CircuitBreakerError; True when the call is a HALF_OPEN probe."""
        with self._lock:
            self._check_state_locked()
            state = self._state.state
            if state is CircuitState.CLOSED:
                return False
            if state is CircuitState.HALF_OPEN and self._probes < self.config.half_open_max_calls:
                self._probes += 1
                return True
            retry = max(0.0, self.config.reset_timeout - (time.monotonic() - self._opened_at))
            raise CircuitBreakerError(self.name, self._state.failure_count, retry)

    def _record(self, probe: bool, failed: bool) -> None:
        with self._lock:
            if probe:
                self._probes -= 1
            if failed:
                self._state.record_failure()
                self._opened_at = time.monotonic()
                if (self._state.state is CircuitState.HALF_OPEN
                        or self._state.failure_count >= self.config.failure_threshold):
                    self._transition(CircuitState.OPEN)
            else:
                self._state.record_success()
                if (self._state.state is CircuitState.HALF_OPEN
                        and self._state.success_count >= self.config.success_threshold):
                    self._transition(CircuitState.CLOSED)
                    self._state.reset()

    async def execute(self, func: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        """Runs func(*args, **kwargs), awaiting its result if it is awaitable, and returns what it gave.
        Raises CircuitBreakerError without calling func while open; re-raises func's exception after counting
        it (unless its type is excluded). A cancellation counts neither way."""
        probe = self._admit()
        try:
            result = func(*args, **kwargs)
            if inspect.isawaitable(result):
                result = await result
        except self.config.excluded_exceptions:
            self._release(probe)
            raise
        except Exception:
            self._record(probe, failed=True)
            raise
        except BaseException:
            self._release(probe)
            raise
        self._record(probe, failed=False)
        return result

    def _release(self, probe: bool) -> None:
        if probe:
            with self._lock:
                self._probes -= 1

    def protect(self, func: Callable[..., Awaitable[T]]) -> Callable[..., Awaitable[T]]:
        """A decorator: the function's every call goes through execute."""

        @functools.wraps(func)
        async def guarded(*args: Any, **kwargs: Any) -> T:
            return await self.execute(func, *args, **kwargs)

        return guarded

    def get_stats(self) -> Dict[str, Any]:
        """{name, state (its value), failure_count, success_count, last_failure, last_transition} (wall clock)."""
        with self._lock:
            return {"name": self.name, "state": self._state.state.value,
                    "failure_count": self._state.failure_count, "success_count": self._state.success_count,
                    "last_failure": self._state.last_failure_time,
                    "last_transition": self._state.last_transition_time}

    async def reset(self) -> None:
        """Back to CLOSED with the counters cleared."""
        with self._lock:
            self._transition(CircuitState.CLOSED)
            self._state.reset()
            self._probes = 0

    def __repr__(self) -> str:
        return f"<CircuitBreaker {self.name!r} {self._state.state.value}>"


_registry: Dict[str, CircuitBreaker] = {}
_registry_lock = threading.Lock()


def get_circuit_breaker(name: str, config: Optional[CircuitBreakerConfig] = None) -> CircuitBreaker:
    """The process-wide breaker `name`, created with `config` on first use. A later call with a different
    config gets the existing breaker, whose `.config` is the one in force, and a RuntimeWarning."""
    with _registry_lock:
        breaker = _registry.get(name)
        if breaker is None:
            breaker = _registry[name] = CircuitBreaker(name, config)
        elif config is not None and config != breaker.config:
            warnings.warn(f"circuit breaker {name!r} exists already; its config {breaker.config} stays in force",
                          RuntimeWarning, stacklevel=2)
        return breaker


def get_storage_circuit_breakers() -> Dict[str, CircuitBreaker]:
    """A copy of the registry: name → breaker."""
    with _registry_lock:
        return dict(_registry)


async def reset_all_circuit_breakers() -> None:
    """Resets every registered breaker to CLOSED."""
    for breaker in get_storage_circuit_breakers().values():
        await breaker.reset()


def _clear_registry() -> None:
    """Forgets every breaker (for tests, as the original's conftest clears its registry)."""
    with _registry_lock:
        _registry.clear()

