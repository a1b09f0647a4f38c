"""Every regular expression in Axon stays linear on hostile input.

Prompts, queries, workspace files, check output and LLM answers are all text an
attacker can shape. Each compiled pattern of every module is fed long strings built
from its own literals and character classes (runs of one character, of two
alternating ones, of its literal words, with and without a character that makes the
match fail at the end) and must finish each in a generous time bound. A pattern with
nested or overlapping quantifiers takes seconds to hours on these; a linear one takes
milliseconds. This checks shape, it is not a speed benchmark.
"""

from __future__ import annotations

import asyncio
import dataclasses
import importlib
import itertools
import pkgutil
import re
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

import axon
from tests.conftest import LiveServer

try:  # Python 3.11+
    from re import _constants as sre_constants
    from re import _parser as sre_parse
except ImportError:  # pragma: no cover - Python 3.10
    import sre_constants  # type: ignore[no-redef]
    import sre_parse  # type: ignore[no-redef]

SIZE = 10_000  # characters per adversarial input: a long prompt, a long line
BOUND_SECONDS = 0.5  # per pattern and input: linear patterns need a few ms
# Characters that break most matches when they end a run.
_ENDINGS = ("", "\x00", "_\n")
_MAX_WORDS = 12  # the longest literal words of a pattern, repeated
_BREAKERS = ("a", " ", "\n")
_COMMON = ("a", "A", "0", "_", " ", "\t", "\n", ".", "/", "(")


def _modules() -> Iterator[Any]:
    for info in pkgutil.walk_packages(axon.__path__, "axon."):
        yield importlib.import_module(info.name)


def _patterns_in(value: Any, depth: int = 0) -> Iterator[re.Pattern[str]]:
    if depth > 3:
        return
    if isinstance(value, re.Pattern):
        if isinstance(value.pattern, str):
            yield value
    elif isinstance(value, dict):
        for item in value.values():
            yield from _patterns_in(item, depth + 1)
    elif isinstance(value, (tuple, list, frozenset, set)):
        for item in value:
            yield from _patterns_in(item, depth + 1)
    elif dataclasses.is_dataclass(value) and not isinstance(value, type):
        for f in dataclasses.fields(value):
            yield from _patterns_in(getattr(value, f.name), depth + 1)


def all_patterns() -> dict[str, re.Pattern[str]]:
    found: dict[str, re.Pattern[str]] = {}
    seen: set[tuple[str, int]] = set()  # a pattern imported elsewhere is tested once
    for module in _modules():
        for name, value in vars(module).items():
            for index, pattern in enumerate(_patterns_in(value)):
                if (pattern.pattern, pattern.flags) not in seen:
                    seen.add((pattern.pattern, pattern.flags))
                    found[f"{module.__name__}.{name}[{index}]"] = pattern
    return found


