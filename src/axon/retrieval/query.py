"""Turning prompt text into lexical query terms.

Issue texts mix prose with code, logs and links. Links say little about the code
and are dropped; identifiers and paths are split like indexed text.
"""

from __future__ import annotations

import re

from axon.retrieval.tokenize import tokenize

_URL = re.compile(r"https?://\S+")


def query_terms(text: str) -> list[str]:
    return tokenize(_URL.sub(" ", text))
