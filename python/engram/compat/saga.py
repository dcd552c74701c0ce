"""The original's sagas (t4dm.storage.saga): Saga — steps with compensations, run in order and undone in reverse
on failure — and MemorySaga, which writes a memory to the vector store and the graph store together.

Why Saga runs here in Python and not as one of engram's sagas: its steps are the caller's own async callables
(any code, not only engram calls), which only Python can run and undo. MemorySaga keeps the original's method
shapes and runs its steps over the compat stores (so over one engram), with the original's defects fixed:
- a step that timed out or was cancelled may have taken effect, so it is compensated too (compensations must
  be idempotent: the stores' deletes are);
- compensation goes to engram directly, past the circuit breaker and the timeout the step met, and is tried
  3 times; if it still fails the saga is FAILED (create_episode reported COMPENSATED with an orphan left);
- delete_memory reads the pre-image (vector, payload, node, relationships) first and refuses to delete what it
  could not read, and its compensation restores the relationships too;
- undoing a vector write puts back the point it replaced (the original deleted it, destroying older data);
- a node gets the memory's id even when the caller's graph properties lack it.
What engram's own memory operations add (db.create_episode, delete_memory: docs/operations.md, "Memories") is a
durable log: a crash mid-saga is undone on the next open. A Python saga lives in the process: after a crash,
`db.check(repair=True)` finds the orphan it may leave. New code should prefer those operations."""

import asyncio
import dataclasses
import enum
import uuid
from typing import Any, Awaitable, Callable, Dict, List, Optional, Tuple

from .. import errors
from ._backend import DatabaseTimeoutError
from .neo4j_store import Neo4jStore
from .qdrant_store import QdrantStore, _point_id

__all__ = ["SagaState", "SagaStep", "SagaResult", "CompensationError", "Saga", "MemorySaga"]

Action = Callable[[], Awaitable[Any]]
COMPENSATION_ATTEMPTS = 3
COMPENSATION_FAILURES_KEPT = 100


class SagaState(enum.Enum):
    PENDING = "pending"
    RUNNING = "running"
    COMMITTED = "committed"
    COMPENSATING = "compensating"
    COMPENSATED = "compensated"
    FAILED = "failed"


@dataclasses.dataclass
class SagaStep:
    """One step: `action` does it, `compensate` undoes it (both zero-argument async callables)."""

    name: str
    action: Action
    compensate: Optional[Action]
    result: Any = None
    completed: bool = False
    compensated: bool = False
    uncertain: bool = False  # it ended by a timeout or a cancellation, so it may have taken effect


@dataclasses.dataclass
class SagaResult:
    """How a saga ended: COMMITTED with every step's result, COMPENSATED (undone) or FAILED (an undo failed too),
    with the failing step, its error and the compensation errors."""

    saga_id: str
    state: SagaState
    results: List[Any] = dataclasses.field(default_factory=list)
    error: Optional[str] = None
    failed_step: Optional[str] = None
    compensation_errors: List[str] = dataclasses.field(default_factory=list)


class CompensationError(Exception):
    """A saga failed and could not be undone completely: something it wrote may remain."""

    def __init__(self, saga_id: str, saga_name: str, original_error: str, failed_step: Optional[str],
                 compensation_errors: List[str]) -> None:
        super().__init__(f"Saga[{saga_id}] '{saga_name}' compensation failed. Original failure at "
                         f"'{failed_step}': {original_error}. Compensation errors: {compensation_errors}")
        self.saga_id = saga_id
        self.saga_name = saga_name
        self.original_error = original_error
        self.failed_step = failed_step
        self.compensation_errors = compensation_errors

    def to_dict(self) -> Dict[str, Any]:
        return {"saga_id": self.saga_id, "saga_name": self.saga_name, "original_error": self.original_error,
                "failed_step": self.failed_step, "compensation_errors": self.compensation_errors}


