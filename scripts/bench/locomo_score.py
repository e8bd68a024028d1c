"""LoCoMo's answer score, written here from the benchmark's description (Maharana et al.,
2024): token F1 between the answer and the reference after normalising both (lower case,
punctuation and the articles a/an/the and "and" removed, each word Porter-stemmed).

- category 1 (multi-hop): the reference lists several answers separated by commas; each gets
  the best F1 among the comma-separated parts of the prediction, and the score is their mean;
- category 3 (open-domain): only the reference's first alternative (before a ';') counts;
- categories 2 and 4: plain token F1;
- category 5 (adversarial): 1 when the prediction abstains ("no information available",
  "not mentioned"), else 0.
"""

from __future__ import annotations

import re
import string
from collections import Counter
from functools import lru_cache

from nltk.stem import PorterStemmer

ABSTAIN = ("no information available", "not mentioned")
_ARTICLES = re.compile(r"\b(a|an|the|and)\b")
_STEMMER = PorterStemmer()


def normalise(text: str) -> str:
    lowered = text.lower().replace(",", "")
    no_punct = "".join(ch for ch in lowered if ch not in string.punctuation)
    return " ".join(_ARTICLES.sub(" ", no_punct).split())


@lru_cache(maxsize=65536)
def _stem(word: str) -> str:
    return str(_STEMMER.stem(word))


def tokens(text: str) -> list[str]:
    return [_stem(w) for w in normalise(text).split()]


def f1(prediction: str, reference: str) -> float:
    predicted, wanted = tokens(prediction), tokens(reference)
    common = sum((Counter(predicted) & Counter(wanted)).values())
    if common == 0:
        return 0.0
    precision = common / len(predicted)
    recall = common / len(wanted)
    return 2 * precision * recall / (precision + recall)


def f1_multi(prediction: str, reference: str) -> float:
    parts = [p for p in prediction.split(",") if p.strip()] or [prediction]
    wanted = [r for r in reference.split(",") if r.strip()] or [reference]
    return sum(max(f1(p, r) for p in parts) for r in wanted) / len(wanted)


def abstains(prediction: str) -> bool:
    lowered = prediction.lower()
    return any(phrase in lowered for phrase in ABSTAIN)


def score(prediction: str, reference: str, category: int) -> float:
    if category == 5:
        return 1.0 if abstains(prediction) else 0.0
    if category == 1:
        return f1_multi(prediction, reference)
    if category == 3:
        reference = reference.split(";")[0].strip()
    return f1(prediction, reference)
