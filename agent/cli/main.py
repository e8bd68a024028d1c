"""The papertape command line. Thin: parse, call agent.service, print, map errors to exits."""

from __future__ import annotations

import logging
import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click

from agent.answer.recall import MODES
from agent.cli import output
from agent.cli.capture import capture
from agent.cli.consolidate import consolidate
from agent.cli.crypt import decrypt, encrypt, init, passphrase
from agent.cli.daemon import daemon
from agent.cli.models import ask, doctor, models
from agent.cli.support import (
    NEW_STORE,
    echo_json,
    home_option,
    json_option,
    now_option,
    open_app,
    progress_printer,
    settings_for,
    take_away,
)
from agent.cli.terminal import printable
from agent.cli.transfer import export_command, import_command
from agent.clock import parse_time, resolve_now
from agent.errors import Failure, UserError
from agent.home import UMASK
from agent.ingest.redact import placed_kinds
from agent.limits import read_note
from agent.service import Papertape
from models.errors import ModelError
from storage import DAMAGE_ERRORS, StorageError
from storage.cipher import KeyNeededError, WrongKeyError
from storage.health import damaged

log = logging.getLogger("papertape")


@click.group(invoke_without_command=True, context_settings={"help_option_names": ["-h", "--help"]})
@home_option
@click.option("-v", "--verbose", count=True, help="Log more (-v info, -vv debug) to stderr.")
@click.version_option(package_name="papertape")
@click.pass_context
def cli(ctx: click.Context, home: Path | None, verbose: int) -> None:
    """papertape: an offline memory that keeps what matters and forgets well.

    Notes, documents, chats, voice memos and screenshots are read, transcribed and embedded on
    this machine and stored in one SQLite file in the home folder. Nothing leaves the machine.
    With no command, papertape opens its terminal UI.
    """
    level = logging.WARNING - 10 * min(verbose, 2)
    logging.basicConfig(level=level, format="%(levelname)s %(name)s: %(message)s")
    if ctx.invoked_subcommand is not None:
        return
    app = open_app(ctx, home)
    launcher = (ctx.obj or {}).get("open_ui")
    if launcher is not None and sys.stdin.isatty() and sys.stdout.isatty():
        if type(app) is Papertape:
            app.store  # noqa: B018 (an encrypted store's passphrase is asked before the UI starts)
        launcher(app)  # the terminal UI (tui/), given by the entry point
        return
    click.echo(f"papertape home: {printable(app.settings.home)}")
    click.echo(output.stats_text(app.stats()))
    click.echo("\nRun papertape in a terminal for the chat UI, or use the commands below.\n")
    click.echo(ctx.get_help())


@cli.command()
@click.argument("text")
@click.option("--at", "at_text", metavar="TIME", help="When it happened (ISO 8601); default now.")
@click.option("--source", default="note", show_default=True, help="Where it came from.")
@click.option(
    "--speaker",
    metavar="NAME",
    help='Who said it (a line of a chat): stored as "NAME: TEXT", and theirs.',
)
@home_option
@now_option
@json_option
@click.pass_context
def note(
    ctx: click.Context,
    text: str,
    at_text: str | None,
    source: str,
    speaker: str | None,
    home: Path | None,
    now_text: str | None,
    as_json: bool,
) -> None:
    """Store TEXT as a memory and print its id (TEXT - reads stdin, up to max_request_mb)."""
    if not source.strip():
        raise UserError("--source is empty: say where the note came from, or leave it out.")
    if text == "-":
        text = read_note(sys.stdin, settings_for(ctx, home))
    elif not text.strip():
        raise UserError("the note is empty: give some text, or - to read it from stdin.")
    now = resolve_now(now_text)
    at = parse_time(at_text, what="--at") if at_text else None
    app = open_app(ctx, home)
    bar = progress_printer()  # a long note is minutes of embedding on 2 cores
    result = app.note(text, now=now, occurred_at=at, source=source, speaker=speaker, progress=bar)
    # The stored text names each secret's kind where it stood: "[redacted password]".
    kinds = placed_kinds(app.memory(result.memory_id).text) if result.memory_id else []
    if as_json:
        echo_json(output.note_json(result, kinds))
    else:
        click.echo(result.memory_id)
        if result.status == "duplicate":
            click.echo(f"already stored as #{result.memory_id}", err=True)
        if result.redacted:
            said = output.redacted_text(result.redacted, kinds)
            click.echo(f"{said} before storing.", err=True)