def _class_members(items: list[tuple[Any, Any]]) -> set[str]:
    chars: set[str] = set()
    for op, arg in items:
        if op is sre_constants.LITERAL:
            chars.add(chr(arg))
        elif op is sre_constants.RANGE:
            low, high = arg
            chars.update({chr(low), chr(high), chr((low + high) // 2)})
        elif op is sre_constants.CATEGORY:
            chars.update(
                {
                    sre_constants.CATEGORY_DIGIT: "0",
                    sre_constants.CATEGORY_SPACE: " \n",
                    sre_constants.CATEGORY_WORD: "aA_0",
                }.get(arg, "a")
            )
    return chars


def _walk(parsed: Any, chars: set[str], words: list[str]) -> None:
    literal = ""
    for op, arg in parsed:
        if op is sre_constants.LITERAL:
            chars.add(chr(arg))
            literal += chr(arg)
            continue
        if len(literal) > 1:
            words.append(literal)
        literal = ""
        if op is sre_constants.IN:
            chars.update(_class_members(arg))
        elif op in (sre_constants.MAX_REPEAT, sre_constants.MIN_REPEAT):
            _walk(arg[2], chars, words)
        elif op is sre_constants.SUBPATTERN:
            _walk(arg[-1], chars, words)
        elif op is sre_constants.BRANCH:
            for branch in arg[1]:
                _walk(branch, chars, words)
        elif op in (sre_constants.ASSERT, sre_constants.ASSERT_NOT):
            _walk(arg[1], chars, words)
    if len(literal) > 1:
        words.append(literal)


def adversarial_inputs(pattern: re.Pattern[str]) -> Iterator[str]:
    own: set[str] = set()
    words: list[str] = []
    _walk(sre_parse.parse(pattern.pattern, pattern.flags), own, words)
    # Letters and digits behave alike in classes; the literal words cover the rest.
    symbols = sorted({c for c in own if not c.isalnum()} | set(_COMMON))
    literals = sorted(set(words), key=len, reverse=True)[:_MAX_WORDS]
    for unit in symbols + literals:
        for ending in _ENDINGS:
            yield unit * (SIZE // len(unit)) + ending
    # Alternating pairs, where two overlapping classes meet.
    for a, b in itertools.combinations(sorted({c for c in own if not c.isalnum()} | set("aA")), 2):
        yield (a + b) * (SIZE // 2) + "\x00"
    for word in literals:
        for c in _BREAKERS:
            yield (word + c) * (SIZE // (len(word) + 1))
        yield word + " " * SIZE + "\x00"
    # Shapes that once froze the server: a capitalised run ending in a word character.
    yield "Aa" + "A" * SIZE + "_"
    yield "a" + "_a" * (SIZE // 2) + "A"


PATTERNS = all_patterns()


def test_the_audit_sees_the_request_path_patterns() -> None:
    # A rename must not silently drop the patterns that parse queries and prompts.
    names = " ".join(PATTERNS)
    for expected in (
        "axon.retrieval.entities._CAMEL",
        "axon.retrieval.entities._ERROR_LINE",
        "axon.pipeline.analyzer._TASKS",
        "axon.pipeline.analyzer._TECH",
        "axon.retrieval.tokenize._PART",
        "axon.pipeline.compress._SIGNATURE",
        "axon.pipeline.postprocess._OPENING",
        "axon.indexing.markdown._HEADING",
    ):
        assert expected in names
    assert len(PATTERNS) > 150


def _worst(pattern: re.Pattern[str]) -> tuple[float, str]:
    worst = (0.0, "")
    for text in adversarial_inputs(pattern):
        started = time.perf_counter()
        for _ in pattern.finditer(text):
            pass
        elapsed = time.perf_counter() - started
        if elapsed > worst[0]:
            worst = (elapsed, text)
        if elapsed > BOUND_SECONDS:
            break
    return worst


@pytest.mark.parametrize("name", sorted(PATTERNS))
def test_pattern_is_linear_on_adversarial_input(name: str) -> None:
    elapsed, text = _worst(PATTERNS[name])
    assert elapsed < BOUND_SECONDS, (
        f"{name} took {elapsed:.2f}s on {text[:60]!r}... ({len(text)} chars)"
    )


# The reproduction (exponential in the run's length before the fix), and a
# long prompt of code-like shapes that is linear but takes real CPU time to parse.
PROCESS = "/api/v1/prompts/process"
_FREEZER = "Aa" + "A" * 28 + "_"
_LONG = ('AaBbCc_ x.y.z(a) File "a.py", line 3 at f (a.js:1:2) [[n]] ' * 500)[:30_000]


async def test_live_server_stays_responsive_while_it_parses_adversarial_queries(
    live_server: LiveServer,
) -> None:
    async with httpx.AsyncClient(base_url=live_server.url, timeout=60) as http:
        created = await http.post("/api/v1/workspaces", json={"id": "adv", "name": "adv"})
        assert created.status_code == 201, created.text
        # Models load on first use; that start-up cost is not what this test is about.
        for path, field in (("/api/v1/contexts/search", "query"), (PROCESS, "prompt")):
            warm = await http.post(path, json={field: "warm up", "workspaceId": "adv"})
            assert warm.status_code == 200, warm.text
        hostile = [
            http.post("/api/v1/contexts/search", json={"query": query, "workspaceId": "adv"})
            for query in (_FREEZER, _LONG, _FREEZER * 3)
        ] + [
            http.post(PROCESS, json={"prompt": prompt, "workspaceId": "adv"})
            for prompt in (_FREEZER, _LONG)
        ]
        in_flight = asyncio.gather(*hostile)
        probes: list[float] = []
        async with httpx.AsyncClient(base_url=live_server.url, timeout=5) as probe:
            while not in_flight.done() and len(probes) < 400:
                started = time.perf_counter()
                live = await probe.get("/health/live")
                probes.append(time.perf_counter() - started)
                assert live.status_code == 200
                await asyncio.sleep(0.02)
        answers = await in_flight
    assert [a.status_code for a in answers] == [200] * len(answers)
    assert probes and max(probes) < 1.0, f"/health/live took up to {max(probes):.2f}s"
