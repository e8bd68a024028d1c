#!/usr/bin/env python3
"""Answer quality on LoCoMo: papertape's ask against three baselines, one model, one scorer.

Each conversation is its own store, every turn a memory ("speaker: text", with the image
caption), stored session by session on the session's dates; questions are asked a day after
the last session. Methods, all answering with the same model and the same answer prompt
(agent/answer/prompt.py), none storing anything:

- papertape: `ask` as the CLI runs it (fused recall, structured answer, the support check);
- full-context: as many turns as fit the model's context, most recent first (the context is
  what the model was trained on, up to --context, not papertape's everyday 4096);
- bm25: the 10 best turns by BM25 alone;
- vector: the 10 nearest turns by MiniLM vectors alone.

Every method answers through the same structured generation (agent/answer/session.py's answer_from),
so they differ only in what the model is shown. Scored with LoCoMo's answer score
(scripts/bench/locomo_score.py), a secondary measure: token F1 rewards an answer's form, not whether
it is right (scripts/bench/answers.py judges answers by reading them). A reply whose status is
"not_in_memories" counts as abstaining ("no information available"), for every method alike.
Reported per category id, overall for 1-4, with evidence recall@10 (for full-context: evidence
that made it into the prompt), prompt tokens and latency.

    python -m scripts.bench.locomo --data ../shared/data/locomo/locomo7.json [--model NAME]
        [--limit N [--offset F]] [--unread ROWS ...] [--category ID ...] [--set NAME=VALUE ...]
        [--conversations N] [--retrieval-only] [--json] [--out FILE]

A full run takes hours on a laptop CPU. With --out, each conversation's rows are appended to
FILE (JSON lines) as it finishes, and a later run with the same --out, model, limit,
offset, --category and --set skips the conversations already there and reports on all of
them: a long run can be stopped and resumed (with the same --unread files, which are not
recorded in the rows).
--unread ROWS leaves out every question an earlier run's rows hold before sampling, so a run
can confirm a change on questions none of the choices were made on. --category asks only one
category's questions (a larger sample of the one a change is for); --set tries a setting
(agent/settings.py) without changing the code.
"""

from __future__ import annotations

import argparse
import json
import shlex
import sys
import tempfile
import time
from collections import defaultdict
from dataclasses import replace
from pathlib import Path
from typing import Any

from agent.answer.prompt import fit_prompt
from agent.answer.recall import recall
from agent.answer.session import Answer, ChatSession, answer_from
from agent.errors import Failure, UserError
from agent.service import Papertape
from agent.settings import load_settings
from models.generator import Generator
from scripts.bench import common
from scripts.bench.locomo_data import (
    Conversation,
    add_category_option,
    chosen_categories,
    load,
    store_conversation,
)
from scripts.bench.locomo_rows import METHODS, earlier_rows, read_questions, summarise, table
from scripts.bench.locomo_score import score
from storage import store_files

PROG = common.command_name(__file__)

RECALL_MODES = {"papertape": "fused", "bm25": "keyword", "vector": "vector"}
ABSTAIN = "No information available."
DAY = 86400.0


def sample(
    conv: Conversation,
    limit: int | None,
    offset: float = 0.0,
    read: frozenset[str] = frozenset(),
    categories: frozenset[int] = frozenset(),
) -> list[Any]:
    """At most `limit` questions, spread evenly over the conversation: one from each of
    `limit` equal stretches, `offset` of the way into it (0 takes each stretch's first).
    Questions in `read` (earlier samples' questions), and with `categories` those of other
    categories, are left out first."""
    questions = [
        q
        for q in conv.questions
        if (q.evidence or q.category == 5)
        and q.question not in read
        and (not categories or q.category in categories)
    ]
    if limit is None or len(questions) <= limit:
        return questions
    step = len(questions) / limit
    return [questions[int((i + offset) * step)] for i in range(limit)]


def answer_with(app: Papertape, memories: list[Any], question: str, budget: int | None) -> Answer:
    """The structured answer from exactly these memories, within `budget` prompt tokens
    (None: the whole context)."""
    whole = 1_048_576  # the largest prompt_tokens allowed: the model's context decides
    settings = replace(app.settings, prompt_tokens=whole if budget is None else budget)
    return answer_from(app.generator(), app.embedder, settings, question, memories, [])


def papertape_answer(app: Papertape, model: Generator, question: str, now: float) -> Answer:
    """`ask` as the CLI runs it, with `model` as the language model, storing nothing."""
    session = ChatSession(app.store, app.embedder, model, app.settings, remember=False)
    return session.ask(question, now=now)


def scored_text(answer: Answer) -> str:
    """What is scored: the answer, or abstaining where the model said it is not in memory."""
    return ABSTAIN if answer.status == "not_in_memories" else answer.text


