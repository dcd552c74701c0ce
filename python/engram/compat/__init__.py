"""engram.compat — the original system's storage classes over engram, so that code written for it changes an
import and keeps working:

    from engram.compat import Neo4jStore, QdrantStore          # was: from t4dm.storage import ...
    from engram.compat.saga import MemorySaga                  # was: from t4dm.storage.saga import ...

    engram.compat.configure("/var/lib/agent-memory")           # or an http(s) URL of `engram serve`
    graph, vectors = Neo4jStore(), QdrantStore(dimension=384)  # both views of that one engram
    await vectors.initialize()

Same names, async methods, parameters, defaults, return shapes and exceptions as the original (its package
exports, below, and the saga module's classes); where the original was defective the classes behave correctly,
and docs/python.md lists every method, the engram operation behind it and each difference. Which engram the
stores use: the `engram=` keyword of each store (a folder, a URL, or an engram object), else an http(s) `uri` /
`url`, else configure() / $ENGRAM_COMPAT / http://127.0.0.1:6333."""

from ._backend import DatabaseConnectionError, DatabaseTimeoutError, configure
from .neo4j_store import Neo4jStore
from .qdrant_store import QdrantStore
from .resilience import (CircuitBreaker, CircuitBreakerConfig, CircuitBreakerError, CircuitState, get_circuit_breaker,
                         get_storage_circuit_breakers, reset_all_circuit_breakers)
from .saga import CompensationError, MemorySaga, Saga, SagaResult, SagaState

__all__ = ["CircuitBreaker", "CircuitBreakerConfig", "CircuitBreakerError", "CircuitState", "Neo4jStore",
           "QdrantStore", "get_circuit_breaker", "get_storage_circuit_breakers", "reset_all_circuit_breakers",
           "MemorySaga", "Saga", "SagaResult", "SagaState", "CompensationError", "DatabaseTimeoutError",
           "DatabaseConnectionError", "configure"]
