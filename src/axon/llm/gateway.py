"""The gateway: the `LLM` port over every configured provider.

One request goes: resolve the model to a route (primary, then fallbacks); for
each target in turn, pass its circuit breaker and rate limiter, call it with a
deadline, retry retryable failures with backoff, and fall back to the next
target when it gives up. A stream commits to a target at its first token:
nothing is retried or re-routed after that, a later failure surfaces as
LLMStreamInterrupted. Usage is measured, priced and totalled per workspace.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncGenerator, AsyncIterator, Awaitable, Callable, Mapping
from typing import Any, TypeVar

import anyio

from axon.errors import AxonError
from axon.llm.accounting import UsageLedger
from axon.llm.breaker import CircuitBreaker
from axon.llm.errors import (
    CircuitOpen,
    LLMAuthError,
    LLMError,
    LLMRateLimited,
    LLMRejected,
    LLMStreamInterrupted,
    LLMTimeout,
    LLMUnavailable,
    retry_after_header,
)
from axon.llm.failures import BREAKER_NEUTRAL, FailureKind, ProviderFailure
from axon.llm.provider import ChatProvider, Reply
from axon.llm.response_cache import ResponseCache, cacheable
from axon.llm.retry import RetryPolicy
from axon.llm.routing import ModelRouter, Route, Target
from axon.llm.throttle import Throttle
from axon.llm.types import ChatChunk, ChatRequest, ChatResult, Usage
from axon.metrics import LLM_DURATION

log = logging.getLogger("axon.llm")
T = TypeVar("T")
Opened = tuple[AsyncGenerator[ChatChunk, None], ChatChunk]
# Errors that make the gateway try the next target of the route.
_TARGET_ERRORS = (LLMError, CircuitOpen, LLMRateLimited)


class ProviderPool:
    """Provider adapters built on first use, so unused SDKs are never imported."""

    def __init__(self, factories: Mapping[str, Callable[[], ChatProvider]]) -> None:
        self._factories = dict(factories)
        self._built: dict[str, ChatProvider] = {}

    def get(self, name: str) -> ChatProvider:
        if name not in self._built:
            self._built[name] = self._factories[name]()
        return self._built[name]

    async def aclose(self) -> None:
        built, self._built = self._built, {}
        for provider in built.values():
            await provider.aclose()


def to_error(target: Target, failure: ProviderFailure) -> AxonError:
    """The API error for a target that failed for good."""
    where = f"{target}: {failure.message}"
    if failure.kind is FailureKind.AUTH:
        return LLMAuthError(f"{target.provider} refused the credentials ({where})")
    if failure.kind is FailureKind.TIMEOUT:
        return LLMTimeout(f"{target.provider} did not answer in time ({where})")
    if failure.kind is FailureKind.REJECTED:
        return LLMRejected(f"{target.provider} rejected the request ({where})")
    return LLMUnavailable(
        f"{target.provider} is unavailable ({where})",
        headers=retry_after_header(failure.retry_after),
    )


def _combined(errors: list[tuple[Target, AxonError]]) -> AxonError:
    """One error for a route where every target failed: the primary's, listing all."""
    if len(errors) == 1:
        return errors[0][1]
    if all(isinstance(err, CircuitOpen) for _, err in errors):
        soonest = min(int(err.headers.get("Retry-After", "1")) for _, err in errors)
        return CircuitOpen(
            "every configured provider is failing; calls are paused",
            details=[{"field": "model", "message": f"{t}: {e.message}"} for t, e in errors],
            headers=retry_after_header(soonest),
        )
    first = errors[0][1]
    return type(first)(
        first.message,
        details=[{"field": "model", "message": f"{t}: {e.message}"} for t, e in errors],
        code=first.code,
        status=first.status,
        headers=first.headers,
    )


async def _close_quietly(chunks: AsyncGenerator[ChatChunk, None]) -> None:
    # Shielded: a cancelled request must still close its upstream connection.
    with anyio.CancelScope(shield=True):
        await chunks.aclose()


