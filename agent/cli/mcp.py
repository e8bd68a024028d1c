"""`papertape mcp`: the memory served to other AI apps over the Model Context Protocol (stdio).

Desktop chat apps, coding agents and editors launch `papertape mcp` themselves and talk
JSON-RPC over its stdin and stdout, so stdout carries the protocol and nothing else: logs go
to stderr (the SDK also points fd 1 at stderr while it serves, so a stray print cannot
corrupt the wire).

Each call goes to the same service the CLI uses: through the daemon's socket while a daemon
serves this home (it is then the one writer), else in-process. A mistake or a failure comes
back as an error result holding the sentence the CLI would print; nothing a client sends can
stop the server.
"""

from __future__ import annotations

import difflib
import json
import logging
import threading
from collections.abc import Callable
from dataclasses import asdict
from datetime import date, timedelta
from importlib import metadata
from typing import Annotated, Any, Literal

from mcp.server.mcpserver import MCPServer
from mcp.server.mcpserver.exceptions import ResourceError, ResourceNotFoundError, ToolError
from mcp.types import CallToolResult, InputRequiredResult, TextContent, ToolAnnotations
from pydantic import Field, ValidationError

from agent.answer.session import Answer
from agent.api import MemoryService
from agent.cli.output import current_json, memory_json, note_json, recall_json, stats_json
from agent.clock import iso, parse_time, resolve_now
from agent.daemon.client import DaemonClient, RemotePapertape
from agent.errors import Failure, UserError
from agent.filters import Filters
from agent.ingest.redact import placed_kinds
from agent.service import Papertape
from agent.settings import Settings
from models.errors import ModelError
from storage import KINDS, Memory, StorageError

log = logging.getLogger("papertape.mcp")

# A filtered recall ranks this many memories, then keeps those that pass (as the UI does).
FILTER_POOL = 200
TIMELINE_LIMIT = 50
KNOWN_ERRORS = (UserError, Failure, StorageError, ModelError)


def answer_result(answer: Answer) -> dict[str, Any]:
    """The ask tool's result: the model's answer, its status, whether what it cites holds it
    (agent/answer/check.py), and the memories it cites."""
    cited = {m.id: m for m in answer.memories if m.id in answer.citations}
    return {
        "answer": answer.text,
        "status": answer.status,
        "supported": answer.supported,
        # the person asked about, when the lines the answer rests on are someone else's
        "not_of": answer.not_of,
        # whom the model read those lines as telling it of, when they name the person asked about
        "told_of": answer.told_of,
        # the other speaker the answer tells it of, when it does not name the one asked about
        "said_of": answer.said_of,
        # a known speaker the answer names whom neither the question nor what it cites names
        "not_named": answer.not_named,
        # what the answer cites is not about what the question asks
        "off_question": answer.off_question,
        "citations": list(answer.citations),
        "cited_memories": [memory_json(cited[i]) for i in answer.citations if i in cited],
        # "last week" repeated from a cited memory, with the period it named there
        "dates": [asdict(d) for d in answer.dates],
        # kinds of secret the answer gives as taken out at storing ("password"): not the value
        "redacted": placed_kinds(answer.text),
        "model": answer.model,
        "session": answer.session,  # pass it back as `session` to follow up
    }


def memory_detail(memory: Memory, app: MemoryService) -> dict[str, Any]:
    """A memory as its resource shows it: the recall fields, how alive it is, its links."""
    return {
        **memory_json(memory),
        "ingested_at": iso(memory.ingested_at),
        "importance": memory.importance,
        "strength_days": memory.strength,
        "recall_count": memory.recall_count,
        "last_recalled_at": iso(memory.last_recalled_at),
        "pinned": memory.pinned,
        "links": [
            {"from": link.from_id, "to": link.to_id, "relation": link.relation}
            for link in app.links(memory.id)
        ],
    }