class Saga:
    """Steps run in order within `timeout` seconds. If one fails (or time runs out, or the saga is cancelled),
    the completed steps are compensated in reverse order, and so is a step cut short by a timeout or a
    cancellation, which may have taken effect (the original left it); a step that raised is not (it says it did
    nothing, and undoing it could remove what was there before). Each compensation is tried 3 times. The result
    is COMPENSATED, or FAILED when a compensation failed, which raises CompensationError if
    `raise_on_compensation_failure`. A cancelled saga compensates, then lets the cancellation through."""

    def __init__(self, name: str, timeout: float = 60.0, raise_on_compensation_failure: bool = True) -> None:
        self.name = name
        self.timeout = timeout
        self.raise_on_compensation_failure = raise_on_compensation_failure
        self.saga_id = uuid.uuid4().hex[:8]
        self.state = SagaState.PENDING
        self.steps: List[SagaStep] = []
        self._compensation_failures: List[str] = []

    def add_step(self, name: str, action: Action, compensate: Optional[Action]) -> "Saga":
        """Appends a step; returns the saga, for chaining."""
        self.steps.append(SagaStep(name, action, compensate))
        return self

    async def execute(self) -> SagaResult:
        """Runs the steps and returns the SagaResult. A saga runs once: executing it again is a RuntimeError
        (the original ran every action again)."""
        if self.state is not SagaState.PENDING:
            raise RuntimeError(f"saga {self.saga_id} '{self.name}' has run already ({self.state.value})")
        self.state = SagaState.RUNNING
        results: List[Any] = []
        failed_step: Optional[str] = None
        error: Optional[str] = None
        deadline = None
        try:
            async with asyncio.timeout(self.timeout) as deadline:
                for step in self.steps:
                    failed_step = step.name
                    try:
                        step.result = await step.action()
                    except BaseException as e:
                        step.uncertain = _maybe_done(e)
                        raise
                    step.completed = True
                    results.append(step.result)
            self.state = SagaState.COMMITTED
            return SagaResult(self.saga_id, self.state, results)
        except asyncio.CancelledError:
            await asyncio.shield(self._compensate())
            raise
        except Exception as e:
            if isinstance(e, TimeoutError) and deadline is not None and deadline.expired():
                failed_step, error = "timeout", f"Saga exceeded {self.timeout}s timeout"
            else:
                error = str(e)
        compensation_errors = await self._compensate()
        if compensation_errors:
            self.state = SagaState.FAILED
            if self.raise_on_compensation_failure:
                raise CompensationError(self.saga_id, self.name, error or "", failed_step, compensation_errors)
        else:
            self.state = SagaState.COMPENSATED
        return SagaResult(self.saga_id, self.state, results, error, failed_step, compensation_errors)

    async def _compensate(self) -> List[str]:
        self.state = SagaState.COMPENSATING
        failures: List[str] = []
        for step in reversed(self.steps):
            if not (step.completed or step.uncertain) or step.compensated:
                continue
            if step.compensate is None:
                failures.append(f"{step.name}: no compensation")
                continue
            for attempt in range(COMPENSATION_ATTEMPTS):
                try:
                    await step.compensate()
                    step.compensated = True
                    break
                except Exception as e:
                    if attempt == COMPENSATION_ATTEMPTS - 1:
                        failures.append(f"{step.name}: {e}")
        self._compensation_failures = (self._compensation_failures + failures)[-COMPENSATION_FAILURES_KEPT:]
        return failures