def _observe(provider: str, outcome: str, started: float) -> None:
    """Outcomes: ok, error (no target answered), interrupted (failed mid-stream),
    cancelled (the caller left mid-stream)."""
    LLM_DURATION.labels(provider, outcome).observe(time.perf_counter() - started)


def _reservation(request: ChatRequest) -> int:
    # A cheap token estimate for the limiter (about 4 characters per token); the real
    # count settles the bucket afterwards.
    return sum(len(m.content) for m in request.messages) // 4 + (request.max_tokens or 0)


class Gateway:
    def __init__(
        self,
        router: ModelRouter,
        providers: ProviderPool,
        *,
        policy: RetryPolicy,
        breakers: Mapping[str, CircuitBreaker],
        throttles: Mapping[str, Throttle],
        ledger: UsageLedger,
        total_timeout: float,
        cache: ResponseCache | None = None,
    ) -> None:
        self._router = router
        self._providers = providers
        self._policy = policy
        self._breakers = dict(breakers)
        self._throttles = dict(throttles)
        self._ledger = ledger
        self._total_timeout = total_timeout
        self._cache = cache

    @property
    def provider(self) -> str:
        return self._router.default.provider

    def status(self) -> dict[str, Any]:
        """Default model, fallbacks and breaker states, for the API and logs."""
        return {
            "provider": self._router.default.provider,
            "model": str(self._router.default),
            "fallbacks": [str(t) for t in self._router.fallbacks],
            "breakers": {name: str(b.state) for name, b in sorted(self._breakers.items())},
        }

    async def check_budget(self, request: ChatRequest) -> None:
        """Raise BudgetExceeded (402) if the request's API key has spent its budget and
        the request would reach a provider (context-only answers cost nothing)."""
        if self._router.resolve(request.model).primary.provider != "none":
            await self._ledger.check_budget(request)

    def provider_for(self, model: str | None) -> str:
        """Who would answer `model`; raises InvalidInput (field `model`) if nobody can."""
        return self._router.resolve(model).primary.provider

    # -- one target: breaker, limiter, deadline, retries ------------------------------
    async def _call(
        self, target: Target, op: Callable[[ChatProvider, Target], Awaitable[T]], tokens: int
    ) -> T:
        breaker = self._breakers[target.provider]
        throttle = self._throttles.get(target.provider)
        retries = 0
        while True:
            breaker.before_call()
            try:
                if throttle is not None:
                    await throttle.acquire(tokens)
                async with asyncio.timeout(self._total_timeout):
                    result = await op(self._providers.get(target.provider), target)
            except TimeoutError:
                failure = ProviderFailure(
                    FailureKind.TIMEOUT, f"no answer within {self._total_timeout:g}s"
                )
            except ProviderFailure as exc:
                failure = exc
            except BaseException:
                breaker.on_abandon()
                raise
            else:
                breaker.on_success()
                return result
            if failure.kind in BREAKER_NEUTRAL:
                breaker.on_abandon()
            else:
                breaker.on_failure()
            delay = self._policy.delay(retries, failure)
            if delay is None:
                raise to_error(target, failure) from failure
            log.warning(
                "%s failed (%s), retry %d in %.2fs", target, failure.message, retries + 1, delay
            )
            retries += 1
            await asyncio.sleep(delay)

    async def _run(
        self,
        route: Route,
        request: ChatRequest,
        op: Callable[[ChatProvider, Target], Awaitable[T]],
    ) -> tuple[Target, T]:
        """Try each target of the route in turn; raise the combined error if all fail."""
        errors: list[tuple[Target, AxonError]] = []
        tokens = _reservation(request)
        started = time.perf_counter()
        for target in route.candidates:
            try:
                return target, await self._call(target, op, tokens)
            except _TARGET_ERRORS as exc:
                errors.append((target, exc))
                if len(errors) < len(route.candidates):
                    log.warning("%s gave up (%s); falling back", target, exc.message)
        self._ledger.record(request, route.primary.provider, route.primary.model, None, failed=True)
        _observe(route.primary.provider, "error", started)
        raise _combined(errors)

    def _settle(self, target: Target, request: ChatRequest, usage: Usage) -> None:
        throttle = self._throttles.get(target.provider)
        if throttle is not None:
            throttle.settle(_reservation(request), usage.input_tokens + usage.output_tokens)

    # -- the LLM port --------------------------------------------------------------
    async def complete(self, request: ChatRequest) -> ChatResult:
        route = self._router.resolve(request.model)
        if route.primary.provider == "none":
            return ChatResult(text="", finish_reason="context_only", provider="none", model="none")
        use_cache = self._cache is not None and cacheable(request)
        if self._cache is not None and use_cache:
            hit = await self._cache.get(route.primary, request)
            if hit is not None:
                self._ledger.record(request, hit.provider, hit.model, None, cached=True)
                return hit

        await self._ledger.check_budget(request)

        async def op(provider: ChatProvider, target: Target) -> Reply:
            return await provider.complete(target.model, request)

        started = time.perf_counter()
        target, reply = await self._run(route, request, op)
        _observe(target.provider, "ok", started)
        usage = self._ledger.measure(
            target.provider, target.model, request.messages, reply.usage, reply.text
        )
        self._ledger.record(request, target.provider, target.model, usage)
        self._settle(target, request, usage)
        result = ChatResult(
            reply.text,
            reply.finish_reason,
            target.provider,
            target.model,
            usage,
            tool_calls=reply.tool_calls,
        )
        if self._cache is not None and use_cache and target == route.primary:
            await self._cache.put(target, request, result)
        return result

    async def stream(self, request: ChatRequest) -> AsyncIterator[ChatChunk]:
        route = self._router.resolve(request.model)
        if route.primary.provider == "none":
            yield ChatChunk(
                finish_reason="context_only", usage=Usage(), provider="none", model="none"
            )
            return

        await self._ledger.check_budget(request)

        async def open_stream(provider: ChatProvider, target: Target) -> Opened:
            chunks = provider.stream(target.model, request)
            try:
                # Role-only and empty deltas do not commit the stream to this target.
                while True:
                    chunk = await anext(chunks)
                    if chunk.delta or chunk.tool_calls or chunk.finish_reason is not None:
                        return chunks, chunk
            except StopAsyncIteration:
                await _close_quietly(chunks)
                raise ProviderFailure(FailureKind.PROTOCOL, "empty stream") from None
            except BaseException:
                await _close_quietly(chunks)
                raise

        started = time.perf_counter()
        target, (chunks, chunk) = await self._run(route, request, open_stream)
        parts: list[str] = []
        try:
            while chunk.finish_reason is None:
                parts.append(chunk.delta)
                yield chunk
                chunk = await anext(chunks)
        except (ProviderFailure, StopAsyncIteration) as exc:
            failure = (
                exc
                if isinstance(exc, ProviderFailure)
                else ProviderFailure(FailureKind.PROTOCOL, "the stream ended early")
            )
            self._breakers[target.provider].on_failure()
            self._record_partial(target, request, parts, failed=True)
            _observe(target.provider, "interrupted", started)
            raise LLMStreamInterrupted(
                f"{target} failed mid-answer: {failure.message}",
                details=[{"field": "model", "message": str(target)}],
            ) from exc
        except BaseException:
            # The caller went away (disconnect, cancel): the tokens were still spent.
            self._record_partial(target, request, parts, failed=False)
            _observe(target.provider, "cancelled", started)
            raise
        finally:
            await _close_quietly(chunks)
        usage = self._ledger.measure(
            target.provider, target.model, request.messages, chunk.usage, "".join(parts)
        )
        self._ledger.record(request, target.provider, target.model, usage)
        self._settle(target, request, usage)
        _observe(target.provider, "ok", started)
        yield ChatChunk(
            finish_reason=chunk.finish_reason,
            usage=usage,
            provider=target.provider,
            model=target.model,
        )

    def _record_partial(
        self, target: Target, request: ChatRequest, parts: list[str], *, failed: bool
    ) -> None:
        usage = self._ledger.measure(
            target.provider, target.model, request.messages, None, "".join(parts)
        )
        self._ledger.record(request, target.provider, target.model, usage, failed=failed)

    async def aclose(self) -> None:
        await self._providers.aclose()
