"""Read LoCoMo-schema files (snap-research/locomo) into turns and questions for benchmarks,
and the --category and --conversations options the LoCoMo scripts share."""

from __future__ import annotations

import argparse
import json
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from scripts.bench import common

CATEGORIES = {1: "multi-hop", 2: "temporal", 3: "open-domain", 4: "single-hop", 5: "adversarial"}


def add_category_option(parser: argparse.ArgumentParser, does: str) -> None:
    """--category ID (repeatable): `does` says what the script does with it."""
    parser.add_argument(
        "--category",
        action="append",
        default=[],
        type=int,
        metavar="ID",
        help=f"{does} this category, 1-5 (repeatable)",
    )


def chosen_categories(ids: list[int], prog: str) -> list[int]:
    """The --category ids, sorted and once each; one sentence and exit 2 for an unknown id."""
    if any(c not in CATEGORIES for c in ids):
        common.refuse(prog, f"--category takes {', '.join(map(str, CATEGORIES))}.")
    return sorted(set(ids))


def add_conversations_option(parser: argparse.ArgumentParser, does: str) -> None:
    """--conversations ID [ID ...]: `does` says what the script does with them."""
    parser.add_argument(
        "--conversations", nargs="+", default=None, metavar="ID", help=f"{does} these sample ids"
    )


def chosen_conversations(
    conversations: list[Conversation], ids: list[str] | None, prog: str, source: Path
) -> list[Conversation]:
    """The conversations named by --conversations, in the file's order (all of them without
    it); one sentence and exit 2 for an id the file does not hold."""
    if not ids:
        return conversations
    missing = [i for i in dict.fromkeys(ids) if i not in {c.sample_id for c in conversations}]
    if missing:
        common.refuse(prog, f"no conversation {missing[0]!r} in {source}.")
    return [c for c in conversations if c.sample_id in set(ids)]


@dataclass(frozen=True)
class Turn:
    dia_id: str
    session: int
    text: str  # "speaker: text", with the shared image's caption when there is one
    occurred_at: float
    speaker: str = ""  # who said it; "" for a turn stored as plain text
    said: str = ""  # `text` without the speaker's name


def turn_note(turn: Turn, source: str) -> Any:
    """The turn as a note: a line its speaker said (stored as `text`, and theirs)."""
    from agent.ingest.notes import NoteInput

    if not turn.speaker:
        return NoteInput(turn.text, turn.occurred_at, source)
    return NoteInput(turn.said, turn.occurred_at, source, speaker=turn.speaker)


@dataclass(frozen=True)
class Question:
    question: str
    answer: str
    category: int
    evidence: tuple[str, ...]


@dataclass(frozen=True)
class Conversation:
    sample_id: str
    turns: tuple[Turn, ...]
    questions: tuple[Question, ...]


def parse_session_date(text: str) -> float:
    """LoCoMo writes '1:56 pm on 8 May, 2023'; read it as UTC."""
    moment = datetime.strptime(text.strip(), "%I:%M %p on %d %B, %Y")
    return moment.replace(tzinfo=UTC).timestamp()


def _evidence(raw: object) -> tuple[str, ...]:
    # A few entries pack several ids in one string ("D8:6; D9:17"); split them.
    ids: list[str] = []
    for item in raw if isinstance(raw, list) else []:
        ids += re.findall(r"D\d+:\d+", str(item))
    return tuple(ids)


def load(path: Path) -> list[Conversation]:
    data = json.loads(path.read_text(encoding="utf-8"))
    conversations = []
    for sample in data:
        conv = sample["conversation"]
        turns = []
        sessions = sorted(
            int(k.split("_")[1]) for k in conv if re.fullmatch(r"session_\d+", k) and conv[k]
        )
        for number in sessions:
            start = parse_session_date(conv[f"session_{number}_date_time"])
            for offset, turn in enumerate(conv[f"session_{number}"]):
                said = str(turn["text"])
                if turn.get("blip_caption"):
                    said += f" [shares an image: {turn['blip_caption']}]"
                speaker = str(turn["speaker"])
                # Turns a minute apart keep their order inside a session.
                turns.append(
                    Turn(
                        turn["dia_id"],
                        number,
                        f"{speaker}: {said}",
                        start + 60.0 * offset,
                        speaker,
                        said,
                    )
                )
        questions = [
            Question(
                q["question"],
                str(q.get("answer", q.get("adversarial_answer", ""))),
                int(q["category"]),
                _evidence(q.get("evidence")),
            )
            for q in sample["qa"]
        ]
        conversations.append(
            Conversation(sample.get("sample_id", "?"), tuple(turns), tuple(questions))
        )
    return conversations


def sessions_of(conv: Conversation) -> list[int]:
    return sorted({t.session for t in conv.turns})


def store_session(app: Any, conv: Conversation, session: int, ids: dict[str, int]) -> None:
    """Store one session's turns as they were said, ingested when the session ended, so
    ingested_at (and with it retention) follows the conversation's own calendar. `ids` gains
    each turn's dia_id -> memory id."""
    turns = [t for t in conv.turns if t.session == session]
    source = f"locomo:{conv.sample_id}:s{session}"
    results = app.note_many([turn_note(t, source) for t in turns], now=turns[-1].occurred_at)
    for turn, result in zip(turns, results, strict=True):
        if result.memory_id is not None:
            ids[turn.dia_id] = result.memory_id


def store_conversation(app: Any, conv: Conversation) -> dict[str, int]:
    """Every session, in order; returns dia_id -> memory id."""
    ids: dict[str, int] = {}
    for session in sessions_of(conv):
        store_session(app, conv, session, ids)
    return ids