def _day_bounds(from_date: str | None, to_date: str | None) -> tuple[float | None, float | None]:
    """Epoch bounds [low, high): a bare date as `to_date` takes in that whole day."""
    low = parse_time(from_date, what="from_date") if from_date else None
    high = None
    if to_date:
        try:
            next_day = date.fromisoformat(to_date.strip()) + timedelta(days=1)
            high = parse_time(next_day.isoformat(), what="to_date")
        except ValueError:
            high = parse_time(to_date, what="to_date")
    if low is not None and high is not None and low >= high:
        raise UserError(f"from_date {from_date} is not before to_date {to_date}.")
    return low, high


def _check_kind(kind: str) -> None:
    if kind not in KINDS:
        close = difflib.get_close_matches(kind, KINDS, n=1)
        hint = f" Did you mean {close[0]!r}?" if close else ""
        raise UserError(f"there is no kind {kind!r}; kinds are {', '.join(KINDS)}.{hint}")


def _ok(data: dict[str, Any]) -> CallToolResult:
    text = json.dumps(data, ensure_ascii=False)
    return CallToolResult(content=[TextContent(type="text", text=text)], structured_content=data)


def _error(sentence: str) -> CallToolResult:
    return CallToolResult(content=[TextContent(type="text", text=sentence)], is_error=True)


Ids = Annotated[list[int], Field(min_length=1, description="Memory ids, as recall shows them.")]


