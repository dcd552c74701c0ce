"""_operations — every engram operation (docs/operations.md) as a method with keyword arguments, written once for
the embedded Engram and the Remote one (_transport.py), which supply _call. An argument left at None is not sent,
so engram's own default applies (the defaults named in each docstring are engram's). Results are plain Python
values, the JSON engram answers: dicts, lists, strings, numbers."""

from typing import Any, Dict, List, Mapping, Optional, Sequence

Json = Any
Vector = Sequence[float]  # a list, a tuple or a numpy array


class Operations:
    """The operations; subclasses send them (_call)."""

    def _call(self, op: str, arguments: Mapping[str, Any]) -> Any:
        raise NotImplementedError

    # ---- administration ----

    def health(self) -> Dict[str, Json]:
        """The stores' circuit breakers, the write queue and the degraded-mode state (docs/operations.md,
        "Degraded operation")."""
        return self._call("health", {})

    def stats(self) -> Dict[str, Json]:
        """Counts of nodes (by label), relationships, collections and points."""
        return self._call("stats", {})

    # ---- nodes ----

    def create_node(self, label: str, id: str, properties: Optional[Mapping[str, Json]] = None) -> Dict[str, Json]:
        """Creates the node `id` with `label` ("Episode", "Entity", "Procedure", or any plain identifier under
        graph.schema=open) and `properties`. Repeating an identical create is a no-op; the same id with another
        label or other properties raises Conflict. Returns {"id": id}."""
        return self._call("create_node", {"label": label, "id": id, "properties": properties})

    def get_node(self, id: str, label: Optional[str] = None) -> Dict[str, Json]:
        """The node {"id", "label", "properties"}; with `label`, a node of another label is NotFound."""
        return self._call("get_node", {"id": id, "label": label})
