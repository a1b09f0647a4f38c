"""Post-processor: quality signals, actions and knowledge worth keeping.

Runs on the finished exchange. Quality signals and actions are cheap and go
into the response; captured decisions and patterns are stored afterwards, in
the background, as hybrid-tier contexts with low confidence (feedback and use
raise it later), so the answer never waits on them.
"""

from __future__ import annotations

import re
from bisect import bisect_right
from dataclasses import dataclass
from typing import Any

from pydantic import Field

from axon.evolution.consolidate import Consolidator
from axon.evolution.supersede import Supersession
from axon.models import (
    CamelModel,
    Context,
    ContextType,
    Evidence,
    EvidenceSource,
    Tier,
    content_hash,
)
from axon.pipeline.types import Analysis, TaskType
from axon.ports import DocumentStore, SearchIndex
from axon.tokens import count_tokens

MAX_CAPTURES = 5
_CODE_TASKS = frozenset(
    {TaskType.BUG_FIX, TaskType.FEATURE_ADD, TaskType.REFACTOR, TaskType.TEST, TaskType.PERFORMANCE}
)
_TRUNCATED = frozenset({"length", "max_tokens"})
# An opening fence line: the run of backticks or tildes, then the info string.
_OPENING = re.compile(r"(?P<fence>`{3,}+|~{3,}+)[ \t]*+(?P<info>[^\n`]*+)")
_PATH = r"[\w@./-]+\.[A-Za-z0-9]{1,10}"
_INFO_FILE = re.compile(rf"(?:title|file|filename|path)=[\"']?({_PATH})|^\w+:({_PATH})$")
_LEAD_FILE = re.compile(
    rf"`({_PATH})`|\*\*({_PATH})\*\*|\b(?:in|to|file|update|edit)\s+({_PATH})\s*:?\s*$",
    re.IGNORECASE,
)
_FIRST_LINE_FILE = re.compile(
    rf"^\s*(?:#|//|--|/\*)\s*(?:file(?:name)?:\s*)?({_PATH})\s*(?:\*/)?\s*$"
)
_CREATE_FILE = re.compile(
    rf"\b(?:create|add)\s+(?:a\s+)?(?:new\s+)?file\s+(?:called\s+|named\s+)?`?({_PATH})`?",
    re.IGNORECASE,
)
_SHELLS = frozenset(
    {"bash", "sh", "shell", "console", "zsh", "terminal", "powershell", "ps1", "cmd"}
)
_DECISION = re.compile(
    r"\b(?:we|i|the team)\s+(?:have\s+)?"
    r"(?:decided|agreed|chose|will use|are going with|settled on)\b"
    r"|^\s*(?:decision|adr)\s*:|\blet'?s\s+(?:use|go with|adopt|standardi[sz]e on)\b"
    r"|^\W*(?:from now on|going forward)\b",
    re.IGNORECASE,
)
_PATTERN = re.compile(
    r"^\s*(?:convention|pattern|rule|guideline)\s*:|\bby convention\b"
    r"|\b(?:we|our team)\s+(?:always|never|prefer)\b"
    r"|\b(?:always|never)\s+(?:use|call|put|name|import|return|commit|log|catch)\b",
    re.IGNORECASE,
)
# A sentence ends at . ! or ? followed by a space or the end, so `app.logging`, `3.8`
# and `test_x.py` stay inside theirs. Each character matches one alternative only:
# linear, no backtracking.
_SENTENCE = re.compile(r"(?:[^.!?\n]|[.!?]++(?=[^\s.!?]))++[.!?]*+")
# Not statements of what holds: questions, and hypotheticals or proposals (a leading
# condition, or a modal verb anywhere).
_HYPOTHETICAL = re.compile(
    r"^\W*+(?:if|suppose|supposing|imagine|what if|assuming|in case|maybe|perhaps)\b"
    r"|\b(?:might|could|would|should|may)\b",
    re.IGNORECASE,
)


class Action(CamelModel):
    type: str  # "code", "command" or "createFile"
    language: str | None = None
    file: str | None = None
    content: str | None = None


class Quality(CamelModel):
    finish_reason: str | None
    truncated: bool
    code_blocks: int
    expects_code: bool
    missing_code: bool
    empty: bool


class Capture(CamelModel):
    type: ContextType
    text: str


class PostProcessed(CamelModel):
    quality: Quality
    actions: list[Action] = Field(default_factory=list)
    captures: list[Capture] = Field(default_factory=list)


@dataclass(frozen=True, slots=True)
class CodeBlock:
    start: int  # offset of the opening fence
    end: int  # offset just after the closing fence (before its line break)
    info: str
    body: str  # the lines between the fences, with their line breaks


def code_blocks(text: str) -> list[CodeBlock]:
    """Fenced blocks: an opening line, then up to the next line that is the same fence.

    Line by line with an index of closing lines, not one regular expression: a lazy
    body followed by a back-reference rescans the rest of the text from every opening
    that never closes, quadratic in an answer full of fences.
    """
    lines = text.split("\n")
    starts = [0]
    for line in lines:
        starts.append(starts[-1] + len(line) + 1)
    closers: dict[str, list[int]] = {}
    for index, line in enumerate(lines):
        if line.startswith(("```", "~~~")):
            closers.setdefault(line.rstrip(" \t"), []).append(index)
    found: list[CodeBlock] = []
    index = 0
    while index < len(lines) - 1:
        opening = _OPENING.fullmatch(lines[index])
        candidates = closers.get(opening.group("fence"), []) if opening else []
        after = bisect_right(candidates, index)
        if opening is None or after == len(candidates):
            index += 1
            continue
        close = candidates[after]
        found.append(
            CodeBlock(
                start=starts[index],
                end=starts[close] + len(lines[close]),
                info=opening.group("info"),
                body=text[starts[index + 1] : starts[close]],
            )
        )
        index = close + 1
    return found