@cli.command()
@click.argument("paths", nargs=-1, required=True)
@click.option(
    "--at", "at_text", metavar="TIME", help="When it happened (default: each file's time)."
)
@home_option
@now_option
@json_option
@click.pass_context
def ingest(
    ctx: click.Context,
    paths: tuple[str, ...],
    at_text: str | None,
    home: Path | None,
    now_text: str | None,
    as_json: bool,
) -> None:
    """Store files and folders: UTF-8 text, audio (WAV, MP3, M4A, Ogg, FLAC) and screenshots
    (PNG, JPEG, WebP), each recognised by its content; - reads stdin.

    Long documents are split into passages linked to the document. Content already stored is
    reported with its existing id. Exits 2 if any file was rejected; the others are stored.
    """
    now = resolve_now(now_text)
    at = parse_time(at_text, what="--at") if at_text else None
    app = open_app(ctx, home)
    results = []
    files = [Path(p) for p in paths if p != "-"]
    if "-" in paths:
        text = read_note(sys.stdin, app.settings)
        results.append(app.note(text, now=now, occurred_at=at, source="stdin"))
    if files:
        results += app.ingest(files, now=now, occurred_at=at, progress=progress_printer())
    rejected = [r for r in results if r.status == "rejected"]
    if as_json:
        echo_json(
            {
                "results": [
                    {
                        "path": r.label,
                        "status": r.status,
                        "id": r.memory_id,
                        "passages": r.passages,
                        "reason": r.reason or None,
                        "redacted": r.redacted,
                    }
                    for r in results
                ]
            }
        )
    else:
        for r in results:
            label = printable(r.label)  # a file name may hold a newline or an escape
            if r.status == "stored":
                extra = f" ({r.passages} passages)" if r.passages > 1 else ""
                if r.redacted:
                    extra += f" ({output.redacted_text(r.redacted)})"
                click.echo(f"#{r.memory_id}  stored  {label}{extra}")
            elif r.status == "duplicate":
                click.echo(f"#{r.memory_id}  already stored  {label}")
            elif r.status == "excluded":
                click.echo(f"excluded  {label} ({printable(r.reason)})")
        for r in rejected:
            click.echo(f"papertape: {printable(r.label)} {printable(r.reason)}.", err=True)
    if rejected:
        ctx.exit(2)


@cli.command()
@click.argument("query")
@click.option("-k", "k", type=int, default=None, help="How many memories (default 10).")
@click.option(
    "--mode",
    type=click.Choice(MODES),
    default="fused",
    show_default=True,
    help="Rank by fused score, vectors alone or BM25 keywords alone.",
)
@click.option("--peek", is_flag=True, help="Do not count this as recalling (no strengthening).")
@click.option("--deep", is_flag=True, help="Read episode summaries' pages back by OCR.")
@click.option(
    "--include-chat",
    is_flag=True,
    help="Include past exchanges with papertape (ranked below what you stored).",
)
@home_option
@now_option
@json_option
@click.pass_context
def recall(
    ctx: click.Context,
    query: str,
    k: int | None,
    mode: str,
    peek: bool,
    deep: bool,
    include_chat: bool,
    home: Path | None,
    now_text: str | None,
    as_json: bool,
) -> None:
    """Memories that best match QUERY, best first. Recalling strengthens them.

    Past exchanges with papertape (ask's questions and answers) are left out unless
    --include-chat is given or the chat_as_evidence setting is on."""
    hits = open_app(ctx, home).recall(
        query,
        now=resolve_now(now_text),
        k=k,
        mode=mode,  # type: ignore[arg-type]
        strengthen=not peek,
        deep=deep,
        include_chat=include_chat or None,
    )
    if as_json:
        echo_json(output.recall_json(query, hits))
    else:
        click.echo(output.recall_text(hits, query, mode=mode))


