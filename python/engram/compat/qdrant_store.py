"""The original's vector store (t4dm.storage.qdrant_store.QdrantStore) over engram's vector operations: the
same class, async methods, parameters, defaults and return shapes, with no Qdrant server.

Each method is one engram call (or a few), run through the "qdrant" circuit breaker and under the store's
timeout; docs/python.md maps each one. Input is checked before the breaker (a caller's mistake never trips it).
Where the original was defective the store behaves correctly; each difference is in the method's docstring."""

import dataclasses
import math
import threading
import warnings
from typing import Any, Dict, List, Mapping, Optional, Sequence, Tuple

from .. import errors
from ._backend import Backend, SessionStores, DatabaseTimeoutError, Guard, Target
from .resilience import CircuitBreaker, CircuitBreakerConfig

__all__ = ["QdrantStore", "CapsulePoseData", "CAPSULE_PAYLOAD_FIELDS", "get_qdrant_store", "close_qdrant_store",
           "DatabaseTimeoutError"]

DEFAULT_DIMENSION = 1024
ENGRAM_BATCH_MAX = 10000  # engram's points per call, all or nothing (docs/limits.md)
ADVERSARIAL_MIN_SAMPLES = 100
CAPSULE_PAYLOAD_FIELDS = ["capsule_poses", "capsule_activations", "capsule_routing_agreement",
                          "capsule_mean_activation"]

Vector = Sequence[float]


@dataclasses.dataclass
class CapsulePoseData:
    """A memory's capsule-network outputs, read from its payload (32 capsules × 4×4 poses, flattened)."""

    poses: Optional[List[float]] = None
    activations: Optional[List[float]] = None
    routing_agreement: Optional[float] = None
    mean_activation: Optional[float] = None

    @property
    def has_poses(self) -> bool:
        return bool(self.poses)

    @property
    def has_activations(self) -> bool:
        return bool(self.activations)


def _capsules(payload: Mapping[str, Any]) -> Optional[CapsulePoseData]:
    data = CapsulePoseData(payload.get("capsule_poses"), payload.get("capsule_activations"),
                           payload.get("capsule_routing_agreement"), payload.get("capsule_mean_activation"))
    if data.poses is None and data.activations is None and data.routing_agreement is None:
        return None
    return data


def _condition(key: str, value: Any) -> Dict[str, Any]:
    if isinstance(value, (list, tuple)):
        return {"key": key, "match": {"any": list(value)}}
    if isinstance(value, Mapping):
        bounds = {op: value[op] for op in ("gt", "gte", "lt", "lte") if op in value}
        if not bounds or len(bounds) != len(value):
            raise ValueError(f"filter {key!r}: a dict must hold only 'gt', 'gte', 'lt', 'lte', got {dict(value)}")
        return {"key": key, "range": bounds}
    if value is None or isinstance(value, float):
        raise ValueError(f"filter {key!r}: match a string, integer or boolean, or give a range, not {value!r}")
    return {"key": key, "match": {"value": value}}


def _build_filter(conditions: Optional[Mapping[str, Any]]) -> Optional[Dict[str, Any]]:
    """The original's filter dict — {key: scalar (equal), list (any of), {"gte"/"lte"/"gt"/"lt": n} (range)} —
    as a Qdrant filter, every condition required. Difference: gt and lt are honoured (the original dropped
    them, and any other dict, silently); an unknown shape is a ValueError."""
    if not conditions:
        return None
    return {"must": [_condition(key, value) for key, value in conditions.items()]}


def _point_id(point_id: Any) -> Any:
    return point_id if isinstance(point_id, int) and not isinstance(point_id, bool) else str(point_id)


def _sparse(vector: Mapping[int, float]) -> Dict[str, List[Any]]:
    indices = sorted(vector)
    return {"indices": [int(i) for i in indices], "values": [float(vector[i]) for i in indices]}


