"""Export and import: JSONL, one memory a line with every field, its links and its vector.

Export then import into an empty home gives back the same store, ids included. Import reads
and checks the whole file before writing anything, then writes it in one transaction.

Ids are never given twice. The last line, `{"format": "papertape-store/1", "last_id": N,
"memories": M}`, carries the store's high-water mark, and the importing store gives no id up
to N. An imported memory keeps its id only when that id is above everything the importing
store has given. The count M tells a file cut short at a line's end: import refuses one
whose count differs, and says so of one with no last line (older exports have none).
"""

from __future__ import annotations

import base64
import hashlib
import json
import math
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, replace
from typing import Any

import numpy as np

from agent.clock import iso, parse_time
from agent.errors import UserError
from agent.ingest.notes import check_speaker, verbatim_hashes
from agent.memory.drafts import fact_hash
from models import Embedder
from storage import BLOB_ROLES, RELATIONS, Blob, Memory, MemoryStore, NewMemory, TimeWords
from storage.vectors import ACCEPTED, size

FORMAT = "papertape-memory/1"
STORE_FORMAT = "papertape-store/1"  # the last line: the store's id high-water mark
MAX_ID = 2**53  # ids stay exact in JSON numbers everywhere
_HEX64 = re.compile(r"[0-9a-f]{64}")
# Kinds whose sharp text is what their content hash was computed from.
VERBATIM_KINDS = frozenset({"text", "chat", "screenshot"})


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def _time_record(time: TimeWords | None) -> dict[str, Any] | None:
    if time is None:
        return None
    return {"words": time.words, "unit": time.unit, "offset": time.offset}


def _parse_time_words(raw: Any, line: int) -> TimeWords | None:
    if raw is None:  # none read, or an export made before time words existed
        return None
    if not isinstance(raw, dict):
        raise UserError(f"line {line}: field 'time' is malformed.")
    offset, words = raw.get("offset"), raw.get("words")
    if type(offset) is not int or not isinstance(words, str):
        raise UserError(f"line {line}: field 'time' is malformed.")
    try:
        return TimeWords(words, str(raw.get("unit")), offset)
    except ValueError as exc:
        raise UserError(f"line {line}: field 'time': {exc}.") from None


def memory_record(store: MemoryStore, memory: Memory, embedder_name: str) -> dict[str, Any]:
    # The vector as its tier stores it (float32, int8 or bits), so a round trip is exact.
    encoded = store.encoded_vector(memory.id)
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
        # Steps already done with it ("facts": read for facts), so an import does not redo them.
        "marks": store.marks_of(memory.id),
        # The period its relative words name, read at consolidation (agent/memory/times.py).
        "time": _time_record(store.times_of([memory.id]).get(memory.id)),
        "speaker": store.speakers_of([memory.id]).get(memory.id),
        "embedder": embedder_name if encoded is not None else None,
        "vector_encoding": None if encoded is None else encoded[0],
        "vector": None if encoded is None else _b64(encoded[1]),
        "blobs": [
            {"role": b.role, "media_type": b.media_type, "meta": b.meta, "data": _b64(b.data)}
            for b in store.blobs_of(memory.id)
        ],
    }


def export_lines(store: MemoryStore, embedder_name: str) -> Iterator[str]:
    count = 0
    for memory in store.iter_memories():
        count += 1
        yield json.dumps(memory_record(store, memory, embedder_name), ensure_ascii=False)
    yield json.dumps({"format": STORE_FORMAT, "last_id": store.last_id(), "memories": count})


def is_memory_line(line: str) -> bool:
    """Whether an exported line holds a memory (the store's last line does not)."""
    return STORE_FORMAT not in line[:40]


@dataclass(frozen=True)
class ImportReport:
    imported: int
    duplicates: int
    reembedded: int
    closed: bool  # the file ended with an export's last line (its count checked)


def _field(record: dict[str, Any], name: str, kind: type | tuple[type, ...], line: int) -> Any:
    value = record.get(name)
    if not isinstance(value, kind) or (isinstance(value, bool) and kind in (int, float)):
        raise UserError(f"line {line}: field {name!r} is missing or has the wrong type.")
    return value


@dataclass(frozen=True)
class _Line:
    number: int
    old_id: int
    memory: NewMemory
    links: list[dict[str, Any]]
    marks: list[str]
    time: TimeWords | None
    speaker: str | None
    embedder: str | None
    vector: str | None
    vector_encoding: str
    blobs: list[Blob]