@cli.command()
@click.argument("ids", nargs=-1, type=int, required=True)
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
@home_option
@json_option
@click.pass_context
def forget(
    ctx: click.Context, ids: tuple[int, ...], yes: bool, home: Path | None, as_json: bool
) -> None:
    """Delete memories for good: text, vectors, index entries, a document's passages, the
    facts that rest on them alone, and the facts and chat turns that cite them or hold a
    word only they held; episode summaries are written again without them. Asks first;
    --yes (needed when stdin is not a terminal) does not."""
    app = open_app(ctx, home)
    for memory_id in ids:
        app.memory(memory_id)  # an unknown id is refused before anything is asked
    if not yes:
        if not sys.stdin.isatty():
            raise UserError(
                "forget deletes for good and cannot ask here (stdin is not a terminal): "
                "add --yes to confirm."
            )
        click.confirm(
            f"Forget {len(ids)} memor{'y' if len(ids) == 1 else 'ies'} for good?", abort=True
        )
    gone = app.forget(ids)
    if as_json:
        echo_json({"forgotten": gone})
    else:
        click.echo(
            f"forgot {len(gone)} memor{'y' if len(gone) == 1 else 'ies'}: "
            + " ".join(f"#{i}" for i in gone)
        )


def _pin_command(pinned: bool) -> Callable[..., None]:
    @click.argument("ids", nargs=-1, type=int, required=True)
    @home_option
    @json_option
    @click.pass_context
    def command(ctx: click.Context, ids: tuple[int, ...], home: Path | None, as_json: bool) -> None:
        done = open_app(ctx, home).set_pinned(ids, pinned)
        if as_json:
            echo_json({"pinned" if pinned else "unpinned": done})
            return
        click.echo(("pinned " if pinned else "unpinned ") + " ".join(f"#{i}" for i in done))

    return command


cli.command("pin", help="Pin memories: they never fade or move down a tier.")(_pin_command(True))
cli.command("unpin", help="Unpin memories: they fade again like the others.")(_pin_command(False))


@cli.command()
@click.argument("ids", nargs=-1, type=int, required=True)
@home_option
@json_option
@click.pass_context
def current(ctx: click.Context, ids: tuple[int, ...], home: Path | None, as_json: bool) -> None:
    """Show facts as current again where papertape took a newer fact for their update by
    mistake (`recall` marks them "history: updated by #N"; `ask` then shows only the newer).
    Both facts stay; only the link between them goes."""
    app = open_app(ctx, home)
    restored = app.restore_current(ids)
    if as_json:
        echo_json(output.current_json(restored))
        return
    for memory_id, newer in restored.items():
        if newer:
            by = " ".join(f"#{i}" for i in newer)
            click.echo(f"#{memory_id} is current again (no longer updated by {by})")
            continue
        older = [link.to_id for link in app.links(memory_id) if link.relation == "supersedes"]
        hint = f" (it updates {' '.join(f'#{i}' for i in older)}: give that id)" if older else ""
        click.echo(f"#{memory_id} was not marked as updated; nothing changed{hint}")


@cli.command()
@home_option
@json_option
@click.pass_context
def stats(ctx: click.Context, home: Path | None, as_json: bool) -> None:
    """Counts and bytes per tier and per kind."""
    result = open_app(ctx, home).stats()
    if as_json:
        echo_json(output.stats_json(result))
    else:
        click.echo(output.stats_text(result))


