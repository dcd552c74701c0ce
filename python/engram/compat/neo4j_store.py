"""The original's graph store (t4dm.storage.neo4j_store.Neo4jStore) over engram's graph operations: the same
class, async methods, parameters, defaults and return shapes, with no Neo4j, and Cypher only where a caller sends
its own through query() (engram's `cypher` operation).

Each method is one engram operation (docs/python.md has the table) run through the "neo4j" circuit breaker and
under the store's timeout. engram checks labels, relationship types, ids and every property name itself (the
original's whitelists: labels Episode, Entity, Procedure; its 17 relationship types), so a bad one raises
engram.InvalidArgument, a ValueError as in the original. Where the original was defective the store behaves
correctly; each difference is named in the method's docstring and listed in docs/python.md."""

import datetime
from typing import Any, Dict, List, Mapping, Optional, Sequence, Tuple

from .. import errors
from ._backend import Backend, SessionStores, DatabaseConnectionError, DatabaseTimeoutError, Guard, Target
from .resilience import CircuitBreaker, CircuitBreakerConfig

__all__ = ["Neo4jStore", "get_neo4j_store", "close_neo4j_store", "DatabaseTimeoutError", "DatabaseConnectionError"]

MAX_BATCH_SIZE = 1000
MAX_PATH_DEPTH = 10


