"""_operations — every engram operation (docs/operations.md) as a method, written once for the embedded Engram and
the Remote one (_transport.py), which supply _call.

The contract, which other code relies on: the method is named after the operation and its parameters after the
operation's arguments, so `db.OP(**arguments)` sends `{"op": "OP", **arguments}`. Required arguments may be given
by position; optional ones are keyword-only and default to None, which is not sent, so engram's own default
applies (the defaults the docstrings name are engram's). Engram reads an argument given as null as an absent one,
except `property_value` of update_property, where null means "remove the property": that one is always sent.

Results are plain Python values, the JSON engram answers: dicts, lists, strings, numbers, booleans, None — the
shapes docs/operations.md gives (node, relationship, path, point, scored point, memory hit). No class wraps them,
so they print, compare, serialise and travel between processes as they are. Point ids come back as engram writes
them: an int, or a UUID as a lower-case hyphenated string. A vector may be a list, a tuple or a numpy array (any
object with `tolist()`), a number a numpy scalar.

Every method raises the exceptions of engram.errors: InvalidArgument for a malformed request (a bad label, id,
shape, value or limit, or an argument that is not JSON), NotFound, Conflict, Unavailable (closed, unreachable,
a circuit breaker open), Timeout, IoError, Locked, IncompatibleFormat, Corrupt, Internal. The docstrings name the
ones an operation raises by design; a failed request changes nothing."""

from typing import Any, Dict, List, Mapping, Optional, Sequence, Union

Json = Any
Vector = Sequence[float]  # a list, a tuple or a numpy array of numbers
SparseVector = Mapping[str, Sequence[Union[int, float]]]  # {"indices": [...], "values": [...]}
PointId = Union[int, str]  # a non-negative integer or a UUID
MemoryId = Union[int, str]  # an unsigned 64-bit integer (or its decimal string) or a UUID
Filter = Mapping[str, Json]  # Qdrant's filter object: {"must": [...], "should": [...], "must_not": [...]}


def _given(**arguments: Any) -> Dict[str, Any]:
    """The arguments that were given: None means "not given", so engram applies its default."""
    return {name: value for name, value in arguments.items() if value is not None}