def _strip_code(text: str) -> str:
    kept: list[str] = []
    position = 0
    for block in code_blocks(text):
        kept.append(text[position : block.start])
        position = block.end
    kept.append(text[position:])
    return "".join(kept)


class PostProcessor:
    def process(
        self, analysis: Analysis, prompt: str, answer: str | None, finish_reason: str | None
    ) -> PostProcessed:
        text = answer or ""
        blocks = code_blocks(text)
        expects = analysis.task_type in _CODE_TASKS
        quality = Quality(
            finish_reason=finish_reason,
            truncated=finish_reason in _TRUNCATED,
            code_blocks=len(blocks),
            expects_code=expects,
            missing_code=answer is not None and expects and not blocks,
            empty=answer is not None and not text.strip(),
        )
        return PostProcessed(
            quality=quality,
            actions=self.actions(text),
            captures=self.captures(f"{prompt}\n{text}"),
        )

    def actions(self, text: str) -> list[Action]:
        found: list[Action] = []
        for block in code_blocks(text):
            info = block.info.strip()
            language = info.split()[0].split(":")[0].lower() if info else None
            body = block.body.rstrip("\n")
            if language in _SHELLS:
                for line in body.splitlines():
                    command = line.strip().removeprefix("$ ").removeprefix("> ")
                    if command and not command.startswith("#"):
                        found.append(Action(type="command", language=language, content=command))
                continue
            found.append(
                Action(
                    type="code",
                    language=language,
                    file=self._target(text, block, info),
                    content=body,
                )
            )
        for match in _CREATE_FILE.finditer(_strip_code(text)):
            path = match.group(1)
            if not any(a.type == "createFile" and a.file == path for a in found):
                found.append(Action(type="createFile", file=path))
        return found

    def _target(self, text: str, block: CodeBlock, info: str) -> str | None:
        """The file a code block is meant for, when the answer says so."""
        from_info = _INFO_FILE.search(info)
        if from_info:
            return from_info.group(1) or from_info.group(2)
        first = block.body.split("\n", 1)[0]
        from_comment = _FIRST_LINE_FILE.match(first)
        if from_comment:
            return from_comment.group(1)
        before = text[: block.start].rstrip().rsplit("\n", 1)[-1]
        lead = _LEAD_FILE.search(before)
        if lead:
            return next(g for g in lead.groups() if g)
        return None

    def captures(self, text: str) -> list[Capture]:
        found: list[Capture] = []
        seen: set[str] = set()
        for line in _strip_code(text).splitlines():
            for sentence in _SENTENCE.findall(line):
                sentence = sentence.strip()
                if not 20 <= len(sentence) <= 500 or sentence.lower() in seen:
                    continue
                if "?" in sentence or _HYPOTHETICAL.search(sentence):
                    continue
                if _DECISION.search(sentence):
                    kind = ContextType.DECISION
                elif _PATTERN.search(sentence):
                    kind = ContextType.PATTERN
                else:
                    continue
                seen.add(sentence.lower())
                found.append(Capture(type=kind, text=sentence))
                if len(found) >= MAX_CAPTURES:
                    return found
        return found


async def store_captures(
    store: DocumentStore,
    search_index: SearchIndex | None,
    workspace_id: str,
    interaction_id: str,
    captures: list[Capture],
    consolidator: Consolidator | None = None,
    supersession: Supersession | None = None,
) -> list[str]:
    """Store new captures (once per workspace and text); return the ids stored.

    With a consolidator, a capture restating a stored memory is merged into it instead
    (provenance and evidence); with a supersession, a captured decision closes the
    current decisions on its subject.
    """
    stored: list[str] = []
    for capture in captures:
        digest = content_hash(capture.text)
        context_id = f"cap_{content_hash(workspace_id + ':' + digest)[:24]}"
        if await store.get_context(context_id) is not None:
            continue
        metadata: dict[str, Any] = {"source": "capture", "interactionId": interaction_id}
        context = Context(
            id=context_id,
            workspace_id=workspace_id,
            tier=Tier.HYBRID,
            type=capture.type,
            title=f"captured {capture.type.value}",
            content=capture.text,
            content_hash=digest,
            token_count=count_tokens(capture.text),
            evidence=Evidence.prior(EvidenceSource.CAPTURED),
            metadata=metadata,
        )
        twin = await consolidator.twin(context) if consolidator is not None else None
        if consolidator is not None and twin is not None:
            await consolidator.merge(twin, [context])
            continue
        olds = await supersession.detect(context) if supersession is not None else []
        if olds:
            context = context.model_copy(update={"supersedes": [old.id for old in olds]})
        await store.put_contexts([context])
        if search_index is not None:
            await search_index.index([context])
        if supersession is not None and olds:
            await supersession.close(olds, context)
        stored.append(context.id)
    return stored