def full_context(app: Papertape, conv_memories: list[Any], questions: list[Any]) -> list[Any]:
    """The newest turns that fit beside the longest question, the same for every question.

    One fixed context per conversation means the runtime's cached prefix covers all of it
    after the first question, so full-context costs one long prompt per conversation and the
    answers are compared on identical context.
    """
    longest = max((q.question for q in questions), key=len, default="")
    fitted = fit_prompt(
        app.generator(), longest, conv_memories, [], answer_tokens=app.settings.answer_tokens
    )
    return list(fitted.memories)


def run_conversation(
    app: Papertape,
    conv: Conversation,
    limit: int | None,
    retrieval_only: bool,
    methods: tuple[str, ...] = METHODS,
    offset: float = 0.0,
    read: frozenset[str] = frozenset(),
    categories: frozenset[int] = frozenset(),
) -> list[dict[str, Any]]:
    ids = store_conversation(app, conv)
    now = conv.turns[-1].occurred_at + DAY
    questions = sample(conv, limit, offset, read, categories)
    everything = sorted(app.store.iter_memories(), key=lambda m: -m.occurred_at)
    wants_full = questions and "full-context" in methods
    newest = full_context(app, everything, questions) if wants_full else []
    rows = []
    # Method by method, so consecutive prompts share the longest cached prefix.
    for method in methods:
        for q in questions:
            wanted = {ids[d] for d in q.evidence if d in ids}
            started = time.perf_counter()
            if method == "full-context":
                shown = newest
            else:
                shown = [
                    h.memory
                    for h in recall(
                        app.store,
                        app.embedder,
                        q.question,
                        settings=app.settings,
                        now=now,
                        mode=RECALL_MODES[method],  # type: ignore[arg-type]
                        strengthen=False,
                    )
                ]
            text, tokens, extra = "", 0, {}
            answer: Answer | None = None
            if retrieval_only:
                if method == "full-context":
                    tokens = fit_prompt(
                        app.generator(),
                        q.question,
                        shown,
                        [],
                        answer_tokens=app.settings.answer_tokens,
                    ).tokens
            elif method == "papertape":
                answer = papertape_answer(app, app.generator(), q.question, now)
                shown = list(answer.memories) or shown
            else:
                budget = None if method == "full-context" else app.settings.prompt_tokens
                answer = answer_with(app, shown, q.question, budget)
            if answer is not None:
                text, tokens = scored_text(answer), answer.prompt_tokens
                extra = {
                    "status": answer.status,
                    "supported": answer.supported,
                    "citations": list(answer.citations),
                    "raw_reply": answer.raw_reply,
                    "ttft_s": answer.ttft_s,
                }
            seconds = time.perf_counter() - started
            top = {m.id for m in shown[:10]} if method != "full-context" else {m.id for m in shown}
            rows.append(
                {
                    "conversation": conv.sample_id,
                    "category": q.category,
                    "method": method,
                    "question": q.question,
                    "answer": text,
                    "reference": q.answer,
                    "f1": None if retrieval_only else score(text, q.answer, q.category),
                    "evidence_r10": len(wanted & top) / len(wanted) if wanted else None,
                    "prompt_tokens": tokens,
                    "seconds": seconds,
                    **extra,
                }
            )
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(prog=PROG, description=__doc__.split("\n")[0])
    common.add_data_option(parser)
    parser.add_argument("--model", default="smollm2-135m")
    parser.add_argument("--limit", type=int, default=None, help="questions per conversation")
    parser.add_argument(
        "--context",
        type=int,
        default=32768,
        help="context window asked for (default: as much as the model was trained on, up to "
        "32768; the device plan may give less)",
    )
    parser.add_argument(
        "--offset",
        type=float,
        default=0.0,
        help="with --limit: how far into each stretch of questions to pick, from 0 (the "
        "default) up to 1; 0.5 gives a sample that shares no question with 0's",
    )
    parser.add_argument("--conversations", type=int, default=None, help="the first N only")
    parser.add_argument(
        "--skip",
        action="append",
        default=[],
        metavar="SAMPLE_ID",
        help="leave this conversation out (repeatable), e.g. the one a method was chosen on",
    )
    parser.add_argument(
        "--unread",
        action="append",
        default=[],
        type=Path,
        metavar="ROWS",
        help="leave out the questions in this earlier run's --out file (repeatable), so the "
        "sample holds none a change was chosen on",
    )
    common.add_set_option(parser)
    add_category_option(parser, "ask only questions of")
    parser.add_argument("--retrieval-only", action="store_true")
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--out", type=Path, default=None, help="append rows here; resume")
    parser.add_argument(
        "--methods",
        default=",".join(METHODS),
        help=f"comma-separated, from {', '.join(METHODS)} (default: all)",
    )
    args = parser.parse_args()
    common.data_file(args.data, PROG)
    methods = tuple(m.strip() for m in args.methods.split(",") if m.strip())
    unknown = [m for m in methods if m not in METHODS]
    if unknown or not methods:
        common.refuse(
            PROG,
            f"--methods takes {', '.join(METHODS)}; got {args.methods!r}.",
        )
    if not 0.0 <= args.offset < 1.0:
        common.refuse(
            PROG,
            f"--offset is a fraction from 0 up to 1; got {args.offset}.",
        )
    absent = [str(p) for p in args.unread if not p.is_file()]
    if absent:
        common.refuse(PROG, f"--unread {absent[0]} does not exist.")
    try:
        read = read_questions(args.unread)
    except (ValueError, KeyError, TypeError) as exc:
        common.refuse(PROG, f"--unread files must hold this script's rows ({exc}).")
    changed = common.settings_set(
        args.set, PROG, {"model": "--model", "context_tokens": "--context"}
    )
    categories = chosen_categories(args.category, PROG)
    try:
        loaded = load(args.data)
    except json.JSONDecodeError as exc:
        common.refuse(
            PROG,
            f"{args.data} is not JSON ({exc.msg}, line {exc.lineno}).",
        )
    except KeyError as exc:
        common.refuse(
            PROG,
            f"{args.data} does not follow LoCoMo's schema: no {exc} field.",
        )
    except (ValueError, TypeError, AttributeError) as exc:
        common.refuse(PROG, f"{args.data} does not follow LoCoMo's schema: {exc}.")
    if args.out is not None:
        common.outside_repository(args.out, PROG)
    conversations = [c for c in loaded if c.sample_id not in args.skip]
    conversations = conversations[: args.conversations]
    chosen = {c.sample_id for c in conversations}
    rows = [
        row
        for row in earlier_rows(
            args.out,
            args.model,
            args.limit,
            args.context,
            args.retrieval_only,
            methods,
            args.offset,
            changed,
            categories,
        )
        if row["conversation"] in chosen
    ]
    have: dict[str, set[str]] = defaultdict(set)
    for row in rows:
        have[row["conversation"]].add(row["method"])
    done = {conv for conv, ran in have.items() if ran >= set(methods)}
    if done:
        print(f"  resuming: {', '.join(sorted(done))} already in {args.out}", file=sys.stderr)
    started = time.perf_counter()
    # One home, so an assembled model is joined once; each conversation gets a fresh store.
    with tempfile.TemporaryDirectory() as tmp:
        overrides = {**changed, "model": args.model, "context_tokens": args.context}
        try:
            settings = load_settings(Path(tmp), overrides=overrides, env={})
        except UserError as exc:
            common.refuse(PROG, str(exc), exc.exit_code)
        for conv in conversations:
            # Only the methods an earlier run with this --out did not get to.
            missing = tuple(m for m in methods if m not in have[conv.sample_id])
            if not missing:
                continue
            for leftover in store_files(settings.store_path):
                leftover.unlink(missing_ok=True)
            try:
                with Papertape(settings) as app:
                    fresh = run_conversation(
                        app,
                        conv,
                        args.limit,
                        args.retrieval_only,
                        missing,
                        args.offset,
                        read.get(conv.sample_id, frozenset()),
                        frozenset(categories),
                    )
            except (UserError, Failure) as exc:
                # A model that is not installed, or unknown: the conversations already done
                # are in --out, so a run with the same flags goes on from here.
                common.refuse(PROG, str(exc), exc.exit_code)
            rows += fresh
            if args.out is not None:
                with args.out.open("a", encoding="utf-8") as out:
                    for row in fresh:
                        tags = {
                            "model": args.model,
                            "limit": args.limit,
                            "context": args.context,
                            "offset": args.offset,
                            **({"set": changed} if changed else {}),
                            **({"categories": categories} if categories else {}),
                        }
                        out.write(json.dumps({**row, **tags}))
                        out.write("\n")
            print(
                f"  {conv.sample_id} done ({time.perf_counter() - started:.0f} s)", file=sys.stderr
            )
    summary = summarise(rows)
    if args.json:
        print(json.dumps({"summary": summary, "rows": rows}, indent=2))
        return
    command = "python -m scripts.bench.locomo " + " ".join(shlex.quote(a) for a in sys.argv[1:])
    print(common.header(command))
    print(
        f"model: {args.model}; {len(conversations)} conversations; context asked {args.context}\n"
    )
    print(table(summary))
    paper, full = summary.get("papertape"), summary.get("full-context")
    if paper and full and full["prompt_tokens"] and paper["prompt_tokens"]:
        print(
            f"\npapertape's prompt tokens are {paper['prompt_tokens'] / full['prompt_tokens']:.1%} "
            "of full-context's"
        )


if __name__ == "__main__":
    main()
