#!/usr/bin/env python3
"""Optical pages: bytes, pixels, vision tokens and OCR read-back, per font size and format.

Each sample (a LoCoMo turn, as one memory) is rendered into its own page the way consolidation
does it (agent/memory/pages.py), then read back by OCR recognition on the stored line boxes. For
each font size and format the table gives, summed over the samples:

- page bytes, against the text's UTF-8 bytes and its zlib-compressed bytes (level 9, each
  text on its own, as a store would keep it);
- pixels and DeepSeek-equivalent vision tokens: pixels / 4096, i.e. DeepSeek-OCR's 64 tokens
  for a 512x512 image;
- the text's tokens (SmolLM2's tokenizer) and the compression ratio text tokens / vision tokens;
- character accuracy read back: 1 - edit distance / characters;
- OCR seconds per page.

DeepSeek-OCR (Wei et al., 2025) reports about 97 % precision at under 10x compression and about
60 % at 20x; those are printed beside ours. Our OCR is PP-OCRv6 (rapidocr), not a VLM.

    python -m scripts.bench.optical --data ../shared/data/locomo/locomo7.json
        [--samples 40] [--json]
"""

from __future__ import annotations

import argparse
import json
import shlex
import sys
import time
import zlib

from agent.memory.pages import FORMATS, read_page, render_page
from models.catalog import model_file, verified_path
from models.ocr import load_reader
from scripts.bench import common
from scripts.bench.common import edit_distance
from scripts.bench.locomo_data import load

PROG = common.command_name(__file__)

FONTS = (6, 7, 8, 10, 12)
DEEPSEEK = "DeepSeek-OCR (published): ~97 % precision below 10x compression, ~60 % at 20x"


def text_tokenizer():  # type: ignore[no-untyped-def]
    """SmolLM2's tokenizer, read from its GGUF without loading the weights."""
    from llama_cpp import Llama

    path = verified_path(model_file("smollm2-135m"))
    vocab = Llama(model_path=str(path), vocab_only=True, verbose=False)
    return lambda text: len(vocab.tokenize(text.encode("utf-8"), add_bos=False))


def main() -> None:
    parser = argparse.ArgumentParser(prog=PROG, description=__doc__.split("\n")[0])
    common.add_data_option(parser)
    parser.add_argument("--samples", type=int, default=40, help="turns to render (default 40)")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    common.data_file(args.data, PROG)
    turns = [t.text for c in load(args.data) for t in c.turns]
    step = max(1, len(turns) // args.samples)
    samples = turns[::step][: args.samples]  # spread over every conversation
    count_tokens = text_tokenizer()
    reader = load_reader("rapidocr")
    text_bytes = sum(len(t.encode("utf-8")) for t in samples)
    zlib_bytes = sum(len(zlib.compress(t.encode("utf-8"), 9)) for t in samples)
    text_tokens = sum(count_tokens(t) for t in samples)
    chars = sum(len(t) for t in samples)
    rows = []
    for font in FONTS:
        for fmt in FORMATS:
            page_bytes = pixels = errors = 0
            seconds = 0.0
            for text in samples:
                page = render_page(text, font_px=font, fmt=fmt)
                page_bytes += len(page.data)
                pixels += page.width * page.height
                start = time.perf_counter()
                back = read_page(reader, page.data, page.meta())
                seconds += time.perf_counter() - start
                errors += edit_distance(" ".join(text.split()), back)
            vision_tokens = pixels / 4096
            rows.append(
                {
                    "font_px": font,
                    "format": fmt,
                    "page_bytes": page_bytes,
                    "pixels": pixels,
                    "vision_tokens": round(vision_tokens, 1),
                    "compression": round(text_tokens / vision_tokens, 2),
                    "bytes_vs_zlib": round(page_bytes / zlib_bytes, 2),
                    "accuracy": round(1 - errors / chars, 4),
                    "ocr_s_per_page": round(seconds / len(samples), 3),
                }
            )
            print(f"  {font} px {fmt}: done", file=sys.stderr)
    report = {
        "samples": len(samples),
        "chars": chars,
        "text_bytes": text_bytes,
        "zlib_bytes": zlib_bytes,
        "text_tokens": text_tokens,
        "rows": rows,
    }
    if args.json:
        print(json.dumps(report, indent=2))
        return
    command = "python -m scripts.bench.optical " + " ".join(shlex.quote(a) for a in sys.argv[1:])
    print(common.header(command))
    print(
        f"{len(samples)} LoCoMo turns, {chars} characters: {text_bytes:,} bytes of UTF-8, "
        f"{zlib_bytes:,} bytes zlib, {text_tokens:,} SmolLM2 tokens\n"
    )
    print(
        "| font px | format | page bytes | pages / zlib text | pixels | vision tokens | "
        "text tokens / vision tokens | char accuracy | OCR s/page |"
    )
    print("|---|---|---|---|---|---|---|---|---|")
    for r in rows:
        print(
            f"| {r['font_px']} | {r['format']} | {r['page_bytes']:,} | {r['bytes_vs_zlib']}x | "
            f"{r['pixels']:,} | {r['vision_tokens']} | {r['compression']}x | "
            f"{r['accuracy']:.3f} | {r['ocr_s_per_page']} |"
        )
    print(f"\n{DEEPSEEK}")


if __name__ == "__main__":
    main()