class MemorySaga:
    """Writes and deletes a memory — a point in the vector store and a node in the graph, same id — across the
    two compat stores, undoing the half that succeeded when the other fails."""

    def __init__(self, qdrant_store: QdrantStore, neo4j_store: Neo4jStore) -> None:
        self.qdrant = qdrant_store
        self.neo4j = neo4j_store

    def _node_props(self, memory_id: str, graph_props: Dict[str, Any]) -> Dict[str, Any]:
        """The node's properties with the memory's id (the original's episodes had none, so no lookup, delete or
        compensation could find them). Another id there is a ValueError."""
        props = dict(graph_props)
        if props.setdefault("id", str(memory_id)) != str(memory_id):
            raise ValueError(f"graph_props id {props['id']!r} differs from the memory id {memory_id!r}")
        return props

    async def _before(self, collection: str, memory_id: str) -> List[Dict[str, Any]]:
        """The point a write of `memory_id` would replace (none, or one with its vectors), read so that undoing
        the write puts it back rather than deleting it (the original's undo destroyed a point that was there)."""
        db = await self.qdrant._backend.db()
        try:
            return await db.get(collection=collection, ids=[_point_id(memory_id)], with_vectors=True)
        except errors.NotFound:
            return []  # no such collection yet: the write will fail, or create it

    async def _undo_vector(self, collection: str, memory_id: str, before: List[Dict[str, Any]]) -> None:
        db = await self.qdrant._backend.db()  # past the breaker: the store that just failed may have opened it
        if before:
            await db.upsert(collection=collection, points=before)
        else:
            await db.delete(collection=collection, ids=[_point_id(memory_id)])

    async def _undo_node(self, memory_id: str, label: str) -> None:
        try:
            await (await self.neo4j._backend.db()).delete_node(id=str(memory_id), label=label)
        except errors.NotFound:
            pass

    async def create_episode(self, episode_id: str, vector: List[float], vector_payload: Dict[str, Any],
                             graph_props: Dict[str, Any], collection: str) -> SagaResult:
        """Writes the episode's vector and its Episode node at once. COMMITTED with [None, node id]; on a
        failure the other half is undone (even one that timed out: it may have been written) and the result is
        COMPENSATED with failed_step "add_vector" or "create_node" (both: "parallel_execution"), or FAILED
        if the undo failed too. The saga id is "parallel_create_episode", as in the original."""
        props = self._node_props(episode_id, graph_props)
        before = await self._before(collection, episode_id)
        outcome = await asyncio.gather(self.qdrant.add(collection, [episode_id], [vector], [vector_payload]),
                                       self.neo4j.create_node("Episode", props), return_exceptions=True)
        vector_error, node_error = [r if isinstance(r, BaseException) else None for r in outcome]
        if vector_error is None and node_error is None:
            return SagaResult("parallel_create_episode", SagaState.COMMITTED, list(outcome))
        failed = "parallel_execution" if vector_error and node_error else "add_vector" if vector_error \
            else "create_node"
        undo_errors = []
        if vector_error is None or _maybe_done(vector_error):
            undo_errors += await _retry(lambda: self._undo_vector(collection, episode_id, before))
        if node_error is None or _maybe_done(node_error):
            undo_errors += await _retry(lambda: self._undo_node(episode_id, "Episode"))
        error = "; ".join(str(e) for e in (vector_error, node_error) if e is not None)
        state = SagaState.FAILED if undo_errors else SagaState.COMPENSATED
        return SagaResult("parallel_create_episode", state, [], error, failed, undo_errors)

    async def create_entity_with_relationships(self, entity_id: str, vector: List[float],
                                               vector_payload: Dict[str, Any], graph_props: Dict[str, Any],
                                               relationships: List[Tuple[str, str, Dict[str, Any]]],
                                               collection: str) -> SagaResult:
        """Writes the entity's vector, its Entity node, then its relationships (target_id, rel_type, props)
        as a Saga: 3 results (2 without relationships). Undoing the node removes its relationships."""
        props = self._node_props(entity_id, graph_props)
        before = await self._before(collection, entity_id)
        saga = Saga("create_entity_with_relationships")
        saga.add_step("add_vector", lambda: self.qdrant.add(collection, [entity_id], [vector], [vector_payload]),
                      lambda: self._undo_vector(collection, entity_id, before))
        saga.add_step("create_node", lambda: self.neo4j.create_node("Entity", props),
                      lambda: self._undo_node(entity_id, "Entity"))
        if relationships:
            async def relate() -> int:
                for target_id, rel_type, rel_props in relationships:
                    await self.neo4j.create_relationship(str(entity_id), target_id, rel_type, rel_props)
                return len(relationships)

            saga.add_step("create_relationships", relate, lambda: self._undo_node(entity_id, "Entity"))
        return await saga.execute()

    async def delete_memory(self, memory_id: str, memory_type: str, collection: str) -> SagaResult:
        """Deletes the memory's vector and its node (`memory_type` Episode, Entity or Procedure) with its
        relationships. Their pre-image is read first; if that read fails nothing is deleted and the saga is
        COMPENSATED with failed_step "fetch_backup" (the original deleted anyway and could not restore). An undo
        restores the vector as stored, the node and its relationships whose other end still exists."""
        try:
            points = await self.qdrant.get_with_vectors(collection, [memory_id])
            node = await self.neo4j.get_node(str(memory_id), label=memory_type)
            relationships = await self.neo4j.get_relationships(str(memory_id)) if node is not None else []
        except Exception as e:
            return SagaResult(uuid.uuid4().hex[:8], SagaState.COMPENSATED, [], str(e), "fetch_backup")
        point = points[0] if points else None

        async def restore_vector() -> None:
            if point is not None:
                await (await self.qdrant._backend.db()).upsert(collection=collection, points=[
                    {"id": _point_id(memory_id), "vector": point[2], "payload": point[1]}])

        async def restore_node() -> None:
            if node is None:
                return
            db = await self.neo4j._backend.db()
            try:
                await db.create_node(label=memory_type, id=str(memory_id), properties=node)
            except errors.Conflict:
                pass  # still there: the delete did not happen
            for rel in relationships:
                source, target = (memory_id, rel["other_id"]) if rel["direction"] == "out" \
                    else (rel["other_id"], memory_id)
                try:
                    await db.create_relationship(source_id=str(source), target_id=str(target),
                                                 type=rel["rel_type"], properties=rel["properties"])
                except errors.NotFound:
                    continue  # the other end is gone too: nothing to join it to

        saga = Saga("delete_memory")
        saga.add_step("delete_vector", lambda: self.qdrant.delete(collection, [memory_id]), restore_vector)
        saga.add_step("delete_node", lambda: self.neo4j.delete_node(str(memory_id), memory_type), restore_node)
        return await saga.execute()


def _maybe_done(error: BaseException) -> bool:
    """Whether a step that ended with `error` may still have taken effect: a timeout or a cancellation stops
    the wait, not necessarily the write."""
    return isinstance(error, (TimeoutError, asyncio.CancelledError, DatabaseTimeoutError, errors.Timeout))


async def _retry(undo: Callable[[], Awaitable[None]]) -> List[str]:
    for attempt in range(COMPENSATION_ATTEMPTS):
        try:
            await undo()
            return []
        except Exception as e:
            if attempt == COMPENSATION_ATTEMPTS - 1:
                return [str(e)]
    return []