def _number(record: dict[str, Any], name: str, line: int) -> float:
    value = float(_field(record, name, (int, float), line))
    if not math.isfinite(value):  # JSON as Python reads it takes NaN and Infinity
        raise UserError(f"line {line}: field {name!r} must be a finite number, not {value}.")
    return value


def _count(record: dict[str, Any], name: str, line: int, least: int) -> int:
    value = int(_field(record, name, int, line))
    if value < least:
        raise UserError(f"line {line}: field {name!r} must be at least {least}, not {value}.")
    return value


def _parse(record: Any, line: int) -> _Line:
    if not isinstance(record, dict) or record.get("format") != FORMAT:
        raise UserError(f"line {line}: not a papertape export record ({FORMAT}).")
    old_id = _count(record, "id", line, 1)
    digest = _field(record, "content_hash", str, line)
    if not _HEX64.fullmatch(digest):
        raise UserError(f"line {line}: the content hash is not a sha256 in hex.")
    recalled = record.get("last_recalled_at")
    try:
        memory = NewMemory(
            id=old_id,
            kind=_field(record, "kind", str, line),
            source=_field(record, "source", str, line),
            occurred_at=parse_time(_field(record, "occurred_at", str, line)),
            ingested_at=parse_time(_field(record, "ingested_at", str, line)),
            content_hash=digest,
            text=_field(record, "text", str, line),
            tier=_field(record, "tier", str, line),
            importance=_number(record, "importance", line),
            strength=_number(record, "strength", line),
            last_recalled_at=(
                None
                if recalled is None
                else parse_time(_field(record, "last_recalled_at", str, line))
            ),
            recall_count=_count(record, "recall_count", line, 0),
            pinned=_field(record, "pinned", bool, line),
        )
    except ValueError as exc:  # NewMemory's own checks: kind, tier, ranges
        raise UserError(f"line {line}: {exc}.") from None
    links = _field(record, "links", list, line)
    for link in links:
        position = link.get("position") if isinstance(link, dict) else None
        if not (
            isinstance(link, dict)
            and isinstance(link.get("to"), int)
            and not isinstance(link.get("to"), bool)
            and link["to"] >= 1
            and link.get("relation") in RELATIONS
            and (position is None or (isinstance(position, int) and position >= 0))
        ):
            raise UserError(f"line {line}: a link is malformed.")
    marks = record.get("marks") or []  # absent in exports made before marks existed
    if not (isinstance(marks, list) and all(isinstance(mark, str) for mark in marks)):
        raise UserError(f"line {line}: field 'marks' is not a list of names.")
    speaker = record.get("speaker")  # absent in exports made before speakers were kept
    if speaker is not None:
        try:
            speaker = check_speaker(speaker if isinstance(speaker, str) else "")
        except UserError as exc:
            raise UserError(f"line {line}: field 'speaker': {exc}") from None
    encoding = record.get("vector_encoding") or "float32"
    if encoding not in ACCEPTED[memory.tier]:
        raise UserError(f"line {line}: a {memory.tier} memory cannot hold a {encoding} vector.")
    blobs = []
    for raw in record.get("blobs") or []:
        if not (isinstance(raw, dict) and raw.get("role") in BLOB_ROLES):
            raise UserError(f"line {line}: a blob is malformed.")
        try:
            data = base64.b64decode(str(raw.get("data", "")), validate=True)
        except ValueError:
            raise UserError(f"line {line}: a blob is not valid base64.") from None
        blobs.append(
            Blob(
                old_id,
                raw["role"],
                str(raw.get("media_type", "")),
                data,
                str(raw.get("meta", "{}")),
            )
        )
    return _Line(
        line,
        old_id,
        memory,
        links,
        marks,
        _parse_time_words(record.get("time"), line),
        speaker,
        record.get("embedder"),
        record.get("vector"),
        encoding,
        blobs,
    )


