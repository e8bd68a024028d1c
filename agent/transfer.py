"""Export and import: JSONL, one memory a line with every field, its links and its vector.

Export then import into an empty home gives back the same store, ids included. Import reads
and checks the whole file before writing anything, then writes it in one transaction.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np

from agent.clock import iso, parse_time
from agent.errors import UserError
from models import Embedder
from storage import RELATIONS, Memory, MemoryStore, NewMemory

FORMAT = "papertape-memory/1"


def memory_record(store: MemoryStore, memory: Memory, embedder_name: str) -> dict[str, Any]:
    vector = store.vector(memory.id)
    return {
        "format": FORMAT,
        "id": memory.id,
        "kind": memory.kind,
        "source": memory.source,
        "occurred_at": iso(memory.occurred_at),
        "ingested_at": iso(memory.ingested_at),
        "content_hash": memory.content_hash,
        "text": memory.text,
        "tier": memory.tier,
        "importance": memory.importance,
        "strength": memory.strength,
        "last_recalled_at": iso(memory.last_recalled_at),
        "recall_count": memory.recall_count,
        "pinned": memory.pinned,
        "links": [
            {"to": link.to_id, "relation": link.relation, "position": link.position}
            for link in store.links_from(memory.id)
        ],
        "embedder": embedder_name if vector is not None else None,
        "vector": None if vector is None else base64.b64encode(vector.tobytes()).decode("ascii"),
    }


def export_lines(store: MemoryStore, embedder_name: str) -> Iterator[str]:
    for memory in store.iter_memories():
        yield json.dumps(memory_record(store, memory, embedder_name), ensure_ascii=False)


@dataclass(frozen=True)
class ImportReport:
    imported: int
    duplicates: int
    reembedded: int


def _field(record: dict[str, Any], name: str, kind: type | tuple[type, ...], line: int) -> Any:
    value = record.get(name)
    if not isinstance(value, kind) or (isinstance(value, bool) and kind in (int, float)):
        raise UserError(f"line {line}: field {name!r} is missing or has the wrong type.")
    return value


def _parse(record: Any, line: int) -> tuple[NewMemory, list[dict[str, Any]], str | None, str | None]:
    if not isinstance(record, dict) or record.get("format") != FORMAT:
        raise UserError(f"line {line}: not a papertape export record ({FORMAT}).")
    try:
        memory = NewMemory(
            id=_field(record, "id", int, line),
            kind=_field(record, "kind", str, line),
            source=_field(record, "source", str, line),
            occurred_at=parse_time(_field(record, "occurred_at", str, line)),
            ingested_at=parse_time(_field(record, "ingested_at", str, line)),
            content_hash=_field(record, "content_hash", str, line),
            text=_field(record, "text", str, line),
            tier=_field(record, "tier", str, line),
            importance=float(_field(record, "importance", (int, float), line)),
            strength=float(_field(record, "strength", (int, float), line)),
            last_recalled_at=(
                None if record.get("last_recalled_at") is None
                else parse_time(_field(record, "last_recalled_at", str, line))
            ),
            recall_count=_field(record, "recall_count", int, line),
            pinned=_field(record, "pinned", bool, line),
        )
    except ValueError as exc:  # NewMemory's own checks: kind, tier, ranges
        raise UserError(f"line {line}: {exc}.") from None
    links = _field(record, "links", list, line)
    for link in links:
        if not (isinstance(link, dict) and isinstance(link.get("to"), int)
                and link.get("relation") in RELATIONS):
            raise UserError(f"line {line}: a link is malformed.")
    return memory, links, record.get("embedder"), record.get("vector")


def import_lines(
    store: MemoryStore, embedder: Embedder, lines: Iterable[str]
) -> ImportReport:
    parsed = []
    for number, raw in enumerate(lines, start=1):
        if not raw.strip():
            continue
        try:
            record = json.loads(raw)
        except json.JSONDecodeError as exc:
            raise UserError(f"line {number} is not JSON ({exc.msg}); nothing was imported.") from None
        parsed.append((number, *_parse(record, number)))

    # Vectors from another embedder cannot share this store's space: embed those texts again.
    vectors: dict[int, np.ndarray | None] = {}
    to_embed: list[tuple[int, str]] = []
    for number, memory, _, embedder_name, blob in parsed:
        if blob is None:
            vectors[number] = None
        elif embedder_name == embedder.name:
            try:
                vectors[number] = np.frombuffer(base64.b64decode(blob, validate=True), np.float32)
            except ValueError:
                raise UserError(f"line {number}: the vector is not valid base64.") from None
            if vectors[number].shape[0] != store.vector_dim:  # type: ignore[union-attr]
                raise UserError(f"line {number}: the vector does not have {store.vector_dim} dimensions.")
        else:
            to_embed.append((number, memory.text))
    if to_embed:
        fresh = embedder.embed([text for _, text in to_embed])
        for (number, _), vector in zip(to_embed, fresh, strict=True):
            vectors[number] = vector

    id_map: dict[int, int] = {}
    imported = duplicates = 0
    with store.transaction():
        for number, memory, _, _, _ in parsed:
            existing = store.find_by_hash(memory.content_hash)
            if existing is not None:
                id_map[memory.id] = existing  # type: ignore[index]
                duplicates += 1
                continue
            keep_id = memory.id if store.get(memory.id) is None else None  # type: ignore[arg-type]
            new = NewMemory(**{**memory.__dict__, "id": keep_id})
            id_map[memory.id] = store.add(new, vectors[number])  # type: ignore[index]
            imported += 1
        for _, memory, links, _, _ in parsed:
            for link in links:
                if link["to"] not in id_map:
                    raise UserError(
                        f"memory {memory.id} links to {link['to']}, which is not in the file; "
                        "nothing was imported."
                    )
                store.link(id_map[memory.id], id_map[link["to"]], link["relation"],  # type: ignore[index]
                           link.get("position"))
    return ImportReport(imported, duplicates, len(to_embed))
