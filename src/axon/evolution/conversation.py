"""Conversation memory: the turns of a conversation, remembered by Axon.

A prompt may carry a `conversationId` (the OpenAI- and Anthropic-compatible endpoints
derive one from the messages). Each answered turn is stored as a `conversation`
context of the hybrid tier (metadata `conversationId`, `turn`); the conversation's
later turns recall them into the budget share of conversation context, most recent
first. A conversation longer than `KEEP_TURNS` is condensed: the older turns become
one rolling summary (a context of the same kind, `turn` 0) and are superseded by it,
so they leave recall and stay in the history. Turns expire with the interactions
they came from (`maintenance.cleanup`, AXON_INTERACTION_RETENTION_DAYS).
"""

from __future__ import annotations

import hashlib
from collections.abc import Collection, Sequence
from typing import Any

from axon.evolution.supersede import Supersession
from axon.models import Context, ContextType, Evidence, EvidenceSource, Tier, content_hash, new_id
from axon.ports import ContextFilter, DocumentStore, SearchIndex
from axon.tokens import count_tokens

CONVERSATION_ID_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$"
KEEP_TURNS = 8  # the most recent turns stay whole
CONDENSE_EVERY = 4  # older turns are condensed this many at a time (not on every turn)
MAX_PROMPT_CHARS = 4_000  # of a turn's prompt, then of its answer, as stored
SUMMARY_LINE_CHARS = 300  # of each turn's line in the summary
MAX_SUMMARY_CHARS = 6_000  # the summary keeps its newest lines within this
SUMMARY_TURN = 0
CONVERSATION_SOURCE = "conversation"  # metadata.source of what this module stores
# A stored turn reads "User: <prompt>\n\nAssistant: <answer>".
USER_PREFIX, ASSISTANT_PREFIX = "User: ", "\n\nAssistant: "


def derive_conversation_id(system: Sequence[str], first_user_turn: str, key_id: str | None) -> str:
    """The id of a conversation a client resends whole on every turn (the compatible
    endpoints): its system prompt and first user turn do not change, and the key
    keeps two clients' identical openings apart."""
    digest = hashlib.sha256()
    for part in (key_id or "", *system, first_user_turn):
        digest.update(part.encode("utf-8", "surrogatepass"))
        digest.update(b"\x00")
    return f"auto-{digest.hexdigest()[:32]}"


def prompt_digest(text: str) -> str:
    return content_hash(text.strip())


def _clip(text: str, limit: int) -> str:
    text = text.strip()
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def _line(text: str) -> str:
    return " ".join(text.split())


class ConversationMemory:
    def __init__(
        self, store: DocumentStore, search_index: SearchIndex, supersession: Supersession
    ) -> None:
        self.store = store
        self.search_index = search_index
        self.supersession = supersession

    async def recall(
        self, workspace_id: str, conversation_id: str, sent: Collection[str] = ()
    ) -> list[Context]:
        """The conversation's current memory, summary first, then its turns oldest
        first; turns whose prompt digest is in `sent` (the client sends them itself)
        are left out."""
        found = [
            c
            async for c in self.store.iter_contexts(
                ContextFilter(
                    workspace_id=workspace_id,
                    types=[ContextType.CONVERSATION],
                    conversation_id=conversation_id,
                )
            )
            if c.current and c.metadata.get("promptDigest") not in sent
        ]
        return sorted(found, key=lambda c: (_turn(c), c.created_at))

    async def remember(
        self,
        workspace_id: str,
        conversation_id: str,
        prompt: str,
        answer: str | None,
        interaction_id: str,
    ) -> Context:
        """Store one answered turn; condense the older turns when there are enough."""
        memory = await self.recall(workspace_id, conversation_id)
        number = max((_through(c) for c in memory), default=0) + 1
        reply = _clip(answer, MAX_PROMPT_CHARS) if answer else "(context only, no model answer)"
        text = f"{USER_PREFIX}{_clip(prompt, MAX_PROMPT_CHARS)}{ASSISTANT_PREFIX}{reply}"
        turn = self._context(
            workspace_id,
            text,
            f"conversation turn {number}",
            {
                "conversationId": conversation_id,
                "turn": number,
                "interactionId": interaction_id,
                "promptDigest": prompt_digest(prompt),
            },
        )
        await self.store.put_contexts([turn])
        await self.search_index.index([turn])
        turns = [c for c in memory if _turn(c) != SUMMARY_TURN] + [turn]
        if len(turns) >= KEEP_TURNS + CONDENSE_EVERY:
            summary = next((c for c in memory if _turn(c) == SUMMARY_TURN), None)
            await self._condense(workspace_id, conversation_id, summary, turns[:-KEEP_TURNS])
        return turn

    async def _condense(
        self,
        workspace_id: str,
        conversation_id: str,
        summary: Context | None,
        turns: list[Context],
    ) -> Context:
        """A new rolling summary: the old one's lines, then one line per turn."""
        lines = summary.content.splitlines()[1:] if summary is not None else []
        for turn in turns:
            prompt, _, reply = turn.content.partition(ASSISTANT_PREFIX)
            asked = _line(prompt.removeprefix(USER_PREFIX))
            line = f"- turn {_turn(turn)}: {asked} → {_line(reply)}"
            lines.append(_clip(line, SUMMARY_LINE_CHARS))
        while sum(len(line) + 1 for line in lines) > MAX_SUMMARY_CHARS and len(lines) > 1:
            lines.pop(0)  # the oldest go first
        through = _turn(turns[-1])
        text = "\n".join([f"Earlier in this conversation (turns up to {through}):", *lines])
        olds = [*([summary] if summary else []), *turns]
        fresh = self._context(
            workspace_id,
            text,
            "conversation summary",
            {"conversationId": conversation_id, "turn": SUMMARY_TURN, "through": through},
        ).model_copy(update={"supersedes": [c.id for c in olds]})
        await self.store.put_contexts([fresh])
        await self.search_index.index([fresh])
        await self.supersession.close(olds, fresh)
        return fresh

    @staticmethod
    def _context(workspace_id: str, text: str, title: str, metadata: dict[str, Any]) -> Context:
        return Context(
            id=new_id("ctx"),
            workspace_id=workspace_id,
            tier=Tier.HYBRID,
            type=ContextType.CONVERSATION,
            title=title,
            content=text,
            content_hash=content_hash(text),
            token_count=count_tokens(text),
            evidence=Evidence.prior(EvidenceSource.CONVERSATION),
            metadata={"source": CONVERSATION_SOURCE, **metadata},
        )


def _turn(context: Context) -> int:
    value = context.metadata.get("turn")
    return value if isinstance(value, int) else SUMMARY_TURN


def _through(context: Context) -> int:
    """The last turn a memory covers: its own, or the summary's last."""
    value = context.metadata.get("through", context.metadata.get("turn"))
    return value if isinstance(value, int) else 0
