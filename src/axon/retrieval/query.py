"""Turning prompt text into lexical query terms.

Issue texts mix prose with code, logs and links. Links say little about the code
and are dropped; identifiers and paths are split like indexed text. Names that
look like code (snake_case, camelCase, dotted, paths) are what a user copies
from the code base, so their terms count extra.
"""

from __future__ import annotations

import re

from axon.retrieval.entities import QueryEntities
from axon.retrieval.tokenize import tokenize

_URL = re.compile(r"https?://\S+")
IDENTIFIER_EXTRA = 1  # extra occurrences of each term of a code-like name


def query_terms(text: str, entities: QueryEntities | None = None) -> list[str]:
    terms = tokenize(_URL.sub(" ", text))
    if entities is not None:
        for name in entities.all_names():
            terms += tokenize(name) * IDENTIFIER_EXTRA
    return terms