class Operations:
    """The operations of docs/operations.md; subclasses send them (_call: one request, its result or exception)."""

    def _call(self, op: str, arguments: Mapping[str, Any]) -> Any:
        raise NotImplementedError

    # ---- Nodes ------------------------------------------------------------------------------------------------

    def create_node(self, label: str, id: str, *, properties: Optional[Mapping[str, Json]] = None) -> Dict[str, Json]:
        """Creates the node `id` (1–128 characters of A-Z a-z 0-9 _ - . :, unique across labels) with `label`
        (Episode, Entity, Procedure; any plain identifier under graph.schema=open) and `properties` (default {};
        a None value is not stored). Returns {"id": id}.

        Repeating an identical create is a no-op; the same id with another label or other properties raises
        Conflict. A bad label, id or property name raises InvalidArgument."""
        return self._call("create_node", _given(label=label, id=id, properties=properties))

    def get_node(self, id: str, *, label: Optional[str] = None) -> Dict[str, Json]:
        """The node: {"id", "label", "properties"}. NotFound if it does not exist, or, with `label`, if it has
        another label."""
        return self._call("get_node", _given(id=id, label=label))

    def get_nodes(self, ids: Sequence[str]) -> List[Dict[str, Json]]:
        """The nodes of `ids` (at most 1000) that exist, in the order asked, read from one snapshot: [node]."""
        return self._call("get_nodes", _given(ids=ids))

    def update_node(self, id: str, properties: Mapping[str, Json], *, label: Optional[str] = None) -> Dict[str, Json]:
        """Merges `properties` into the node's: the keys given are set, a None value removes the key. With
        `label`, a node of another label is NotFound. Returns {"id"}; a missing node is NotFound."""
        return self._call("update_node", _given(id=id, properties=properties, label=label))

    def update_property(self, id: str, property_name: str, property_value: Json) -> Dict[str, Json]:
        """Sets one property of the node; a `property_value` of None removes it (so it is always sent). Returns
        {"id"}; a missing node is NotFound."""
        return self._call("update_property", {"id": id, "property_name": property_name,
                                              "property_value": property_value})

    def delete_node(self, id: str, *, label: Optional[str] = None) -> Dict[str, Json]:
        """Deletes the node and every relationship of it. Returns {"id"}; NotFound if it does not exist (or has
        another label than `label`)."""
        return self._call("delete_node", _given(id=id, label=label))

    def batch_create_nodes(self, nodes: Sequence[Mapping[str, Json]]) -> Dict[str, Json]:
        """Creates up to 1000 nodes, [{"label", "id", "properties"}], all or nothing; each means what its
        create_node means. Returns {"created": n}. An id twice in the batch is InvalidArgument, and an error names
        the item ("nodes[3]: ...")."""
        return self._call("batch_create_nodes", _given(nodes=nodes))

    def list_nodes(self, *, label: Optional[str] = None, cursor: Optional[str] = None,
                   limit: Optional[int] = None) -> Dict[str, Json]:
        """A page of nodes in id order, of `label` (default: any): {"nodes": [node], "next_cursor": id or None}.
        `limit` is 1..10000 (default 100); pass `next_cursor` back as `cursor` for the next page."""
        return self._call("list_nodes", _given(label=label, cursor=cursor, limit=limit))

    def count_nodes(self, *, label: Optional[str] = None) -> int:
        """The number of nodes of `label` (default: all)."""
        return self._call("count_nodes", _given(label=label))

    def find_nodes(self, text: str, *, properties: Optional[Sequence[str]] = None, label: Optional[str] = None,
                   id_prefix: Optional[str] = None, cursor: Optional[str] = None,
                   limit: Optional[int] = None) -> Dict[str, Json]:
        """A page of the nodes holding `text`, ignoring case, in one of `properties` (default: every property; a
        string value or a string of a list value), of `label` and `id_prefix` (default: any), in id order:
        {"nodes": [node], "next_cursor": id or None}, paged as list_nodes."""
        return self._call("find_nodes", _given(text=text, properties=properties, label=label, id_prefix=id_prefix,
                                               cursor=cursor, limit=limit))

    def stats(self) -> Dict[str, Json]:
        """{"nodes", "nodes_by_label": {"Episode", "Entity", "Procedure"}, "relationships"}."""
        return self._call("stats", {})

    # ---- Relationships ----------------------------------------------------------------------------------------

    def create_relationship(self, source_id: str, target_id: str, type: str, *,
                            properties: Optional[Mapping[str, Json]] = None) -> Dict[str, Json]:
        """Creates source → target of `type` (one of the 17 t4dm types; any plain identifier under
        graph.schema=open) with `properties` (default {}; `weight` a number, `coAccessCount` and `lastAccessed`
        integers ≥ 0, lastAccessed now unless given). There is at most one per (source, type, target): creating
        it again merges the properties. Returns {"source_id", "target_id", "type"}; a missing end is NotFound
        naming "source node" or "target node"."""
        return self._call("create_relationship",
                          _given(source_id=source_id, target_id=target_id, type=type, properties=properties))

    def batch_create_relationships(self, relationships: Sequence[Mapping[str, Json]]) -> Dict[str, Json]:
        """Creates up to 1000 relationships, [{"source_id", "target_id", "type", "properties"}], all or nothing.
        Returns {"written": n}; an error names the item."""
        return self._call("batch_create_relationships", _given(relationships=relationships))

    def delete_relationship(self, source_id: str, target_id: str, type: str) -> Dict[str, Json]:
        """Deletes source → target of `type`. Returns {"source_id", "target_id", "type"}; NotFound if missing."""
        return self._call("delete_relationship", _given(source_id=source_id, target_id=target_id, type=type))

    def get_relationships(self, id: str, *, type: Optional[str] = None,
                          direction: Optional[str] = None) -> List[Dict[str, Json]]:
        """The relationships of node `id`, [relationship], of `type` (default: any), `direction` "out", "in" or
        "both" (the default). A relationship is {"source_id", "target_id", "type", "properties"}. NotFound for a
        missing node."""
        return self._call("get_relationships", _given(id=id, type=type, direction=direction))

    def get_relationships_batch(self, ids: Sequence[str], *, type: Optional[str] = None,
                                direction: Optional[str] = None) -> Dict[str, List[Dict[str, Json]]]:
        """get_relationships for up to 1000 nodes at once: {"<id>": [relationship]}; a missing node gets []."""
        return self._call("get_relationships_batch", _given(ids=ids, type=type, direction=direction))

    def count_relationships(self) -> int:
        """The number of relationships."""
        return self._call("count_relationships", {})

    # ---- Hebbian weights --------------------------------------------------------------------------------------

    def strengthen_relationship(self, source_id: str, target_id: str, *, type: Optional[str] = None,
                                learning_rate: Optional[float] = None) -> Dict[str, Json]:
        """Hebbian strengthening: w ← w + lr·(1 − w) (a missing weight counts as 0.1; `learning_rate` in [0, 1],
        default 0.1), coAccessCount += 1, lastAccessed = now. Acts on source → target of `type` (default: every
        type), else on target → source; neither is NotFound. Returns {"weight"}, the highest new weight."""
        return self._call("strengthen_relationship",
                          _given(source_id=source_id, target_id=target_id, type=type, learning_rate=learning_rate))

    def weaken_relationship(self, source_id: str, target_id: str, *, type: Optional[str] = None,
                            rate: Optional[float] = None) -> Dict[str, Json]:
        """w ← w·(1 − rate) (`rate` in [0, 1], default 0.1), chosen as strengthen_relationship chooses;
        lastAccessed unchanged. Returns {"weight"}; NotFound when there is no such relationship."""
        return self._call("weaken_relationship", _given(source_id=source_id, target_id=target_id, type=type,
                                                        rate=rate))

    def batch_decay_relationships(self, *, stale_days: Optional[float] = None, decay_rate: Optional[float] = None,
                                  min_weight: Optional[float] = None,
                                  session_id: Optional[str] = None) -> Dict[str, Json]:
        """Decays the stale relationships (lastAccessed more than `stale_days` ago, default 30) by (1 −
        `decay_rate`) (default 0.01) per whole stale day not yet decayed — elapsed-time based, so running it
        twice changes nothing the second time — and removes the stale ones left below `min_weight` (default
        0.01). `session_id` keeps those whose source node has that sessionId. Returns {"decayed", "pruned"}."""
        return self._call("batch_decay_relationships", _given(stale_days=stale_days, decay_rate=decay_rate,
                                                              min_weight=min_weight, session_id=session_id))

    def count_stale_relationships(self, *, stale_days: Optional[float] = None,
                                  session_id: Optional[str] = None) -> int:
        """The number of relationships not accessed for `stale_days` (default 30), of `session_id` (default
        all)."""
        return self._call("count_stale_relationships", _given(stale_days=stale_days, session_id=session_id))

    # ---- Traversal --------------------------------------------------------------------------------------------

    def find_path(self, source_id: str, target_id: str, *, max_depth: Optional[int] = None,
                  types: Optional[Sequence[str]] = None) -> Optional[Dict[str, Json]]:
        """A shortest path ignoring direction, through relationships of `types` (default all; a non-empty list),
        of at most `max_depth` relationships (1..10, default 5): {"length", "nodes": [{"id", "label"}],
        "relationships": [relationship]}, relationships[i] joining nodes[i] and nodes[i+1]. None when there is
        none; a missing end is NotFound."""
        return self._call("find_path", _given(source_id=source_id, target_id=target_id, max_depth=max_depth,
                                              types=types))

    # ---- Cypher -----------------------------------------------------------------------------------------------

    def cypher(self, statement: str, *, parameters: Optional[Mapping[str, Json]] = None) -> Dict[str, Json]:
        """Runs one Cypher statement (the subset of docs/bolt.md) on the graph, all or nothing, with `parameters`
        ($name in the statement; ints stay Integers, floats Floats): {"fields": [name], "records": [[value]],
        "stats": {Neo4j's counter names: the non-zero ones}}. Nodes, relationships and paths in the records come
        back in engram's node, relationship and path shapes. A syntax or type error, a missing parameter or a
        bound passed is InvalidArgument with the Neo4j code leading the message; an existing id with other
        content, Conflict; a result JSON cannot hold (a NaN), InvalidArgument, with nothing written."""
        return self._call("cypher", _given(statement=statement, parameters=parameters))

    # ---- Vector store: collections ----------------------------------------------------------------------------

    def create_collection(self, collection: str, dim: int, *, distance: Optional[str] = None,
                          sparse: Optional[bool] = None, hnsw_config: Optional[Mapping[str, Json]] = None,
                          quantization_config: Optional[Mapping[str, Json]] = None) -> Dict[str, Json]:
        """Creates the collection (1–255 bytes, no "/") of `dim` (1..65536) dimensions, `distance` "Cosine" (the
        default), "Dot", "Euclid" or "Manhattan", with sparse vectors if `sparse` (default False), the index's
        `hnsw_config` ({"m", "ef_construct", "full_scan_threshold"}, engram's defaults) and
        `quantization_config` ({"scalar": {"type": "int8"}}, default none). Returns {"collection"}. The same
        configuration again is a no-op; another one is Conflict."""
        return self._call("create_collection", _given(collection=collection, dim=dim, distance=distance,
                                                      sparse=sparse, hnsw_config=hnsw_config,
                                                      quantization_config=quantization_config))

    def get_collection(self, collection: str) -> Dict[str, Json]:
        """{"name", "dim", "distance", "sparse", "hnsw_config", "quantization_config", "points_count" (exact),
        "indexed_vectors_count", "payload_indexes": {field: type}}; NotFound if it does not exist."""
        return self._call("get_collection", _given(collection=collection))

    def list_collections(self) -> List[str]:
        """The collections' names, sorted bytewise."""
        return self._call("list_collections", {})

    def delete_collection(self, collection: str) -> Dict[str, Json]:
        """Deletes the collection, its points and payload indexes. Returns {"collection"}; NotFound if missing."""
        return self._call("delete_collection", _given(collection=collection))

    def create_payload_index(self, collection: str, field: str, type: str) -> Dict[str, Json]:
        """Indexes the payload `field` (a key path) as "keyword", "integer", "float" or "bool", so filters on it
        read candidates from the index. Returns {"collection", "field", "type"}; the same type again is a no-op,
        another one Conflict."""
        return self._call("create_payload_index", _given(collection=collection, field=field, type=type))

    def delete_payload_index(self, collection: str, field: str) -> Dict[str, Json]:
        """Drops the index of `field` (none there: nothing changes). Returns {"collection", "field"}; a missing
        collection is NotFound."""
        return self._call("delete_payload_index", _given(collection=collection, field=field))

    # ---- Vector store: points ---------------------------------------------------------------------------------

    def upsert(self, collection: str, points: Sequence[Mapping[str, Json]]) -> Dict[str, Json]:
        """Writes up to 10000 points, [{"id", "vector", "sparse_vector", "payload"}], all or nothing; a point
        with an existing id is replaced whole. Ids are non-negative integers or UUIDs; `vector` has exactly the
        collection's dim numbers (a numpy array will do). Returns {"upserted": n}. An id twice is
        InvalidArgument, a missing collection NotFound."""
        return self._call("upsert", _given(collection=collection, points=points))

    def add(self, collection: str, points: Sequence[Mapping[str, Json]]) -> Dict[str, Json]:
        """The same as upsert (engram's alias of it, under the name some clients use)."""
        return self._call("add", _given(collection=collection, points=points))

    def get(self, collection: str, ids: Sequence[PointId], *, with_payload: Optional[bool] = None,
            with_vectors: Optional[bool] = None) -> List[Dict[str, Json]]:
        """The points of `ids` that exist, in the order asked: [{"id", "payload", "vector", "sparse_vector"}],
        with the payload unless `with_payload` is False, the vectors if `with_vectors` (default False; a Cosine
        collection's are normalised)."""
        return self._call("get", _given(collection=collection, ids=ids, with_payload=with_payload,
                                        with_vectors=with_vectors))

    def update_payload(self, collection: str, ids: Sequence[PointId], payload: Mapping[str, Json]) -> Dict[str, Json]:
        """Merges `payload`'s top-level keys into each point's payload. Returns {"updated": n}; every id must
        exist (a missing one is NotFound and nothing changes)."""
        return self._call("update_payload", _given(collection=collection, ids=ids, payload=payload))

    def overwrite_payload(self, collection: str, ids: Sequence[PointId],
                          payload: Mapping[str, Json]) -> Dict[str, Json]:
        """Replaces each point's whole payload. Returns {"updated": n}; every id must exist."""
        return self._call("overwrite_payload", _given(collection=collection, ids=ids, payload=payload))

    def delete_payload_keys(self, collection: str, ids: Sequence[PointId], keys: Sequence[str]) -> Dict[str, Json]:
        """Removes the top-level payload `keys` (absent ones ignored). Returns {"updated": n}; every id must
        exist."""
        return self._call("delete_payload_keys", _given(collection=collection, ids=ids, keys=keys))

    def batch_update_vectors(self, collection: str, points: Sequence[Mapping[str, Json]]) -> Dict[str, Json]:
        """Replaces dense vectors in place, [{"id", "vector"}], keeping payloads and sparse vectors. Returns
        {"updated": n}; every id must exist."""
        return self._call("batch_update_vectors", _given(collection=collection, points=points))

    def delete(self, collection: str, *, ids: Optional[Sequence[PointId]] = None,
               filter: Optional[Filter] = None) -> Dict[str, Json]:
        """Deletes the points of `ids`, or those matching `filter` ({} deletes every point): exactly one of the
        two, else InvalidArgument. Returns {"deleted": n}, the points that existed."""
        return self._call("delete", _given(collection=collection, ids=ids, filter=filter))

    # ---- Vector store: reading and searching ------------------------------------------------------------------

    def count(self, collection: str, *, filter: Optional[Filter] = None) -> int:
        """The exact number of points matching `filter` (default: all)."""
        return self._call("count", _given(collection=collection, filter=filter))

    def scroll(self, collection: str, *, filter: Optional[Filter] = None, limit: Optional[int] = None,
               offset: Optional[PointId] = None, with_payload: Optional[bool] = None,
               with_vectors: Optional[bool] = None) -> Dict[str, Json]:
        """A page of the points matching `filter`, in id order (numbers before UUIDs) from the point `offset`:
        {"points": [point], "next_offset": id or None}. `limit` 1..10000 (default 100); pass `next_offset` back as
        `offset` for the next page."""
        return self._call("scroll", _given(collection=collection, filter=filter, limit=limit, offset=offset,
                                           with_payload=with_payload, with_vectors=with_vectors))

    def search(self, collection: str, vector: Vector, *, limit: Optional[int] = None, offset: Optional[int] = None,
               filter: Optional[Filter] = None, session_id: Optional[str] = None,
               score_threshold: Optional[float] = None, with_payload: Optional[bool] = None,
               with_vectors: Optional[bool] = None, params: Optional[Mapping[str, Json]] = None
               ) -> List[Dict[str, Json]]:
        """The `limit` (default 10) points most similar to `vector` after skipping the best `offset` (default 0;
        limit + offset ≤ 10000), best first: [{"id", "score", "payload", "vector"}]. For Cosine and Dot a higher
        score is better and `score_threshold` is a floor; for Euclid and Manhattan the score is the distance
        and the threshold a ceiling. `filter` applies during the search; `session_id` adds the condition
        payload.session_id == it. `params` is Qdrant's {"hnsw_ef", "exact", "quantization": {"oversampling"}}."""
        return self._call("search", _given(collection=collection, vector=vector, limit=limit, offset=offset,
                                           filter=filter, session_id=session_id, score_threshold=score_threshold,
                                           with_payload=with_payload, with_vectors=with_vectors, params=params))

    def search_hybrid(self, collection: str, dense_vector: Vector, sparse_vector: SparseVector, *,
                      limit: Optional[int] = None, filter: Optional[Filter] = None, session_id: Optional[str] = None,
                      score_threshold: Optional[float] = None, with_payload: Optional[bool] = None,
                      with_vectors: Optional[bool] = None, params: Optional[Mapping[str, Json]] = None
                      ) -> List[Dict[str, Json]]:
        """The dense and the sparse rankings fused by reciprocal rank fusion as Qdrant fuses them (a point's
        score is the sum of 1 / (position + 2)), best first: [scored point]. Only on a collection created with
        sparse=True, with a non-empty `sparse_vector` ({"indices", "values"}); `score_threshold` applies to the
        fused score."""
        return self._call("search_hybrid", _given(collection=collection, dense_vector=dense_vector,
                                                  sparse_vector=sparse_vector, limit=limit, filter=filter,
                                                  session_id=session_id, score_threshold=score_threshold,
                                                  with_payload=with_payload, with_vectors=with_vectors,
                                                  params=params))

    def search_sparse(self, collection: str, sparse_vector: SparseVector, *, limit: Optional[int] = None,
                      offset: Optional[int] = None, filter: Optional[Filter] = None,
                      session_id: Optional[str] = None, score_threshold: Optional[float] = None,
                      with_payload: Optional[bool] = None, with_vectors: Optional[bool] = None
                      ) -> List[Dict[str, Json]]:
        """The points sharing an index with `sparse_vector`, by the dot product over the shared indices, best
        first (always exact): [scored point]. Only on a collection created with sparse=True; an empty query
        finds nothing."""
        return self._call("search_sparse", _given(collection=collection, sparse_vector=sparse_vector, limit=limit,
                                                  offset=offset, filter=filter, session_id=session_id,
                                                  score_threshold=score_threshold, with_payload=with_payload,
                                                  with_vectors=with_vectors))

    # ---- Memories ---------------------------------------------------------------------------------------------
    # A memory is a point of its type's collection (episodes, entities, procedures) and a node of its label
    # (Episode, Entity, Procedure) with the same id, written together by a durable saga: after any crash it is
    # in both stores or in neither, and a write that returned survives kill -9.

    def create_episode(self, *, id: Optional[MemoryId] = None, vector: Optional[Vector] = None,
                       text: Optional[str] = None, dim: Optional[int] = None,
                       payload: Optional[Mapping[str, Json]] = None, properties: Optional[Mapping[str, Json]] = None,
                       session_id: Optional[str] = None, created_at: Optional[int] = None,
                       relationships: Optional[Sequence[Mapping[str, Json]]] = None) -> Dict[str, Json]:
        """Creates an episode memory. `id`: a UUID or an unsigned 64-bit integer (default a random UUID).
        Exactly one of `vector` and `text` (embedded by engram's lexical embedder into `dim` dimensions, default
        256: shared words, not meaning). `payload` goes to the point and `properties` to the node, each with
        `created_at` (epoch ms, default now) and the session (`session_id` / `sessionId`). `relationships`:
        [{"target_id", "type", "properties"}] from this memory to existing nodes (at most 1000).

        Returns {"id": canonical id} ("1", or the lower-case UUID). The same create again is a no-op; other
        content under the id, or an id of another type, is Conflict; a missing target NotFound."""
        return self._call("create_episode", _given(id=id, vector=vector, text=text, dim=dim, payload=payload,
                                                   properties=properties, session_id=session_id,
                                                   created_at=created_at, relationships=relationships))

    def create_entity(self, *, id: Optional[MemoryId] = None, vector: Optional[Vector] = None,
                      text: Optional[str] = None, dim: Optional[int] = None,
                      payload: Optional[Mapping[str, Json]] = None, properties: Optional[Mapping[str, Json]] = None,
                      session_id: Optional[str] = None, created_at: Optional[int] = None,
                      relationships: Optional[Sequence[Mapping[str, Json]]] = None) -> Dict[str, Json]:
        """Creates an entity memory; the arguments, result and errors are create_episode's."""
        return self._call("create_entity", _given(id=id, vector=vector, text=text, dim=dim, payload=payload,
                                                  properties=properties, session_id=session_id,
                                                  created_at=created_at, relationships=relationships))

    def create_procedure(self, *, id: Optional[MemoryId] = None, vector: Optional[Vector] = None,
                         text: Optional[str] = None, dim: Optional[int] = None,
                         payload: Optional[Mapping[str, Json]] = None,
                         properties: Optional[Mapping[str, Json]] = None, session_id: Optional[str] = None,
                         created_at: Optional[int] = None,
                         relationships: Optional[Sequence[Mapping[str, Json]]] = None) -> Dict[str, Json]:
        """Creates a procedure memory; the arguments, result and errors are create_episode's."""
        return self._call("create_procedure", _given(id=id, vector=vector, text=text, dim=dim, payload=payload,
                                                     properties=properties, session_id=session_id,
                                                     created_at=created_at, relationships=relationships))

    def batch_create_memories(self, memories: Sequence[Mapping[str, Json]]) -> Dict[str, Json]:
        """An import of up to 10000 memories, [{"type", ...create_episode's arguments...}], all or nothing (even
        across a crash); relationships may target other memories of the batch. Every item is checked first and
        an error names the first bad one ("memory 17 (id ...): ..."). Returns {"ids": [canonical id, in
        order]}."""
        return self._call("batch_create_memories", _given(memories=memories))

    def update_memory(self, id: MemoryId, type: str, *, payload: Optional[Mapping[str, Json]] = None,
                      properties: Optional[Mapping[str, Json]] = None) -> Dict[str, Json]:
        """Merges `payload` into the point's payload and `properties` into the node's (a None value removes a
        property); at least one of them. `type` is "episode", "entity" or "procedure" (or a plural or label).
        Returns {"id"}; NotFound if the memory does not exist."""
        return self._call("update_memory", _given(id=id, type=type, payload=payload, properties=properties))

    def delete_memory(self, id: MemoryId, type: str) -> Dict[str, Json]:
        """Deletes the memory's point, its node and every relationship of the node, restoring all on failure.
        Returns {"id"}; NotFound if it is in neither store."""
        return self._call("delete_memory", _given(id=id, type=type))

    def recall(self, type: str, *, vector: Optional[Vector] = None, text: Optional[str] = None,
               dim: Optional[int] = None, limit: Optional[int] = None, filter: Optional[Filter] = None,
               session_id: Optional[str] = None, expand: Optional[int] = None) -> Dict[str, Json]:
        """The memories of `type` most similar to `vector` or `text` (exactly one), best first, each with its
        node and, for `expand` 1 or 2 (default 0), the relationships and nodes up to that many hops away:
        {"memories": [{"id", "score", "payload", "node", "relationships", "neighbors": [{"id", "label",
        "properties", "depth"}]}], "truncated": bool}. `limit` 1..10000 (default 10); `filter` and `session_id`
        as in search. A type with no memory yet gives no memories."""
        return self._call("recall", _given(type=type, vector=vector, text=text, dim=dim, limit=limit,
                                           filter=filter, session_id=session_id, expand=expand))

    def check(self, *, repair: Optional[bool] = None) -> Dict[str, Json]:
        """Compares both stores memory by memory and lists the dead letters: {"consistent", "memories",
        "orphans": [{"id", "type", "in"}], "pending" (memories with queued writes), "dead_letters", "repaired",
        "resolved"}; consistent when no orphan and no dead letter remain. With `repair` (default False) it
        settles the dead letters and removes the orphans. Holds new writes while it scans."""
        return self._call("check", _given(repair=repair))

    # ---- The cold archive -------------------------------------------------------------------------------------

    def archive_memory(self, id: MemoryId, type: str) -> Dict[str, Json]:
        """Moves the memory out of both stores into the compressed archive. Returns {"id"}; NotFound if it is not
        hot, Conflict for an orphan or a frozen id, Unavailable while a store is."""
        return self._call("archive_memory", _given(id=id, type=type))

    def archive_older_than(self, type: str, days: float, *, limit: Optional[int] = None,
                           session_id: Optional[str] = None, field: Optional[str] = None) -> Dict[str, Json]:
        """Archives the memories of `type` whose `field` (default "created_at") is more than `days` old, oldest
        first, at most `limit` (default all), of `session_id` (default all). A memory that fails stays hot and
        the run goes on: {"candidates", "archived", "failed", "first_error" (when one failed)}."""
        return self._call("archive_older_than", _given(type=type, days=days, limit=limit, session_id=session_id,
                                                       field=field))

    def retrieve_archived(self, id: str) -> Dict[str, Json]:
        """The archived memory, left in the archive: {"record": {...}, "metadata": {...}}. NotFound; Corrupt
        naming the damage."""
        return self._call("retrieve_archived", _given(id=id))

    def restore_archived(self, id: str) -> Dict[str, Json]:
        """Puts the archived memory back into both stores (with its relationships whose other end exists) and
        removes the entry. Returns {"id"}; Conflict if the id is hot, InvalidArgument for a record engram did not
        write."""
        return self._call("restore_archived", _given(id=id))

    def delete_archived(self, id: str) -> Dict[str, Json]:
        """Removes the archive entry. Returns {"id"}; NotFound if there is none."""
        return self._call("delete_archived", _given(id=id))

    def list_archived(self, *, type: Optional[str] = None, limit: Optional[int] = None,
                      cursor: Optional[str] = None) -> Dict[str, Json]:
        """A page of the archive's entries, oldest archived first, of `type` (default all): {"entries":
        [metadata], "next_cursor": text or None}. `limit` 1..10000 (default 100)."""
        return self._call("list_archived", _given(type=type, limit=limit, cursor=cursor))

    def cleanup_archive(self, *, retention_days: Optional[float] = None) -> Dict[str, Json]:
        """Removes the entries archived more than `retention_days` ago (default: the setting
        archive.retention_days, 1825). Returns {"removed"}."""
        return self._call("cleanup_archive", _given(retention_days=retention_days))

    def verify_archive(self) -> Dict[str, Json]:
        """Reads every archive entry back: {"entries", "ok", "corrupt": [{"id", "reason"}], "unverifiable":
        [id], "orphans": [{"path", "reason"}]}."""
        return self._call("verify_archive", {})

    # ---- Administration ---------------------------------------------------------------------------------------

    def health(self) -> Dict[str, Json]:
        """The stores' circuit breakers and write queues and the degraded-mode state: {"status": "ok" |
        "degraded" | "down", "stores": {"graph": {...}, "vectors": {...}}, "write_policy", "dead_letters",
        "cache"}."""
        return self._call("health", {})

    def config(self) -> List[Dict[str, Json]]:
        """The settings in effect: [{"name", "value", "default", "source", "description", "allowed"}]."""
        return self._call("config", {})

    def set_faults(self, rules: str) -> Dict[str, Json]:
        """For tests only: replaces the fault-injection rules ("graph.create_node=fail;..."; "" clears them).
        Returns {"rules"}. InvalidArgument unless the process opened the folder with ENGRAM_ALLOW_FAULTS=1 in
        its environment, or for a bad rule (the old rules stay)."""
        return self._call("set_faults", _given(rules=rules))
