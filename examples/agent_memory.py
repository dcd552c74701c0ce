#!/usr/bin/env python3
"""A small agent loop over engram: it remembers each conversation turn as an episode, relates the entities the
turn mentions, and answers a question by recalling similar episodes with their graph context.

    python3 examples/agent_memory.py [FOLDER]      # a temporary folder when none is given

It uses engram.aio (agent code is async) and engram's memory operations: each create writes the vector and the
node together, durably, or neither. Vectors come from engram's lexical embedder (`text=`: shared words, no
model); a real agent passes its model's embeddings as `vector=`. Needs libengram.so: installed, or named by
$ENGRAM_LIBRARY (docs/python.md)."""

import asyncio
import re
import sys
import tempfile
import uuid
from typing import Dict, List

import engram.aio

SESSION = "demo-session"
TURNS = [
    "Alice fixed the write-ahead log after the crash on Monday",
    "Bob reviewed the saga code and found a missing compensation",
    "Alice and Bob paired on the compensation fix for the saga",
    "The nightly benchmark shows the write-ahead log is twice as fast",
]
KNOWN_ENTITIES = ("Alice", "Bob", "write-ahead log", "saga", "benchmark")


class Agent:
    """Remembers turns and recalls them; one AsyncEngram is the whole memory."""

    def __init__(self, db: engram.aio.AsyncEngram) -> None:
        self.db = db
        self.entities: Dict[str, str] = {}  # name → memory id
        self.previous_turn = None

    async def entity(self, name: str) -> str:
        """The entity's memory id, creating the entity on first mention."""
        if name not in self.entities:
            created = await self.db.create_entity(id=str(uuid.uuid4()), text=name, session_id=SESSION,
                                                  properties={"name": name})
            self.entities[name] = created["id"]
        return self.entities[name]

    async def remember(self, turn: str) -> str:
        """Stores the turn as an episode related to the entities it mentions and to the turn before it."""
        mentioned = [name for name in KNOWN_ENTITIES if re.search(re.escape(name), turn, re.IGNORECASE)]
        ids = await asyncio.gather(*(self.entity(name) for name in mentioned))
        relationships: List[dict] = [{"target_id": i, "type": "RELATES_TO"} for i in ids]
        if self.previous_turn:
            relationships.append({"target_id": self.previous_turn, "type": "TEMPORAL_AFTER"})
        created = await self.db.create_episode(id=str(uuid.uuid4()), text=turn, session_id=SESSION,
                                               properties={"content": turn}, relationships=relationships)
        self.previous_turn = created["id"]
        # Entities mentioned together are associated: strengthen their link (Hebbian co-activation).
        for a, b in zip(ids, ids[1:]):
            try:
                await self.db.strengthen_relationship(a, b)
            except engram.NotFound:
                await self.db.create_relationship(a, b, "RELATES_TO", properties={"weight": 0.2})
        return created["id"]

    async def recall(self, question: str) -> List[str]:
        """The episodes closest to the question, each with the entities around it (one hop in the graph)."""
        found = await self.db.recall(type="episode", text=question, limit=2, session_id=SESSION, expand=1)
        lines = []
        for hit in found["memories"]:
            about = sorted(n["properties"]["name"] for n in hit["neighbors"] if n["label"] == "Entity")
            lines.append(f"{hit['score']:.2f}  {hit['node']['properties']['content']}  [about: {', '.join(about)}]")
        return lines


async def main(folder: str) -> None:
    async with await engram.aio.open(folder) as db:
        agent = Agent(db)
        for turn in TURNS:
            await agent.remember(turn)
        for question in ("who fixed the write-ahead log?", "what happened with the saga compensation?"):
            print(f"recall: {question}")
            for line in await agent.recall(question):
                print(f"  {line}")
        alice, bob = agent.entities["Alice"], agent.entities["Bob"]
        path = await db.find_path(alice, bob, max_depth=3)
        names = {memory_id: name for name, memory_id in agent.entities.items()}
        hops = " - ".join(names.get(n["id"], n["label"]) for n in path["nodes"])
        print(f"path Alice -> Bob: {hops} ({path['length']} hops)")
        print("consistent:", (await db.check())["consistent"])


if __name__ == "__main__":
    if len(sys.argv) > 1:
        asyncio.run(main(sys.argv[1]))
    else:
        with tempfile.TemporaryDirectory() as temporary:
            asyncio.run(main(temporary))
