#!/usr/bin/env python3
"""German and Chinese questions over English, German and Chinese notes: what recall and ask do.

A small written set: six notes holding one fact each (two per language) among twenty
unrelated English notes, and eight questions in German and Chinese, some about notes in
their own language, some across languages. For each question: whether recall's top 5 holds
the note that answers it, and what `ask` says (answer, status, whether it cites that note).
Beside it, the note's rank among keyword search's first 10 (BM25 alone), which shows what the
keyword index does in each script. The answers are printed for reading; nothing is scored
automatically.

    python -m scripts.bench.languages [--model qwen2.5-coder-1.5b] [--embedder minilm]
                                      [--no-ask]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

from agent.service import Papertape
from agent.settings import load_settings
from scripts.bench import common

PROG = common.command_name(__file__)

NOW = 1_710_000_000.0  # March 2024
FACTS = {
    "dentist": "Dentist appointment moved to Thursday 14 March at 3pm with Dr. Weber.",
    "lena": "Lena's new flat is at 12 Elm Street, third floor.",
    "anna": "Meine Schwester Anna zieht im Mai nach Hamburg.",
    "car": "Das Auto muss am 3. April zum TÜV.",
    "mum": "我妈妈的生日是六月二日，她想要一条蓝色的围巾。",
    "teahouse": "周六下午我们在西湖边的茶馆见面。",
}
FILLER = [
    "Bought oat milk, bread and coffee beans at the corner shop.",
    "The team stand-up moved to 9:30 from next week.",
    "Finished reading the second book of the trilogy; the ending was slow.",
    "Ran 5 km along the river before work.",
    "The printer on the second floor is out of toner again.",
    "Booked train tickets for the conference in Leeds.",
    "Watered the tomatoes; two of them are turning red.",
    "Call the bank about the new card before Friday.",
    "The cat knocked the plant off the windowsill.",
    "Made lentil soup; it needed more salt.",
    "Picked up the dry cleaning on the way home.",
    "Sam recommended a podcast about urban gardening.",
    "The landlord will fix the kitchen tap next week.",
    "Tried the new Thai place on Market Street, good curry.",
    "Backed up the laptop to the external drive.",
    "Swimming pool closes early on public holidays.",
    "Renewed the library books online.",
    "Meeting notes: budget review pushed to next quarter.",
    "Bought a birthday card for Tom.",
    "The bike needs new brake pads.",
]
QUESTIONS = [
    ("Wann ist mein Zahnarzttermin?", "dentist", "de -> en"),
    ("Wo wohnt Lena jetzt?", "lena", "de -> en"),
    ("Wohin zieht Anna?", "anna", "de -> de"),
    ("Wann muss das Auto zum TÜV?", "car", "de -> de"),
    ("我妈妈的生日是哪天？", "mum", "zh -> zh"),
    ("我们周六在哪里见面？", "teahouse", "zh -> zh"),
    ("我的牙医预约是什么时候？", "dentist", "zh -> en"),
    ("安娜要搬到哪里？", "anna", "zh -> de"),
]


def main() -> None:
    parser = argparse.ArgumentParser(prog=PROG, description=__doc__.split("\n")[0])
    parser.add_argument("--model", default="qwen2.5-coder-1.5b")
    parser.add_argument("--embedder", default="minilm")
    parser.add_argument("--no-ask", action="store_true", help="recall only: no model")
    args = parser.parse_args()
    print(common.header("python -m scripts.bench.languages " + " ".join(sys.argv[1:])))
    print(f"model: {args.model}; embedder: {args.embedder}\n")
    with tempfile.TemporaryDirectory() as tmp:
        settings = load_settings(
            Path(tmp), overrides={"model": args.model, "embedder": args.embedder}, env={}
        )
        with Papertape(settings) as app:
            ids = {}
            for n, text in enumerate(FILLER):
                app.note(text, now=NOW - 86400 * (n + 2), occurred_at=NOW - 86400 * (n + 2))
            for n, (name, text) in enumerate(FACTS.items()):
                result = app.note(text, now=NOW - 3600 * (n + 1), occurred_at=NOW - 3600 * (n + 1))
                ids[name] = result.memory_id
            print(
                "| question | languages | recall top 5 holds it | keyword rank | answer | status "
                "| cites it | marked |"
            )
            print("|---|---|---|---|---|---|---|---|")
            held = cited = by_keyword = 0
            for question, fact, languages in QUESTIONS:
                top = [h.memory.id for h in app.recall(question, now=NOW, k=5, strengthen=False)]
                keyword = [
                    h.memory.id
                    for h in app.recall(question, now=NOW, k=10, mode="keyword", strengthen=False)
                ]
                rank = keyword.index(ids[fact]) + 1 if ids[fact] in keyword else None
                by_keyword += rank is not None and rank <= 5
                in_top = ids[fact] in top
                held += in_top
                text, status, cites, marked = "", "", False, ""
                if not args.no_ask:
                    answer = app.chat(remember=False).ask(question, now=NOW)
                    text = answer.text.replace("|", "/").replace("\n", " ")
                    status, cites = answer.status, ids[fact] in answer.citations
                    marked = "-" if answer.supported else "yes"
                cited += cites
                print(
                    f"| {question} | {languages} | {'yes' if in_top else 'no'} | {rank or '-'} | "
                    f"{text} | {status} | {'yes' if cites else 'no'} | {marked} |"
                )
            print(
                f"\nrecall top 5 held the note for {held} of {len(QUESTIONS)} questions "
                f"(keyword search alone: {by_keyword}); ask cited it for {cited}."
            )


if __name__ == "__main__":
    main()
