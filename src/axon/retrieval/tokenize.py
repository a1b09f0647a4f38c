"""Code-aware tokens for lexical search.

`parseHTTPResponse_v2` yields the whole identifier (`parsehttpresponse_v2`) and
its parts (`parse`, `http`, `response`, `v2`), so a query can name either. Paths
split on separators the same way. Everything is lower-case. Pure numbers and
one-letter parts are dropped: line numbers and loop variables only add noise.
"""

from __future__ import annotations

import re
from functools import lru_cache

_WORD = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_PART = re.compile(r"[A-Z]+(?=[A-Z][a-z])|[A-Z]?[a-z]+[0-9]*|[A-Z]+[0-9]*|[0-9]+")

# Words so common in prose that they only slow long queries down; code keywords stay
# (IDF already weighs them down, and `yield` or `async` can be what a user means).
_STOPWORD_TEXT = """a an and are as at be been but by can could did do does doing for from had
has have having he her here hers him his how i if in into is it its itself me my no nor not of
off on once only or other our ours out over own same she should so some such than that the their
theirs them then there these they this those through to too under until up very was we were what
when where which while who whom why will with would you your yours also just any all each few
more most both again further am s t ll ve re d m o y"""
STOPWORDS = frozenset(_STOPWORD_TEXT.split())


@lru_cache(maxsize=200_000)
def identifier_tokens(word: str) -> tuple[str, ...]:
    """The whole identifier plus its camelCase / snake_case / digit parts, lower-case."""
    whole = word.lower().strip("_")
    parts = [p.lower() for piece in word.split("_") for p in _PART.findall(piece)]
    parts = [p for p in parts if len(p) > 1 and not p.isdigit() and p not in STOPWORDS]
    tokens: list[str] = []
    if len(whole) > 1 and whole not in STOPWORDS:
        tokens.append(whole)
    tokens += [p for p in parts if p != whole]
    return tuple(tokens)


def tokenize(text: str) -> list[str]:
    """Every code-aware token of `text`, in order, with repeats."""
    out: list[str] = []
    for word in _WORD.findall(text):
        out += identifier_tokens(word)
    return out


def symbol_keys(symbol: str | None) -> set[str]:
    """The keys an exact symbol look-up finds a context by: `Request.register_hook` by
    its full name and by `register_hook`; a module-level group named
    `app_ctx, current_app, g` by each of its names."""
    if not symbol:
        return set()
    keys: set[str] = set()
    for name in symbol.lower().split(", "):
        keys |= {name, name.rsplit(".", 1)[-1]}
    return keys