class QdrantStore:
    """The vector half of the original's storage, over engram.

    `QdrantStore(url=None, api_key=None, timeout=None, circuit_breaker_config=None, hybrid_prefetch_multiplier=1.5,
    dimension=None, *, engram=None)`: `engram` names the engram (a folder, an http(s) URL of `engram serve`, an
    engram object); without it `url` (an `engram serve` URL, authenticated by `api_key`), else the compat default
    (engram.compat.configure, $ENGRAM_COMPAT, http://127.0.0.1:6333 — the original's default URL). Vectors have
    `dimension` (1024) values; `timeout` is per operation (`timeout or 30` s); the breaker is the process-wide
    "qdrant" one.

    The collections are `episodes`, `entities` and `procedures` — engram's memory collections, so that what the
    compat classes write is engram memories (`recall`, `check`) — where the original read `ww_*` names from its
    settings; set the attributes before initialize() to use others."""

    def __init__(self, url: Optional[str] = None, api_key: Optional[str] = None, timeout: Optional[float] = None,
                 circuit_breaker_config: Optional[CircuitBreakerConfig] = None,
                 hybrid_prefetch_multiplier: float = 1.5, dimension: Optional[int] = None, *,
                 engram: Optional[Target] = None) -> None:
        self._backend = Backend(engram, url, api_key)
        self.url = self._backend.description
        self.dimension = dimension or DEFAULT_DIMENSION
        self.hybrid_prefetch_multiplier = max(1.0, hybrid_prefetch_multiplier)
        self.episodes_collection = "episodes"
        self.entities_collection = "entities"
        self.procedures_collection = "procedures"
        self._guard = Guard("qdrant", circuit_breaker_config, timeout)
        self.timeout = self._guard.timeout
        self._norms = [0, 0.0]  # vectors accepted, sum of their norms: the adversarial check's mean
        self._norms_lock = threading.Lock()

    @property
    def circuit_breaker(self) -> CircuitBreaker:
        return self._guard.breaker

    async def _op(self, op: str, **arguments: Any) -> Any:
        method = getattr(await self._backend.db(), op)
        return await self._guard.run(op, lambda: method(**arguments))

    async def _ensure_collection(self, name: str, hybrid: bool = False) -> None:
        # engram answers an existing collection of the same shape with a no-op and one of another dimension or
        # distance with Conflict (the original took any error for "missing" and never compared the shape).
        await self._op("create_collection", collection=name, dim=self.dimension, distance="Cosine", sparse=hybrid)
        await self._op("create_payload_index", collection=name, field="session_id", type="keyword")

    async def initialize(self) -> None:
        """Creates the three collections (Cosine, `dimension`) with a session_id index, unless they exist."""
        for name in (self.episodes_collection, self.entities_collection, self.procedures_collection):
            await self._ensure_collection(name)

    async def ensure_hybrid_collection(self, name: str) -> None:
        """Creates `name` with a dense and a sparse vector per point, for add_hybrid / search_hybrid."""
        await self._ensure_collection(name, hybrid=True)

    def _check_vectors(self, ids: Sequence[Any], vectors: Sequence[Vector], payloads: Sequence[Any]) -> None:
        """The original's checks — finite values, the store's dimension, no adversarial norm — plus equal lengths
        (the original's zip cut the longer lists silently). Done before the breaker, and the norm statistics
        learn from accepted batches only (the original let rejected vectors shift them)."""
        if not len(ids) == len(vectors) == len(payloads):
            raise ValueError(f"ids, vectors and payloads differ in length: {len(ids)}, {len(vectors)}, "
                             f"{len(payloads)}")
        norms = []
        for index, vector in enumerate(vectors):
            values = [float(v) for v in vector]
            if not all(math.isfinite(v) for v in values):
                raise ValueError(f"Embedding at index {index} contains NaN or Inf")
            if len(values) != self.dimension:
                raise ValueError(f"Embedding at index {index} has dimension {len(values)}, expected {self.dimension}")
            norms.append(math.sqrt(sum(v * v for v in values)))
        with self._norms_lock:
            count, total = self._norms
            if count > ADVERSARIAL_MIN_SAMPLES:
                mean = total / count
                for index, norm in enumerate(norms):
                    if norm > 10 * mean or norm < 0.01 * mean:
                        raise ValueError(f"Adversarial embedding detected at index {index}: norm={norm:.4f}, "
                                         f"mean={mean:.4f}")
            self._norms = [count + len(norms), total + sum(norms)]

    async def _upsert_atomically(self, collection: str, points: List[Dict[str, Any]]) -> None:
        """Writes the points all or nothing. engram makes each call of up to 10000 points atomic; a larger write
        is several calls, and if one fails the earlier ones are undone by putting back what they replaced (the
        original deleted the ids it had written, destroying points that existed before)."""
        if len(points) <= ENGRAM_BATCH_MAX:
            await self._op("upsert", collection=collection, points=points)
            return
        ids = [p["id"] for p in points]
        before = []
        for start in range(0, len(ids), ENGRAM_BATCH_MAX):
            before += await self._op("get", collection=collection, ids=ids[start:start + ENGRAM_BATCH_MAX],
                                     with_payload=True, with_vectors=True)
        existed = {str(p["id"]) for p in before}
        written: List[Any] = []
        try:
            for start in range(0, len(points), ENGRAM_BATCH_MAX):
                chunk = points[start:start + ENGRAM_BATCH_MAX]
                await self._op("upsert", collection=collection, points=chunk)
                written += [p["id"] for p in chunk]
        except BaseException:
            db = await self._backend.db()  # the undo bypasses the breaker and the timeout: it must get through
            new = [i for i in written if str(i) not in existed]
            for start in range(0, len(new), ENGRAM_BATCH_MAX):
                await db.delete(collection=collection, ids=new[start:start + ENGRAM_BATCH_MAX])
            for start in range(0, len(before), ENGRAM_BATCH_MAX):
                await db.upsert(collection=collection, points=before[start:start + ENGRAM_BATCH_MAX])
            raise

    async def add(self, collection: str, ids: List[str], vectors: List[Vector], payloads: List[Dict[str, Any]],
                  batch_size: int = 100, max_concurrency: int = 10) -> None:
        """Upserts the points, all or nothing (a failure leaves the collection as it was, earlier points
        included). `batch_size` and `max_concurrency` are accepted and not needed: engram takes up to 10000
        points per atomic call. Ids are UUIDs or unsigned integers."""
        self._check_vectors(ids, vectors, payloads)
        if not ids:
            return
        points = [{"id": _point_id(i), "vector": list(v), "payload": p or {}}
                  for i, v, p in zip(ids, vectors, payloads)]
        await self._upsert_atomically(collection, points)

    def _search_filter(self, filter: Optional[Dict[str, Any]], session_id: Optional[str]) -> Optional[Dict[str, Any]]:
        conditions = dict(filter or {})
        if session_id is not None:
            if conditions.get("session_id", session_id) != session_id:
                warnings.warn(f"session_id {session_id!r} overrides the filter's session_id "
                              f"{conditions['session_id']!r}", RuntimeWarning, stacklevel=3)
            conditions["session_id"] = session_id
        return _build_filter(conditions)

    async def search(self, collection: str, vector: Vector, limit: int = 10, filter: Optional[Dict[str, Any]] = None,
                     session_id: Optional[str] = None,
                     score_threshold: Optional[float] = None) -> List[Tuple[str, float, Dict[str, Any]]]:
        """The `limit` most similar points: [(id as text, score, payload)], best first. `session_id` replaces
        the filter's session_id (with a warning when they differ), as in the original."""
        hits = await self._op("search", collection=collection, vector=list(vector), limit=limit,
                              filter=self._search_filter(filter, session_id), score_threshold=score_threshold)
        return [(str(h["id"]), float(h["score"]), h.get("payload") or {}) for h in hits]

    async def search_hybrid(self, collection: str, dense_vector: Vector, sparse_vector: Dict[int, float],
                            limit: int = 10, filter: Optional[Dict[str, Any]] = None, session_id: Optional[str] = None,
                            score_threshold: Optional[float] = None) -> List[Tuple[str, float, Dict[str, Any]]]:
        """Dense and sparse similarity fused by reciprocal rank, [(id, fused score, payload)]; an empty sparse
        query searches by the dense vector alone (cosine scores then). `score_threshold` applies to the fused
        score (at most 1.0), as in the original."""
        query_filter = self._search_filter(filter, session_id)
        if not sparse_vector:
            hits = await self._op("search", collection=collection, vector=list(dense_vector), limit=limit,
                                  filter=query_filter, score_threshold=score_threshold)
        else:
            hits = await self._op("search_hybrid", collection=collection, dense_vector=list(dense_vector),
                                  sparse_vector=_sparse(sparse_vector), limit=limit, filter=query_filter,
                                  score_threshold=score_threshold)
        return [(str(h["id"]), float(h["score"]), h.get("payload") or {}) for h in hits]

    async def add_hybrid(self, collection: str, ids: List[str], dense_vectors: List[Vector],
                         sparse_vectors: List[Dict[int, float]], payloads: List[Dict[str, Any]],
                         batch_size: int = 100) -> None:
        """Upserts points with a dense and a sparse vector, all or nothing. Difference: checked like add (the
        original checked nothing and could leave half a batch)."""
        self._check_vectors(ids, dense_vectors, payloads)
        if len(sparse_vectors) != len(ids):
            raise ValueError(f"ids and sparse_vectors differ in length: {len(ids)}, {len(sparse_vectors)}")
        points = [{"id": _point_id(i), "vector": list(d), "sparse_vector": _sparse(s), "payload": p or {}}
                  for i, d, s, p in zip(ids, dense_vectors, sparse_vectors, payloads)]
        if points:
            await self._upsert_atomically(collection, points)

    async def get(self, collection: str, ids: List[str]) -> List[Tuple[str, Dict[str, Any]]]:
        """[(id, payload)] of the points that exist, in the order asked."""
        points = await self._op("get", collection=collection, ids=[_point_id(i) for i in ids])
        return [(str(p["id"]), p.get("payload") or {}) for p in points]

    async def get_with_vectors(self, collection: str,
                               ids: List[str]) -> List[Tuple[str, Dict[str, Any], List[float]]]:
        """[(id, payload, vector)] of the points that exist; the vector is stored normalised (Cosine)."""
        points = await self._op("get", collection=collection, ids=[_point_id(i) for i in ids], with_vectors=True)
        return [(str(p["id"]), p.get("payload") or {}, p.get("vector")) for p in points]

    async def get_capsule_poses(self, collection: str, episode_id: str) -> Optional[CapsulePoseData]:
        """The capsule fields of the point's payload, or None (no point, or none of those fields)."""
        found = await self.get(collection, [episode_id])
        return _capsules(found[0][1]) if found else None

    async def batch_get_capsule_poses(self, collection: str,
                                      episode_ids: List[str]) -> Dict[str, Optional[CapsulePoseData]]:
        """{id: CapsulePoseData or None} for every id asked, in one read; [] is {} without a call. Ids are
        matched in engram's canonical form, so an upper-case UUID finds its point (the original missed it)."""
        if not episode_ids:
            return {}
        found = {pid: payload for pid, payload in await self.get(collection, episode_ids)}
        return {i: (_capsules(found[_canonical(i)]) if _canonical(i) in found else None) for i in episode_ids}

    async def batch_update_vectors(self, collection: str, updates: List[Tuple[str, Vector]]) -> int:
        """Replaces the vectors of the points that exist (others are skipped) and returns how many. Difference:
        in place, in one call — payloads and sparse vectors are kept and a concurrent payload update is not lost
        (the original read the payload and wrote the point back)."""
        if not updates:
            return 0
        self._check_vectors([u[0] for u in updates], [u[1] for u in updates], updates)
        existing = {str(p["id"]) for p in await self._op("get", collection=collection,
                                                          ids=[_point_id(i) for i, _ in updates],
                                                          with_payload=False)}
        points = [{"id": _point_id(i), "vector": list(v)} for i, v in updates if _canonical(i) in existing]
        if points:
            await self._op("batch_update_vectors", collection=collection, points=points)
        return len(points)

    async def delete(self, collection: str, ids: List[str]) -> None:
        """Deletes the points (ids that do not exist are ignored)."""
        if ids:
            await self._op("delete", collection=collection, ids=[_point_id(i) for i in ids])

    async def update_payload(self, collection: str, id: str, payload: Dict[str, Any]) -> None:
        """Merges `payload` into the point's (its other keys stay). A missing point raises engram.NotFound."""
        await self._op("update_payload", collection=collection, ids=[_point_id(id)], payload=payload)

    async def count(self, collection: str, count_filter: Optional[Dict[str, Any]] = None) -> int:
        """How many points (match the filter). Difference: always exact (the original's unfiltered count was
        Qdrant's estimate)."""
        return int(await self._op("count", collection=collection, filter=_build_filter(count_filter)))

    async def scroll(self, collection: str, scroll_filter: Optional[Dict[str, Any]] = None, limit: int = 100,
                     offset: Optional[Any] = None, with_payload: bool = True, with_vectors: bool = False
                     ) -> Tuple[List[Tuple[str, Dict[str, Any], Optional[List[float]]]], Optional[str]]:
        """A page of points in id order, ([(id, payload, vector or None)], next_offset): pass next_offset back
        as `offset` for the next page; None means the last. `offset` is a point id (0 starts at the first point,
        as the original's callers used it)."""
        page = await self._op("scroll", collection=collection, filter=_build_filter(scroll_filter), limit=limit,
                              offset=None if offset is None else _point_id(offset), with_payload=with_payload,
                              with_vectors=with_vectors)
        points = [(str(p["id"]), p.get("payload") or {}, p.get("vector")) for p in page["points"]]
        following = page.get("next_offset")
        return points, None if following is None else str(following)

    async def batch_add(self, operations: List[Tuple[str, List[str], List[Vector], List[Dict[str, Any]]]]
                        ) -> Dict[str, int]:
        """Several adds across collections, all or nothing: {collection: points written}. On a failure the
        collections written so far are put back as they were (pre-existing points restored, not deleted)."""
        for _, ids, vectors, payloads in operations:
            self._check_vectors(ids, vectors, payloads)
        done: List[Tuple[str, List[Dict[str, Any]], List[Any]]] = []
        written: Dict[str, int] = {}
        try:
            for collection, ids, vectors, payloads in operations:
                points = [{"id": _point_id(i), "vector": list(v), "payload": p or {}}
                          for i, v, p in zip(ids, vectors, payloads)]
                before = await self._op("get", collection=collection, ids=[p["id"] for p in points],
                                        with_vectors=True)
                await self._upsert_atomically(collection, points)
                done.append((collection, before, [p["id"] for p in points]))
                written[collection] = written.get(collection, 0) + len(points)
        except BaseException:
            db = await self._backend.db()
            for collection, before, ids in reversed(done):
                existed = {str(p["id"]) for p in before}
                new = [i for i in ids if str(i) not in existed]
                if new:
                    await db.delete(collection=collection, ids=new)
                if before:
                    await db.upsert(collection=collection, points=before)
            raise
        return written

    async def batch_update_payloads(self, collection: str, updates: List[Tuple[str, Dict[str, Any]]],
                                    max_concurrency: int = 10) -> int:
        """Merges each (id, payload) and returns how many succeeded; a failing item (a missing point) is skipped,
        as in the original. [] is 0 without a call."""
        succeeded = 0
        for point_id, payload in updates:
            try:
                await self.update_payload(collection, point_id, payload)
                succeeded += 1
            except errors.EngramError:
                continue
        return succeeded

    async def batch_delete(self, collection: str, ids: List[str], max_concurrency: int = 10) -> int:
        """Deletes the points in one call and returns how many existed ([] is 0 without a call)."""
        if not ids:
            return 0
        result = await self._op("delete", collection=collection, ids=[_point_id(i) for i in ids])
        return int(result["deleted"])

    async def batch_delete_multi(self, deletions: List[Tuple[str, List[str]]]) -> Dict[str, int]:
        """Deletes ids from several collections in turn: {collection: ids given}. The first error stops it."""
        answer: Dict[str, int] = {}
        for collection, ids in deletions:
            await self.delete(collection, ids)
            answer[collection] = len(ids)
        return answer

    async def close(self) -> None:
        """Lets go of the engram (closed when no other store of this process uses it)."""
        await self._backend.close()


def _canonical(point_id: Any) -> str:
    """A point id as engram writes it in results: integers as decimal text, UUIDs lower-case and hyphenated."""
    text = str(point_id).strip().lower()
    if len(text) == 32 and all(c in "0123456789abcdef" for c in text):
        return f"{text[:8]}-{text[8:12]}-{text[12:16]}-{text[16:20]}-{text[20:]}"
    return text


_stores = SessionStores(QdrantStore)


def get_qdrant_store(session_id: str = "default") -> QdrantStore:
    """The store of `session_id`, made on first use with the default engram (sessions share it and the
    "qdrant" breaker; their data is told apart by the payload's session_id)."""
    return _stores.get(session_id)


async def close_qdrant_store(session_id: Optional[str] = None) -> None:
    """Closes the store of `session_id`, or every one when None."""
    await _stores.close(session_id)
