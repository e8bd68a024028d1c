"""Synthetic year-long lifelogs for the paging benchmarks: people, places and topics drawn at
random, with vectors from a shared pool so that queries have true neighbours."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import numpy as np

from agent.memory.retention import initial_strength
from agent.settings import Settings

PEOPLE = [
    "Ana",
    "Ben",
    "Chloe",
    "Dev",
    "Elif",
    "Farid",
    "Greta",
    "Hugo",
    "Ines",
    "Jonas",
    "Kemal",
    "Lena",
    "Mateo",
    "Noor",
    "Omar",
]

DIM = 384
DAY = 86400.0
YEAR = 365 * DAY
START = 1_700_000_000.0


PLACES = [
    "Lisbon",
    "Oslo",
    "Kyoto",
    "the",
    "office",
    "the",
    "gym",
    "Berlin",
    "the",
    "clinic",
    "the",
    "cafe",
    "home",
    "Porto",
]


TOPICS = [
    "budget",
    "roadmap",
    "dentist",
    "flight",
    "invoice",
    "birthday",
    "recipe",
    "marathon",
    "lease",
    "paper",
    "review",
    "garden",
    "piano",
    "tax",
    "visa",
    "launch",
    "hiring",
    "backup",
    "sprint",
    "wedding",
    "conference",
]


TEMPLATES = {
    "text": "Note: {p} said the {t} for {t2} is due on {d}; remember to check {pl}.",
    "chat": "{p}: are we still on for the {t} at {pl} on {d}? {p2}: yes, bring the {t2}.",
    "audio": "so the {t} meeting with {p} went long, we agreed to move the {t2} to {d} at {pl}",
    "screenshot": "{pl} | {t} dashboard | {p} edited {t2} | due {d} | 3 comments | share",
}


def _words(rng: np.random.Generator) -> dict[str, str]:
    return {
        "p": str(rng.choice(PEOPLE)),
        "p2": str(rng.choice(PEOPLE)),
        "t": str(rng.choice(TOPICS)),
        "t2": str(rng.choice(TOPICS)),
        "pl": str(rng.choice(PLACES)),
        "d": f"{int(rng.integers(1, 29))} {rng.choice(['Jan', 'Mar', 'Jun', 'Sep', 'Nov'])}",
    }


def pool_vectors(rng: np.random.Generator, size: int = 512) -> np.ndarray:
    """MiniLM vectors of template sentences: the directions synthetic memories mix."""
    from models import load_embedder

    embedder = load_embedder(Settings(home=Path(".")).embedder)
    kinds = list(TEMPLATES)
    texts = [TEMPLATES[kinds[i % 4]].format(**_words(rng)) for i in range(size)]
    return np.asarray(embedder.embed(texts), dtype=np.float32)


def lifelog(n: int, pool: np.ndarray, rng: np.random.Generator) -> dict[str, Any]:
    """n memories over a year in time order: kind, text, time, importance, tier, vector."""
    times = np.sort(rng.uniform(START, START + YEAR, n))
    now = START + YEAR
    a, b = rng.integers(0, len(pool), n), rng.integers(0, len(pool), n)
    noise = rng.standard_normal((n, DIM)).astype(np.float32) / math.sqrt(DIM)
    vecs = pool[a] + 0.6 * pool[b] + 0.5 * noise
    vecs /= np.linalg.norm(vecs, axis=1, keepdims=True)
    importance = rng.beta(2, 3, n)
    defaults = Settings(home=Path("."))
    strength_days = np.array(
        [initial_strength(float(i), defaults.base_strength_days) for i in importance]
    )
    recalled = rng.random(n) < 0.1  # recalled now and then: strength doubled a few times
    strength_days *= np.where(recalled, 2.0 ** rng.integers(1, 6, n), 1.0)
    retention = np.exp(-(now - times) / (strength_days * DAY))
    tiers = np.where(
        retention >= defaults.hazy_below,
        "sharp",
        np.where(retention >= defaults.archive_below, "hazy", "archive"),
    )
    kinds = rng.choice(list(TEMPLATES), n, p=[0.3, 0.35, 0.15, 0.2])
    texts = []
    for kind, tier in zip(kinds, tiers, strict=True):
        text = TEMPLATES[kind].format(**_words(rng))
        texts.append(text if tier == "sharp" else text[:60])  # faded: a one-line gist
    return {
        "times": times,
        "vectors": vecs,
        "importance": importance,
        "strength": strength_days,
        "tiers": tiers,
        "kinds": kinds,
        "texts": texts,
        "now": now,
    }


def make_queries(log: dict[str, Any], count: int, rng: np.random.Generator) -> dict[str, Any]:
    n = len(log["texts"])
    targets = rng.integers(0, n, count)
    noise = rng.standard_normal((count, DIM)).astype(np.float32) / math.sqrt(DIM)
    vectors = log["vectors"][targets] + 0.3 * noise
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    terms = []
    for t in targets:
        words = [w.strip(".,;:?|") for w in log["texts"][t].split() if len(w) > 3]
        picked = rng.choice(words, size=min(2, len(words)), replace=False) if words else []
        terms.append(" ".join(str(w) for w in picked))
    exact = []
    for v in vectors:  # exact float32 search over every memory
        sims = log["vectors"] @ v
        exact.append(np.argsort(-sims)[:10] + 1)  # ids are 1-based, in insertion order
    return {"vectors": vectors.astype(np.float32), "terms": np.array(terms), "exact": exact}