class MemoryTools:
    """The tools and resources, over one home. One call at a time: the store has one writer
    and the language model one user."""

    def __init__(self, settings: Settings, clock: Callable[[], float] | None = None) -> None:
        self.settings = settings
        self.clock = clock or (lambda: resolve_now(None))
        self._lock = threading.Lock()
        self._local: Papertape | None = None
        self._remote: RemotePapertape | None = None

    def service(self) -> MemoryService:
        """Through the daemon when one answers, else in-process. Asked on every call, not
        once: a client keeps this server up for hours while the daemon starts and stops."""
        client = DaemonClient.find(self.settings)
        if client is None:
            if self._remote is not None:  # the daemon stopped: its reader is not needed
                self._remote.close()
                self._remote = None
            if self._local is None:
                self._local = Papertape(self.settings)
            return self._local
        if self._local is not None:  # the daemon is the writer now: let go of the store
            self._local.close()
            self._local = None
        if self._remote is None:
            self._remote = RemotePapertape(self.settings, client)
        return self._remote

    def close(self) -> None:
        for app in (self._local, self._remote):
            if app is not None:
                app.close()
        self._local = self._remote = None

    def _run(self, work: Callable[[MemoryService], dict[str, Any]]) -> CallToolResult:
        """Run one tool call; every error becomes an error result with one sentence."""
        try:
            with self._lock:
                return _ok(work(self.service()))
        except KNOWN_ERRORS as exc:
            return _error(str(exc))
        except Exception as exc:  # a bug must not take down the server the client relies on
            log.exception("tool call failed")
            return _error(f"unexpected error ({type(exc).__name__}: {exc}); see the server's log.")

    # -- tools: each docstring is the description the client's model reads --------------------

    def recall(
        self,
        query: Annotated[str, Field(description="What to look for, in words.")],
        k: Annotated[int, Field(ge=1, le=100, description="How many memories.")] = 10,
        kind: Annotated[
            str | None, Field(description=f"Only this kind: one of {', '.join(KINDS)}.")
        ] = None,
        tier: Annotated[
            Literal["sharp", "hazy", "archive"] | None,
            Field(description="Only this tier: sharp (recent), hazy (faded) or archive."),
        ] = None,
        from_date: Annotated[
            str | None, Field(description="Only memories from this time on (ISO 8601).")
        ] = None,
        to_date: Annotated[
            str | None,
            Field(description="Only memories up to this time (ISO 8601; a date includes it)."),
        ] = None,
        peek: Annotated[
            bool, Field(description="Look without counting it as recalling (no strengthening).")
        ] = False,
    ) -> CallToolResult:
        """Search the person's memories (notes, documents, chats, voice memos, screenshots)
        by meaning and keywords, best first. Each result has its id, score, tier, kind,
        source, time (UTC) and text. Recalling strengthens what it returns, unless peek is
        set or a filter is given."""

        def work(app: MemoryService) -> dict[str, Any]:
            if kind is not None:
                _check_kind(kind)
            filters = Filters(kind, tier, *_day_bounds(from_date, to_date))
            now = self.clock()
            if not filters.given:
                return recall_json(query, app.recall(query, now=now, k=k, strengthen=not peek))
            # The ranking has no filters, so rank a larger pool and keep what passes; looking
            # through that pool must not strengthen the memories left out.
            pool = app.recall(query, now=now, k=max(FILTER_POOL, k), strengthen=False)
            return recall_json(query, [h for h in pool if filters.passes(app, h.memory)][:k])

        return self._run(work)

    def ask(
        self,
        question: Annotated[str, Field(description="The question, in words.")],
        peek: Annotated[
            bool, Field(description="Store nothing: neither the exchange nor strengthening.")
        ] = False,
        session: Annotated[
            str | None,
            Field(
                description="A conversation's name: its earlier questions and answers are "
                "the history, so a follow-up can say 'and when?'. Default: a new one."
            ),
        ] = None,
    ) -> CallToolResult:
        """Answer a question from the person's memories with the local language model.
        Returns the model's answer, its status as the model gave it ("answered": the
        memories state it; "guess": they only suggest it; "not_in_memories"), whether the
        cited memories hold what it says ("supported"), the cited ids and those memories.
        The exchange is stored as a chat memory (history, not evidence) unless peek is set."""

        def work(app: MemoryService) -> dict[str, Any]:
            chat = app.chat(session=session or None, remember=not peek)
            answer = chat.ask(question, now=self.clock())
            return answer_result(answer)

        return self._run(work)

    def remember(
        self,
        text: Annotated[str, Field(description="What to remember, in the person's words.")],
        time: Annotated[
            str | None, Field(description="When it happened (ISO 8601); default now.")
        ] = None,
        source: Annotated[str, Field(description="Where it came from.")] = "mcp",
        speaker: Annotated[
            str | None,
            Field(description="Who said it, when it is a line of a chat; default none."),
        ] = None,
    ) -> CallToolResult:
        """Store a text memory, exactly as `papertape note` does: secrets (API keys,
        tokens, passwords, card numbers) are redacted before anything is stored, and the
        same text twice gives the existing id back. Returns the id, the status ("stored" or
        "duplicate"), how many secrets were redacted and their kinds ("password")."""

        def work(app: MemoryService) -> dict[str, Any]:
            at = parse_time(time, what="time") if time else None
            result = app.note(
                text, now=self.clock(), occurred_at=at, source=source, speaker=speaker
            )
            if result.status == "rejected":
                raise UserError(f"not stored: {result.label} {result.reason}.")
            stored = app.memory(result.memory_id).text if result.memory_id else ""
            return note_json(result, placed_kinds(stored))

        return self._run(work)

    def forget(
        self,
        ids: Ids,
        confirm: Annotated[
            bool, Field(description="Must be true: forgetting deletes for good.")
        ] = False,
    ) -> CallToolResult:
        """Delete memories for good: text, vectors, index entries, and a document's
        passages. It cannot be undone, so confirm must be true; ask the person first.
        Returns every id deleted."""

        def work(app: MemoryService) -> dict[str, Any]:
            if not confirm:
                raise UserError(
                    "forgetting deletes for good: nothing was deleted; "
                    "call forget again with confirm set to true."
                )
            return {"forgotten": app.forget(ids)}

        return self._run(work)

    def pin(self, ids: Ids) -> CallToolResult:
        """Pin memories: they never fade, move down a tier or get forgotten to make room."""
        return self._run(lambda app: {"pinned": app.set_pinned(ids, True)})

    def unpin(self, ids: Ids) -> CallToolResult:
        """Unpin memories: they fade again like the others."""
        return self._run(lambda app: {"unpinned": app.set_pinned(ids, False)})

    def current(self, ids: Ids) -> CallToolResult:
        """Make facts current again where recall says "replaced_by" but the newer fact is
        not an update of them (the local model links some wrongly); both facts are kept, only
        the link goes. Returns, for each id, the facts that no longer replace it."""
        return self._run(lambda app: current_json(app.restore_current(ids)))

    def stats(self) -> CallToolResult:
        """How many memories there are and their bytes, per tier (sharp, hazy, archive)
        and per kind."""
        return self._run(lambda app: stats_json(app.stats()))

    # -- resources ---------------------------------------------------------------------------

    def memory(self, id: str) -> str:
        """One memory in full: text, kind, source, times, tier, importance, strength,
        pinned, and its links to other memories."""
        try:
            memory_id = int(id)
        except ValueError:
            raise ResourceNotFoundError(f"{id!r} is not a memory id; ids are numbers.") from None
        try:
            with self._lock:
                app = self.service()
                return json.dumps(memory_detail(app.memory(memory_id), app), ensure_ascii=False)
        except UserError as exc:
            raise ResourceNotFoundError(str(exc)) from None
        except KNOWN_ERRORS as exc:
            raise ResourceError(str(exc)) from None

    def timeline(self) -> str:
        """The 50 most recent memories, newest first: id, tier, kind, source, time, text."""
        try:
            with self._lock:
                newest = self.service().timeline(limit=TIMELINE_LIMIT)
        except KNOWN_ERRORS as exc:
            raise ResourceError(str(exc)) from None
        return json.dumps({"memories": [memory_json(m) for m in newest]}, ensure_ascii=False)