def import_lines(store: MemoryStore, embedder: Embedder, lines: Iterable[str]) -> ImportReport:
    parsed: list[_Line] = []
    given = 0  # the exporting store's id high-water mark, when its last line says
    counted: int | None = None  # how many memories its last line says it holds
    closed = False  # a last line was read
    for number, raw in enumerate(lines, start=1):
        if not raw.strip():
            continue
        try:
            record = json.loads(raw)
        except json.JSONDecodeError as exc:
            raise UserError(
                f"line {number} is not JSON ({exc.msg.removesuffix(' at')} at column "
                f"{exc.colno}); nothing was imported."
            ) from None
        if isinstance(record, dict) and record.get("format") == STORE_FORMAT:
            mark = _field(record, "last_id", int, number)
            if not 0 <= mark < MAX_ID:
                raise UserError(f"line {number}: last_id {mark} is out of range.")
            given, closed = max(given, mark), True
            if "memories" in record:
                counted = _field(record, "memories", int, number)
            continue
        parsed.append(_parse(record, number))
    if counted is not None and counted != len(parsed):
        raise UserError(
            f"the export's last line says it holds {counted} memories and the file holds "
            f"{len(parsed)}: it was cut short or edited; nothing was imported."
        )
    if not parsed and not closed:
        raise UserError("the file holds no papertape export; nothing was imported.")
    _check_hashes(parsed)

    # Vectors from another embedder cannot share this store's space: embed those texts again.
    vectors: dict[int, np.ndarray | None] = {}
    exact: dict[int, bytes] = {}  # stored bytes kept as they were, in the tier's encoding
    to_embed: list[_Line] = []
    for entry in parsed:
        vectors[entry.number] = None
        if entry.vector is None:
            continue
        if entry.embedder == embedder.name:
            exact[entry.number] = _decode_vector(entry, store.vector_dim)
        else:
            to_embed.append(entry)
    if to_embed:
        fresh = embedder.embed([entry.memory.text for entry in to_embed])
        for entry, vector in zip(to_embed, fresh, strict=True):
            vectors[entry.number] = vector

    id_map: dict[int, int] = {}
    imported = duplicates = 0
    with store.transaction():
        for entry in parsed:
            existing = store.find_by_hash(entry.memory.content_hash)
            if existing is not None:
                id_map[entry.old_id] = existing
                duplicates += 1
                continue
            # An id this store has given before (even to a memory since forgotten) is
            # never given again.
            keep_id = entry.old_id if entry.old_id > store.last_id() else None
            new = replace(entry.memory, id=keep_id)
            new_id = store.add(new, vectors[entry.number])
            if entry.number in exact:
                store.put_encoded_vector(new_id, new.tier, exact[entry.number])
            for blob in entry.blobs:
                store.put_blob(replace(blob, memory_id=new_id))
            for mark in entry.marks:
                store.mark([new_id], mark)
            if entry.time is not None:
                store.set_time(new_id, entry.time)
            if entry.speaker is not None:
                store.set_speaker(new_id, entry.speaker)
            id_map[entry.old_id] = new_id
            imported += 1
        for entry in parsed:
            for link in entry.links:
                if link["to"] not in id_map:
                    raise UserError(
                        f"memory {entry.old_id} links to {link['to']}, which is not in the "
                        "file; nothing was imported."
                    )
                store.link(
                    id_map[entry.old_id], id_map[link["to"]], link["relation"], link.get("position")
                )
        store.raise_last_id(given)
    return ImportReport(imported, duplicates, len(to_embed), closed)


def _check_hashes(parsed: list[_Line]) -> None:
    """A content hash must be the one papertape would compute, where it can be recomputed:
    a forged one would make later notes of some other text look already stored. Verbatim
    sharp text is hashed from itself (content_hash), a fact from its words (fact_hash), a
    passage from its document's hash and its place; summaries, documents, recordings and
    faded memories (whose text became a gist) only need to look like a sha256, checked in
    _parse."""
    by_id = {entry.old_id: entry for entry in parsed}
    for entry in parsed:
        memory = entry.memory
        parent = next((link for link in entry.links if link["relation"] == "part_of"), None)
        if parent is not None:
            document = by_id.get(parent["to"])
            if document is None:
                continue  # reported as a link to a memory not in the file
            expected: tuple[str, ...] = (
                hashlib.sha256(
                    f"{document.memory.content_hash}#{parent.get('position')}".encode()
                ).hexdigest(),
            )
        elif memory.tier == "sharp" and memory.kind in VERBATIM_KINDS:
            expected = verbatim_hashes(memory.text, kind=memory.kind, source=memory.source)
        elif memory.kind == "fact":  # its text is never cut to a gist, in any tier
            expected = (fact_hash(memory.text),)
        else:
            continue
        if memory.content_hash not in expected:
            raise UserError(
                f"line {entry.number}: the content hash does not match the memory's text; "
                "nothing was imported."
            )


def _decode_vector(entry: _Line, dim: int) -> bytes:
    try:
        data = base64.b64decode(entry.vector or "", validate=True)
    except ValueError:
        raise UserError(f"line {entry.number}: the vector is not valid base64.") from None
    if len(data) != size(entry.vector_encoding, dim):
        raise UserError(f"line {entry.number}: the vector does not have {dim} dimensions.")
    return data
