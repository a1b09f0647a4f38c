"""The exact-match channel: an error message or a quoted string in a query finds the
line that holds it, however common its words are.

Word statistics rank "Working outside of request context" by its words, which every
test of request handling shares; the line that raises it is one context among many.
Here the phrase's words select the contexts that hold all of them (posting lists
intersected, as a code search engine's trigram index selects candidates), a bounded
number of those is read, and the literal text is checked: quotes, string-literal
joins and whitespace do not count, so `"no secret " "key was set"` in code matches
"no secret key was set" in a traceback. A partial match (an f-string placeholder
in the middle) counts in proportion to the phrase's word 4-grams found, from half up.
"""

from __future__ import annotations

import re

from axon.retrieval.entities import QueryEntities
from axon.retrieval.tokenize import tokenize

MAX_PHRASES = 3
MIN_CHARS, MAX_CHARS = 12, 300
MIN_WORDS = 3
TERMS_PER_PHRASE = 6  # the longest words select candidates (long words are rare words)
CANDIDATES = 32  # contexts read and checked per phrase and partition
MAX_SHINGLES = 20
MIN_PARTIAL = 0.5

# Bounded, single-line spans between two quotes of the same kind: linear.
_QUOTED = re.compile(r"\"([^\"\n]{12,300})\"|'([^'\n]{12,300})'")
_STRIP = re.compile(r"[\"'`]|\\\n")
_SPACE = re.compile(r"\s+")


def normalise(text: str) -> str:
    """Lower case without quotes, line continuations or repeated white space."""
    return _SPACE.sub(" ", _STRIP.sub(" ", text.lower())).strip()


def phrases(query: str, entities: QueryEntities) -> list[str]:
    """Error messages (`Name: message` lines) and quoted strings of a few words."""
    found: list[str] = []
    quoted = [a or b for a, b in _QUOTED.findall(query)]
    for text in [*entities.messages, *quoted]:
        phrase = normalise(text).rstrip(".:")
        if (
            MIN_CHARS <= len(phrase) <= MAX_CHARS
            and len(phrase.split()) >= MIN_WORDS
            and phrase not in found
        ):
            found.append(phrase)
        if len(found) == MAX_PHRASES:
            break
    return found


def selecting_terms(phrase: str) -> list[str]:
    """The index terms that pick the candidates: the phrase's longest words."""
    words = sorted(set(tokenize(phrase)), key=lambda w: (-len(w), w))
    return words[:TERMS_PER_PHRASE]


def match(phrase: str, text: str) -> float:
    """1 when the normalised text holds the phrase; else the share of its word
    4-grams it holds, if at least MIN_PARTIAL; else 0."""
    body = normalise(text)
    if phrase in body:
        return 1.0
    words = phrase.split()
    shingles = [" ".join(words[i : i + 4]) for i in range(len(words) - 3)]
    if len(shingles) < 2:
        return 0.0
    step = max(1, len(shingles) // MAX_SHINGLES)
    sample = shingles[::step][:MAX_SHINGLES]
    share = sum(1 for s in sample if s in body) / len(sample)
    return share if share >= MIN_PARTIAL else 0.0
