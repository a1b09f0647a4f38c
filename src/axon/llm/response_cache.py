"""Cache of whole answers to identical non-streamed requests at temperature 0.

Only deterministic requests are cached: same provider, model, limit and messages
(hashed) give the same key. Entries expire after LLM_CACHE_TTL seconds.
"""

from __future__ import annotations

import json

from axon.llm.routing import Target
from axon.llm.types import ChatRequest, ChatResult, Usage
from axon.models import content_hash
from axon.ports import Cache

KIND = "llm"


def cacheable(request: ChatRequest) -> bool:
    # Wire extras (tools, formats, images) are not part of the key, so never cached.
    return request.temperature == 0 and request.wire_messages is None and not request.extra


def cache_key(target: Target, request: ChatRequest) -> str:
    messages = [[m.role, m.content] for m in request.messages]
    return content_hash(json.dumps([str(target), request.max_tokens, messages]))


class ResponseCache:
    def __init__(self, cache: Cache, ttl_seconds: float) -> None:
        self._cache = cache
        self._ttl = ttl_seconds

    async def get(self, target: Target, request: ChatRequest) -> ChatResult | None:
        raw = await self._cache.get(KIND, cache_key(target, request))
        if raw is None:
            return None
        data = json.loads(raw)
        return ChatResult(
            text=data["text"],
            finish_reason=data["finishReason"],
            provider=target.provider,
            model=target.model,
            usage=Usage(),
            cached=True,
        )

    async def put(self, target: Target, request: ChatRequest, result: ChatResult) -> None:
        value = json.dumps({"text": result.text, "finishReason": result.finish_reason})
        await self._cache.set(KIND, cache_key(target, request), value.encode(), self._ttl)