def _value(value: Any) -> Any:
    """A property value as engram stores it: any JSON exactly (lists and dicts stay lists and dicts), a datetime
    as its ISO text (JSON has no datetime; it comes back as that text: no string is ever guessed back into a
    datetime or a list, as the original did)."""
    if isinstance(value, (datetime.datetime, datetime.date)):
        return value.isoformat()
    if isinstance(value, dict):
        return {k: _value(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_value(v) for v in value]
    return value


_NODE_SHAPE = {"id", "label", "properties"}
_RELATIONSHIP_SHAPE = {"source_id", "target_id", "type", "properties"}
_PATH_SHAPE = {"length", "nodes", "relationships"}


def _record_value(value: Any) -> Any:
    """A value of a `cypher` record as the Neo4j driver's Record.data() gives it (see query)."""
    if isinstance(value, list):
        return [_record_value(v) for v in value]
    if not isinstance(value, dict):
        return value
    keys = set(value)
    if keys == _NODE_SHAPE and isinstance(value["properties"], dict):
        return {"id": value["id"], **_record_value(value["properties"])}
    if keys == _RELATIONSHIP_SHAPE and isinstance(value["properties"], dict):
        return ({"id": value["source_id"]}, value["type"], {"id": value["target_id"]})
    if keys == _PATH_SHAPE and isinstance(value["nodes"], list) and isinstance(value["relationships"], list):
        walk: List[Any] = [{"id": value["nodes"][0]["id"]}]
        for relationship, node in zip(value["relationships"], value["nodes"][1:]):
            walk += [relationship["type"], {"id": node["id"]}]
        return walk
    return {key: _record_value(v) for key, v in value.items()}


def _epoch_ms(value: Any) -> Any:
    """`lastAccessed`, which engram keeps as epoch milliseconds (so that decay compares numbers, not ISO text
    in mixed time zones): a datetime or ISO text is converted, a number kept."""
    if isinstance(value, str):
        try:
            value = datetime.datetime.fromisoformat(value)
        except ValueError:
            raise errors.InvalidArgument(f"lastAccessed {value!r} is neither epoch milliseconds nor ISO time") \
                from None
    if isinstance(value, datetime.datetime):
        if value.tzinfo is None:
            value = value.astimezone()  # naive: local time, as the original's datetime.now()
        return int(value.timestamp() * 1000)
    return value


def _properties(properties: Optional[Mapping[str, Any]], relationship: bool = False) -> Dict[str, Any]:
    if properties is None:
        return {}
    if not isinstance(properties, Mapping):
        raise errors.InvalidArgument(f"properties must be a mapping, got {type(properties).__name__}")
    converted = {key: _value(value) for key, value in properties.items()}
    if relationship and "lastAccessed" in converted:
        converted["lastAccessed"] = _epoch_ms(properties["lastAccessed"])
    return converted


def _check_batch(items: Sequence[Any]) -> None:
    if len(items) > MAX_BATCH_SIZE:
        raise ValueError(f"Batch size {len(items)} exceeds maximum allowed size of {MAX_BATCH_SIZE}")


def _check_direction(direction: str) -> None:
    if direction not in ("out", "in", "both"):
        raise ValueError(f"Invalid direction: {direction}. Must be 'out', 'in', or 'both'")


def _other_end(relationship: Mapping[str, Any], node_id: str) -> str:
    source, target = relationship["source_id"], relationship["target_id"]
    return target if source == node_id else source


class Neo4jStore:
    """The graph half of the original's storage, over engram.

    `Neo4jStore(uri=None, user=None, password=None, database=None, timeout=None, circuit_breaker_config=None,
    *, engram=None)`: `engram` names the engram (a folder, an http(s) URL of `engram serve`, or an engram
    object); without it an http(s) `uri` is used, else the compat default (engram.compat.configure,
    $ENGRAM_COMPAT, http://127.0.0.1:6333). `user` and `password` are not used: a server's API key goes in the
    URL's engram object (`engram.connect(url, api_key=...)`). `timeout` is per operation (`timeout or 30` s);
    the breaker is the process-wide "neo4j" one, created with `circuit_breaker_config` (5, 2, 60 s) on first use.
    """

    def __init__(self, uri: Optional[str] = None, user: Optional[str] = None, password: Optional[str] = None,
                 database: Optional[str] = None, timeout: Optional[float] = None,
                 circuit_breaker_config: Optional[CircuitBreakerConfig] = None, *,
                 engram: Optional[Target] = None) -> None:
        self._backend = Backend(engram, uri)
        self.uri = self._backend.description
        self.database = database or "neo4j"
        self._guard = Guard("neo4j", circuit_breaker_config, timeout)
        self.timeout = self._guard.timeout

    @property
    def circuit_breaker(self) -> CircuitBreaker:
        return self._guard.breaker

    async def _op(self, op: str, **arguments: Any) -> Any:
        method = getattr(await self._backend.db(), op)
        return await self._guard.run(op, lambda: method(**arguments))

    async def initialize(self) -> None:
        """Connects (or opens the folder) and checks that engram answers. engram's schema is built in: the
        labels' unique ids (unique across labels, in fact) and the session and time lookups need no statement.
        Any failure raises DatabaseConnectionError with the original's fixed message."""
        try:
            await (await self._backend.db()).stats()
        except Exception:
            raise DatabaseConnectionError(
                "initialization", "Database initialization failed. Check configuration and connectivity.") from None

    async def query(self, cypher: str, params: Optional[Dict[str, Any]] = None) -> List[Dict[str, Any]]:
        """Runs caller Cypher (reads and writes, auto-commit: all or nothing) through engram's `cypher`
        operation, in the subset docs/bolt.md lists, and returns the records as the original's
        `[record.data() ...]` did: one dict per record keyed by field, a node as its properties (its `id`
        among them), a relationship as `(start node, type, end node)` and a path as `[node, type, node, ...]`,
        the nodes of both as `{"id": ...}` (engram's relationship and path shapes carry ids, not the ends'
        properties). Differences: a statement outside the subset raises engram.InvalidArgument (a ValueError)
        naming the Neo4j code, where the original raised the driver's error; a datetime parameter is sent as its
        ISO text, as property values are; and a returned map whose keys are exactly those of engram's node
        shape (`id`, `label`, `properties`) or relationship shape is read as one."""
        result = await self._op("cypher", statement=cypher, parameters=_value(params or {}))
        fields = result["fields"]
        return [dict(zip(fields, map(_record_value, record))) for record in result["records"]]

    async def create_node(self, label: str, properties: Dict[str, Any]) -> Optional[str]:
        """Creates a node of `label` whose `properties` hold its `id`, and returns the id. Differences: the id
        is required (ValueError without one; the original created an unreachable node and returned None) and
        unique across labels; repeating an identical create is a no-op, the same id with other content raises
        engram.Conflict (the original raised the driver's constraint error)."""
        props = _properties(properties)
        node_id = props.get("id")
        if not isinstance(node_id, str) or not node_id:
            raise ValueError("properties must hold the node's 'id' (a non-empty string)")
        result = await self._op("create_node", label=label, id=node_id, properties=props)
        return result["id"]

    async def get_node(self, node_id: str, label: Optional[str] = None) -> Optional[Dict[str, Any]]:
        """The node's properties (its `id` among them), or None if there is none (of that label). Values come
        back as stored: no string is turned into a list or a datetime."""
        try:
            node = await self._op("get_node", id=node_id, label=label)
        except errors.NotFound:
            return None
        return {"id": node["id"], **node["properties"]}

    async def update_node(self, node_id: str, properties: Dict[str, Any], label: Optional[str] = None) -> None:
        """Sets `properties` on the node (merging; None removes one). Differences: a missing node raises
        engram.NotFound (the original did nothing, silently); empty properties change nothing (the original
        sent invalid Cypher); a property `id` naming another node is a ValueError (the original updated that
        other node)."""
        props = _properties(properties)
        if not props:
            return
        await self._op("update_node", id=node_id, properties=props, label=label)

    async def delete_node(self, node_id: str, label: Optional[str] = None) -> None:
        """Deletes the node and all its relationships; a node that does not exist (of that label) is already
        deleted, as in the original."""
        try:
            await self._op("delete_node", id=node_id, label=label)
        except errors.NotFound:
            pass

    async def create_relationship(self, source_id: str, target_id: str, rel_type: str,
                                  properties: Optional[Dict[str, Any]] = None) -> None:
        """Relates source to target with `rel_type`. Differences: property names are checked (the original's
        injection hole); a missing end raises engram.NotFound (the original did nothing); creating the same
        (source, type, target) again merges the properties instead of adding a parallel relationship.
        `weight` must be a number, `coAccessCount` an integer, `lastAccessed` a time (a datetime, ISO text or
        epoch ms; it is stored as epoch ms and set to now when absent)."""
        await self._op("create_relationship", source_id=source_id, target_id=target_id, type=rel_type,
                       properties=_properties(properties, relationship=True))

    async def batch_create_relationships(
            self, relationships: List[Tuple[str, str, str, Optional[Dict[str, Any]]]]) -> int:
        """Creates (source_id, target_id, rel_type, properties) relationships in one transaction, all or
        nothing, and returns how many were written. At most 1000 (ValueError); [] is 0 without a call."""
        if not relationships:
            return 0
        _check_batch(relationships)
        items = [{"source_id": s, "target_id": t, "type": r, "properties": _properties(p, relationship=True)}
                 for s, t, r, p in relationships]
        result = await self._op("batch_create_relationships", relationships=items)
        return int(result["written"])

    async def get_relationships(self, node_id: str, rel_type: Optional[str] = None,
                                direction: str = "both") -> List[Dict[str, Any]]:
        """The node's relationships: [{rel_type, properties, source_id, other_id, direction}], source_id being
        the node asked about (as in the original, whichever way the relationship points) and `direction`
        ("out" or "in", added) saying which way it does. A missing node has none. Difference: a direction
        other than "out", "in", "both" is a ValueError (the original read it as "both")."""
        _check_direction(direction)
        try:
            found = await self._op("get_relationships", id=node_id, type=rel_type, direction=direction)
        except errors.NotFound:
            return []
        return [{"rel_type": r["type"], "properties": r["properties"], "source_id": node_id,
                 "other_id": _other_end(r, node_id), "direction": "out" if r["source_id"] == node_id else "in"}
                for r in found]

    async def get_relationships_batch(self, node_ids: List[str], rel_type: Optional[str] = None,
                                      direction: str = "both") -> Dict[str, List[Dict[str, Any]]]:
        """{node_id: [{rel_type, other_id, properties}]} for every id asked (a missing node gets []), read in
        one call per 1000 ids. Difference: [] answers {} without a call, and an id asked twice is listed once."""
        _check_direction(direction)
        unique = list(dict.fromkeys(node_ids))
        answer: Dict[str, List[Dict[str, Any]]] = {}
        for start in range(0, len(unique), MAX_BATCH_SIZE):
            chunk = unique[start:start + MAX_BATCH_SIZE]
            found = await self._op("get_relationships_batch", ids=chunk, type=rel_type, direction=direction)
            for node_id in chunk:
                answer[node_id] = [{"rel_type": r["type"], "other_id": _other_end(r, node_id),
                                    "properties": r["properties"]} for r in found.get(node_id, [])]
        return answer

    async def update_property(self, node_id: str, property_name: str, property_value: Any) -> None:
        """Sets one property (None removes it). Difference: a missing node raises engram.NotFound."""
        await self._op("update_property", id=node_id, property_name=property_name,
                       property_value=_value(property_value))

    def get_pool_stats(self) -> Dict[str, Any]:
        """The original's pool counters, which it never updated. engram has no connection pool to report
        (embedded there is none; remote, one HTTP request per call), so they are 0 here too; `pool_size` is the
        number of worker threads and `connection_timeout_s` the store timeout."""
        db = self._backend._db
        return {"acquisitions": 0, "acquisition_failures": 0, "avg_acquisition_ms": 0.0,
                "max_acquisition_ms": 0.0, "sessions_created": 0, "sessions_closed": 0, "sessions_active": 0,
                "pool_size": db.workers if db is not None else 0, "connection_timeout_s": self.timeout}

    async def health_check(self) -> Dict[str, Any]:
        """{"status": "healthy", database, uri, pool_metrics} or {"status": "unhealthy", error, database, uri};
        never raises. The URI carries no credentials, and the error is engram's sanitised message."""
        try:
            health = await self._op("health")
        except Exception as e:
            return {"status": "unhealthy", "error": str(e), "database": self.database, "uri": self.uri}
        return {"status": "healthy", "database": self.database, "uri": self.uri,
                "pool_metrics": {"engram_status": health.get("status")}}

    async def get_pool_metrics(self) -> Dict[str, Any]:
        """{"driver_initialized": False} before the first call; after it, where the engram is and the timeout."""
        if not self._backend.opened:
            return {"driver_initialized": False}
        return {"driver_initialized": True, "uri": self.uri, "database": self.database,
                "connection_timeout": self.timeout}

    async def batch_decay_relationships(self, stale_days: int = 30, decay_rate: float = 0.01,
                                        min_weight: float = 0.01,
                                        session_id: Optional[str] = None) -> Dict[str, int]:
        """Hebbian decay: {"decayed", "pruned"}. Differences (engram's decay, docs/operations.md): staleness is
        read from `lastAccessed`, which strengthening sets (the original decayed on a field strengthening never
        wrote); decay is elapsed-time based and idempotent (calling it twice does not decay twice); decay and
        prune are one transaction; only stale relationships are pruned."""
        result = await self._op("batch_decay_relationships", stale_days=stale_days, decay_rate=decay_rate,
                                min_weight=min_weight, session_id=session_id)
        return {"decayed": int(result["decayed"]), "pruned": int(result["pruned"])}

    async def count_stale_relationships(self, stale_days: int = 30, session_id: Optional[str] = None) -> int:
        """How many relationships (whose source has that sessionId, if given) were not accessed for
        `stale_days`."""
        return int(await self._op("count_stale_relationships", stale_days=stale_days, session_id=session_id))

    async def strengthen_relationship(self, source_id: str, target_id: str, learning_rate: float = 0.1) -> float:
        """Hebbian strengthening, w ← w + lr·(1 − w) (a missing weight counting as 0.1), coAccessCount + 1 and
        lastAccessed = now, on source→target, else target→source: the new weight, or 0.0 when neither exists."""
        try:
            result = await self._op("strengthen_relationship", source_id=source_id, target_id=target_id,
                                    learning_rate=learning_rate)
        except errors.NotFound:
            return 0.0
        return float(result["weight"])

    async def weaken_relationship(self, source_id: str, target_id: str, decay_rate: float = 0.1) -> float:
        """w ← w·(1 − decay_rate) on the relationship as strengthen_relationship finds it: the new weight, or
        0.0 when there is none. The original's callers called this method, which it lacked."""
        try:
            result = await self._op("weaken_relationship", source_id=source_id, target_id=target_id,
                                    rate=decay_rate)
        except errors.NotFound:
            return 0.0
        return float(result["weight"])

    async def batch_create_nodes(self, nodes: List[Tuple[str, Dict[str, Any]]]) -> List[str]:
        """Creates (label, properties) nodes in one transaction, all or nothing, and returns their ids in order.
        At most 1000 (ValueError); each needs its `id` (ValueError); [] is [] without a call."""
        _check_batch(nodes)
        items = []
        for index, (label, properties) in enumerate(nodes):
            props = _properties(properties)
            if not isinstance(props.get("id"), str) or not props["id"]:
                raise ValueError(f"nodes[{index}]: properties must hold the node's 'id' (a non-empty string)")
            items.append({"label": label, "id": props["id"], "properties": props})
        if items:
            await self._op("batch_create_nodes", nodes=items)
        return [item["id"] for item in items]

    async def find_path(self, source_id: str, target_id: str,
                        max_depth: int) -> Optional[List[Dict[str, Any]]]:
        """A shortest path of at most `max_depth` (1..10) relationships, either direction: segments alternating
        {"type": "node", id, labels} and {"type": "relationship", rel_type, properties, **properties}, or None.
        Differences: a bool max_depth is a ValueError; relationship properties named `type` or `rel_type` no
        longer overwrite the segment's keys (they are in `properties`)."""
        if not isinstance(max_depth, int) or isinstance(max_depth, bool) or max_depth < 1:
            raise ValueError(f"max_depth must be a positive integer, got {max_depth!r}")
        if max_depth > MAX_PATH_DEPTH:
            raise ValueError(f"max_depth {max_depth} exceeds maximum allowed depth of {MAX_PATH_DEPTH}")
        try:
            path = await self._op("find_path", source_id=source_id, target_id=target_id, max_depth=max_depth)
        except errors.NotFound:
            return None
        if path is None:
            return None
        segments: List[Dict[str, Any]] = []
        for index, node in enumerate(path["nodes"]):
            if index:
                rel = path["relationships"][index - 1]
                segments.append({**rel["properties"], "type": "relationship", "rel_type": rel["type"],
                                 "properties": rel["properties"]})
            segments.append({"type": "node", "id": node["id"], "labels": [node["label"]]})
        return segments

    async def close(self) -> None:
        """Lets go of the engram (closed when no other store of this process uses it)."""
        await self._backend.close()


_stores = SessionStores(Neo4jStore)


def get_neo4j_store(session_id: str = "default") -> Neo4jStore:
    """The store of `session_id`, made on first use with the default engram; sessions share that engram and
    the "neo4j" breaker, and isolate their data by the sessionId property, as in the original."""
    return _stores.get(session_id)


async def close_neo4j_store(session_id: Optional[str] = None) -> None:
    """Closes the store of `session_id`, or every one when None."""
    await _stores.close(session_id)
