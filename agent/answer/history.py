"""A conversation's stored turns: how an exchange with papertape is kept as a chat memory,
and how a named conversation is read back as history, so a later `ask` can follow up on it
("and when was that?") as the TUI's open session does.

Each exchange is one `chat` memory of the source "chat:NAME", its text the question, the
answer and the model's status, linked derived_from the memories the answer cited. A turn
whose text no longer has that shape (edited, or cut to a gist by ageing) is left out of the
history.
"""

from __future__ import annotations

from dataclasses import dataclass

from agent.answer.prompt import Turn
from agent.turns import split_turn
from storage import MemoryStore

CHAT_KIND = "chat"
_PREFIX = "chat:"


def chat_source(name: str) -> str:
    return f"{_PREFIX}{name}"


def read_turn(text: str) -> Turn | None:
    """The question and answer of a stored turn; None when the text is not one."""
    parts = split_turn(text)
    return Turn(*parts) if parts else None


@dataclass(frozen=True)
class Conversation:
    turns: tuple[Turn, ...]  # oldest first
    last_cited: tuple[int, ...]  # what the last answer cited, kept in view for a follow-up


def stored_conversation(store: MemoryStore, name: str) -> Conversation:
    """The turns of the conversation `name` kept in the store (none for a new name)."""
    memories = store.of_source(chat_source(name), CHAT_KIND)
    turns = tuple(t for t in (read_turn(m.text) for m in memories) if t is not None)
    if not memories:
        return Conversation(turns, ())
    links = store.links_from(memories[-1].id)
    cited = tuple(link.to_id for link in links if link.relation == "derived_from")
    return Conversation(turns, cited)


def last_conversation(store: MemoryStore) -> str | None:
    """The name of the conversation of the newest stored exchange, if any."""
    source = store.latest_source(CHAT_KIND)
    if source is None or not source.startswith(_PREFIX):
        return None
    return source[len(_PREFIX) :]