@cli.command("mcp")
@home_option
@click.pass_context
def mcp_command(ctx: click.Context, home: Path | None) -> None:
    """Serve your memories to other AI apps over the Model Context Protocol (stdio).

    An MCP client (a desktop chat app, a coding agent, an editor) starts this command itself
    and talks to it over stdin and stdout; run by hand, it waits for such a client. Tools:
    recall (query, k, kind, tier, from/to dates), ask (answer, status, cited memories),
    remember (text, time, source; secrets redacted as for note), forget (ids, confirm=true),
    pin, unpin, stats. Resources: papertape://memory/{id} and papertape://timeline (the
    newest memories). While the daemon runs, every call goes through it. Logs go to stderr.

    A client's configuration (Claude Desktop's mcpServers, for one):

    \b
      "papertape": {
        "command": "/ABSOLUTE/PATH/TO/papertape/.venv/bin/papertape",
        "args": ["mcp"],
        "env": {"PAPERTAPE_HOME": "/ABSOLUTE/PATH/TO/YOUR/HOME"}
      }
    """
    settings = settings_for(ctx, home)
    try:
        from agent.cli.mcp import serve
    except ModuleNotFoundError as exc:
        if exc.name is None or exc.name.split(".")[0] not in {"mcp", "mcp_types", "pydantic"}:
            raise
        raise Failure(
            "papertape mcp needs the MCP SDK: run scripts/setup, or pip install 'papertape[mcp]'."
        ) from None
    serve(settings)


for command in (
    ask,
    capture,
    consolidate,
    daemon,
    models,
    doctor,
    init,
    encrypt,
    decrypt,
    passphrase,
    export_command,
    import_command,
):
    cli.add_command(command)


def main(argv: list[str] | None = None, open_ui: Callable[..., None] | None = None) -> None:
    """Entry point: every failure becomes one sentence on stderr and an exit code.
    `open_ui`, given by tui/main.py, opens the terminal UI when no command is named."""
    # Whatever papertape creates (store, logs, inbox, models, exports) is its owner's alone.
    umask = os.umask(UMASK)
    try:
        code = _run(argv, open_ui)
    finally:
        os.umask(umask)  # for callers that run main in-process (tests)
    sys.exit(code if isinstance(code, int) else 0)


def _run(argv: list[str] | None, open_ui: Callable[..., None] | None) -> int | object:
    code: int | object
    shared: dict[str, Any] = {"open_ui": open_ui}
    try:
        code = cli.main(args=argv, prog_name="papertape", standalone_mode=False, obj=shared)
    except DAMAGE_ERRORS as exc:  # SQLite found damage where no check had looked yet
        click.echo(f"papertape: {printable(damaged(None, str(exc)))}", err=True)
        code = 1
    except click.exceptions.Abort:
        click.echo("papertape: stopped.", err=True)
        code = 130
    except click.exceptions.Exit as exc:
        code = exc.exit_code
    except click.UsageError as exc:  # one sentence, as every other mistake gets
        where = exc.ctx.command_path if exc.ctx is not None else "papertape"
        click.echo(
            f"papertape: {printable(exc.format_message()).rstrip('.')} ({where} --help shows how).",
            err=True,
        )
        code = exc.exit_code
    except click.ClickException as exc:
        exc.show()
        code = exc.exit_code
    except (UserError, WrongKeyError, KeyNeededError) as exc:
        click.echo(f"papertape: {printable(exc)}", err=True)
        code = 2
    except (Failure, StorageError, ModelError) as exc:
        click.echo(f"papertape: {printable(exc)}", err=True)
        code = 1
    except KeyboardInterrupt:
        click.echo("papertape: interrupted; the store is unchanged by what was cut off.", err=True)
        code = 130
    except Exception as exc:  # the last line of defence: a sentence, the traceback in the log
        log.debug("unexpected error", exc_info=True)
        click.echo(
            f"papertape: unexpected error ({type(exc).__name__}: {printable(exc)}); "
            "run again with -vv to see where.",
            err=True,
        )
        code = 1
    made = shared.get(NEW_STORE)
    if made is not None and code in (0, None):
        click.echo(f"papertape: made a new store in {printable(made.home)}.", err=True)
    elif made is not None:  # a failing command has its one sentence, and leaves no store
        take_away(made)
    return code


if __name__ == "__main__":
    main()