READ_ONLY = ToolAnnotations(read_only_hint=True, open_world_hint=False)
WRITES = ToolAnnotations(read_only_hint=False, destructive_hint=False, open_world_hint=False)
DELETES = ToolAnnotations(read_only_hint=False, destructive_hint=True, open_world_hint=False)


class _Server(MCPServer):
    """The SDK's server, whose schema refusals are one sentence as every other error is
    (the SDK gives pydantic's report: lines, and a link to a web page)."""

    async def call_tool(
        self, name: str, arguments: dict[str, Any], context: Any = None
    ) -> CallToolResult | InputRequiredResult:
        try:
            return await super().call_tool(name, arguments, context)
        except ToolError as exc:
            if not isinstance(exc.__cause__, ValidationError):
                raise
            return _error(_refused(name, exc.__cause__))


def _refused(tool: str, error: ValidationError) -> str:
    first = error.errors()[0]
    where = ".".join(str(part) for part in first["loc"]) or "the arguments"
    message = first["msg"][:1].lower() + first["msg"][1:]
    more = error.error_count() - 1
    also = f" (and {more} more)" if more else ""
    return f"{where} is not what {tool} takes: {message}{also}."


def build_server(tools: MemoryTools) -> MCPServer:
    server: MCPServer = _Server(
        "papertape",
        version=metadata.version("papertape"),
        instructions=(
            "papertape is the person's own offline memory: what they wrote, read, heard and "
            "saw, kept on their machine. Use recall to look things up, ask for an answer "
            "with sources, remember to store what they want kept. Forget deletes for good: "
            "ask them first."
        ),
        log_level="WARNING",
    )
    # recall and ask write too (strengthening, the stored exchange), but never destroy.
    server.add_tool(tools.recall, annotations=WRITES)
    server.add_tool(tools.ask, annotations=WRITES)
    server.add_tool(tools.remember, annotations=WRITES)
    server.add_tool(tools.forget, annotations=DELETES)
    server.add_tool(tools.pin, annotations=WRITES)
    server.add_tool(tools.unpin, annotations=WRITES)
    server.add_tool(tools.current, annotations=WRITES)
    server.add_tool(tools.stats, annotations=READ_ONLY)
    server.resource("papertape://memory/{id}", name="memory", mime_type="application/json")(
        tools.memory
    )
    server.resource("papertape://timeline", name="timeline", mime_type="application/json")(
        tools.timeline
    )
    return server


def serve(settings: Settings) -> None:
    """Serve over stdin and stdout until the client closes them."""
    tools = MemoryTools(settings)
    log.info("serving %s over MCP (stdio)", settings.home)
    try:
        build_server(tools).run("stdio")
    finally:
        tools.close()
