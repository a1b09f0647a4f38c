"""The prompt pipeline, stage by stage, for the API and the CLI.

    collect -> analyze -> retrieve -> synthesize -> inject -> LLM -> post-process

`prepare` runs everything before the model and times each stage; `complete`
and `stream` call the model; `finish` post-processes, stores the interaction
and schedules the learning work (usage counts, knowledge capture) in the
background. Retrieval down degrades the answer instead of failing it: an answer
without context, flagged in `degraded`. A model failing before its first token
is the gateway's API error, stored as a failed interaction (or, with
AXON_LLM_ERRORS=degrade, a context-only answer flagged the same way).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncGenerator, Iterator, Mapping, Sequence
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

from axon.errors import AxonError
from axon.evolution.conversation import prompt_digest
from axon.indexing.git_history import WorkingDiff, working_diff
from axon.llm.types import ChatChunk, ChatRequest, Usage
from axon.logs import request_id_var
from axon.metrics import RETRIEVAL_DURATION
from axon.models import Context, ContextType, Interaction, new_id
from axon.pipeline.analysis_cache import analyze_cached
from axon.pipeline.analyzer import Analyzer
from axon.pipeline.collector import CollectedPrompt, Collector, PromptRequest
from axon.pipeline.injector import InjectedPrompt, Injector
from axon.pipeline.postprocess import PostProcessed, PostProcessor, store_captures
from axon.pipeline.synthesizer import (
    Synthesizer,
    budgeted_non_code_types,
    candidates_from_hits,
    candidates_from_memory,
    candidates_from_request,
    diff_candidate,
)
from axon.pipeline.types import Analysis, Degradation, SynthesizedContext, TaskType
from axon.pipeline.usage import UsageRecorder
from axon.pipeline.windows import DEFAULT_MODEL
from axon.ports import SearchHit, SearchRequest
from axon.retrieval import MAX_QUERY_CHARS
from axon.retrieval.context_cache import ContextCache
from axon.security.principal import FULL_ACCESS, Principal
from axon.tokens import count_tokens

if TYPE_CHECKING:
    from axon.services import Services

log = logging.getLogger("axon.pipeline")

RETRIEVAL_LIMIT = 20
NON_CODE_LIMIT = 12  # extra docs/architecture/error candidates beside the main hits
SYSTEM_ALLOWANCE = 400  # the system prompt and reference labels, reserved before budgeting
CONTEXT_ONLY = "context_only"


@contextmanager
def timed(latency: dict[str, float], name: str) -> Iterator[None]:
    """Record how long the block took, in milliseconds, under `name`."""
    began = time.perf_counter()
    try:
        yield
    finally:
        latency[name] = round((time.perf_counter() - began) * 1000, 3)


@dataclass
class Prepared:
    """Everything known before the model is called."""

    request_id: str
    interaction_id: str
    collected: CollectedPrompt
    analysis: Analysis
    context: SynthesizedContext
    prompt: InjectedPrompt
    latency: dict[str, float] = field(default_factory=dict)
    degraded: list[Degradation] = field(default_factory=list)
    started: float = field(default_factory=time.perf_counter)
    principal: Principal = FULL_ACCESS  # who asked: what it may see, whose budget it spends

    def stage(self, name: str) -> AbstractContextManager[None]:
        return timed(self.latency, name)


@dataclass
class Answer:
    text: str | None  # None: no model was called (context-only)
    finish_reason: str
    provider: str
    model: str | None
    usage: Usage = field(default_factory=Usage)
    # Set when a stream broke after text was sent: the partial answer is kept, and the
    # client gets an `error` event instead of `done`.
    error: AxonError | None = None
    tool_calls: tuple[Mapping[str, Any], ...] = ()  # OpenAI-wire tool calls, as sent


def token_usage(run: Prepared, answer: Answer) -> dict[str, int]:
    """Tokens of a finished run: the provider's counts when it gave them, else ours."""
    prompt_tokens = answer.usage.input_tokens or run.prompt.tokens
    completion = answer.usage.output_tokens or (count_tokens(answer.text) if answer.text else 0)
    return {
        "promptTokens": prompt_tokens,
        "contextTokens": run.context.report.used_tokens,
        "completionTokens": completion,
        "totalTokens": prompt_tokens + completion,
    }


class Pipeline:
    def __init__(self, services: Services) -> None:
        self.services = services
        settings = services.settings
        self.collector = Collector(
            services.store,
            max_prompt_chars=settings.max_prompt_chars,
            max_token_limit=settings.max_token_limit,
            default_model=settings.default_model or DEFAULT_MODEL,
            auto_create=settings.auto_create_ids,
        )
        self.analyzer = Analyzer()
        self.synthesizer = Synthesizer()
        self.injector = Injector()
        self.postprocessor = PostProcessor()
        self._background: set[asyncio.Task[Any]] = set()
        self.usage = UsageRecorder(services.store, written=self._usage_written)

    def _usage_written(self, uses: Mapping[str, int], at: datetime) -> None:
        """The retriever's cache of parsed contexts learns the usage this process
        recorded (the retriever is wired after the pipeline, so it is looked up here)."""
        retriever = getattr(self.services, "retriever", None)
        cache = getattr(retriever, "contexts", None)
        if isinstance(cache, ContextCache):
            cache.used(uses, at)

    # -- before the model ------------------------------------------------------------
    async def prepare(
        self,
        request: PromptRequest,
        principal: Principal = FULL_ACCESS,
        sent_prompts: Sequence[str] = (),
    ) -> Prepared:
        """Everything up to the model. `sent_prompts`: earlier user turns the client
        sends the model itself (a compatible endpoint's messages), not recalled again."""
        started = time.perf_counter()
        latency: dict[str, float] = {}
        degraded: list[Degradation] = []
        with timed(latency, "collect"):
            self._check_model(request.model)
            # The collector checks access before it may create the workspace.
            collected = await self.collector.collect(request, principal)
            await self._check_budget(request, principal)
        with timed(latency, "analyze"):
            analysis = await analyze_cached(
                self.analyzer,
                self.services.cache,  # read per call: Redis replaces it after start-up
                self.services.settings.cache_ttl_analyses,
                request.prompt,
                request.metadata,
                collected.workspace.type,
                request.task_type,
            )
        with timed(latency, "retrieve"):
            diff = asyncio.create_task(self._working_diff(collected, analysis))
            hits = await self._retrieve(collected, analysis, degraded, principal)
            sent = [*sent_prompts, *(t.content for t in request.conversation if t.role == "user")]
            memory = await self._recall(collected, sent, degraded)
            changes = await diff
        RETRIEVAL_DURATION.observe(latency["retrieve"] / 1000)
        with timed(latency, "synthesize"):
            context = self._synthesize(collected, analysis, hits, memory, changes)
        with timed(latency, "inject"):
            strategy = self.injector.strategy_for(analysis.task_type, request.strategy)
            prompt = self.injector.inject(
                request.prompt, context, strategy, self._prompt_limit(collected)
            )
        return Prepared(
            request_id=request_id_var.get() or new_id("req"),
            interaction_id=new_id("int"),
            collected=collected,
            analysis=analysis,
            context=context,
            prompt=prompt,
            latency=latency,
            degraded=degraded,
            started=started,
            principal=principal,
        )

    def _check_model(self, model: str | None) -> None:
        """Reject a model nobody can serve before any work (and before a stream starts).
        Gateways that route between providers offer `provider_for`, which raises
        InvalidInput on field `model`; the `none` provider accepts anything."""
        resolve = getattr(self.services.llm, "provider_for", None)
        if model is not None and callable(resolve):
            resolve(model)

    async def _check_budget(self, request: PromptRequest, principal: Principal) -> None:
        """A key over its LLM budget is refused before any work (and before a stream
        starts), unless the answer would be context-only and so cost nothing."""
        check = getattr(self.services.llm, "check_budget", None)
        if principal.budget_usd is None or not callable(check):
            return
        probe = ChatRequest(
            messages=(),
            model=request.model,
            api_key_id=principal.key_id,
            budget_usd=principal.budget_usd,
        )
        await check(probe)

    async def _retrieve(
        self,
        collected: CollectedPrompt,
        analysis: Analysis,
        degraded: list[Degradation],
        principal: Principal,
    ) -> list[SearchHit]:
        request = collected.request
        query = request.prompt
        if request.metadata.file:
            query += f"\n{request.metadata.file}"
        # Code dominates a plain search; the task's budget also reserves room for docs,
        # architecture and errors, so the search also ranks a few of those on their own.
        other_types = budgeted_non_code_types(analysis.task_type)
        search = SearchRequest(
            query=query[:MAX_QUERY_CHARS],
            workspace_id=collected.workspace.id,
            limit=RETRIEVAL_LIMIT,
            reserve_types=other_types or None,
            reserve_limit=NON_CODE_LIMIT if other_types else 0,
            workspace=collected.workspace,
            principal=principal,
            task_type=analysis.task_type,
        )
        # On timeout the search is not cancelled: a cold index (loaded on first use) keeps
        # loading in the background, so the next prompt finds it warm.
        search_task = asyncio.create_task(self.services.retriever.search(search))
        try:
            done, _ = await asyncio.wait(
                {search_task}, timeout=self.services.settings.retrieval_timeout_seconds
            )
            if not done:
                self._keep(search_task)
                raise TimeoutError
            return search_task.result()
        except Exception as exc:
            message = "timed out" if isinstance(exc, TimeoutError) else str(exc)
            message = message or type(exc).__name__
            log.warning("retrieval failed, answering without context: %s", message)
            degraded.append(
                Degradation(stage="retrieve", message=f"retrieval failed ({message}); no context")
            )
            return []

    async def _working_diff(
        self, collected: CollectedPrompt, analysis: Analysis
    ) -> WorkingDiff | None:
        """A code review's subject: the workspace's uncommitted changes, when its folder
        is a git work tree (read off the loop, within the retrieval timeout)."""
        settings = self.services.settings
        path = collected.workspace.path
        if (
            analysis.task_type is not TaskType.CODE_REVIEW
            or not path
            or settings.git_diff_max_bytes <= 0
        ):
            return None
        timeout = settings.retrieval_timeout_seconds
        try:
            return await asyncio.wait_for(
                asyncio.to_thread(working_diff, path, settings.git_diff_max_bytes, timeout),
                timeout,
            )
        except TimeoutError:
            log.warning("reading the working-tree diff of %s timed out", path)
            return None

    async def _recall(
        self, collected: CollectedPrompt, sent: Sequence[str], degraded: list[Degradation]
    ) -> list[Context]:
        """The stored turns of the request's conversation (none without its id)."""
        conversation_id = collected.request.conversation_id
        if conversation_id is None:
            return []
        try:
            return await self.services.conversations.recall(
                collected.workspace.id, conversation_id, {prompt_digest(p) for p in sent}
            )
        except Exception as exc:
            log.warning("recalling conversation %s failed: %s", conversation_id, exc)
            degraded.append(
                Degradation(stage="retrieve", message="conversation memory unavailable")
            )
            return []

    def _prompt_limit(self, collected: CollectedPrompt) -> int:
        reserve = self.services.settings.response_reserve_tokens
        return max(collected.window - reserve, collected.window // 4)

    def _synthesize(
        self,
        collected: CollectedPrompt,
        analysis: Analysis,
        hits: list[SearchHit],
        memory: list[Context],
        changes: WorkingDiff | None = None,
    ) -> SynthesizedContext:
        request = collected.request
        # Room the window leaves once the request, the answer and the system prompt fit.
        prompt_tokens = count_tokens(request.prompt)
        room = self._prompt_limit(collected) - prompt_tokens - SYSTEM_ALLOWANCE
        budget = request.budget or self.services.settings.max_token_limit
        # Stored turns reach a prompt through their own conversation only (`memory`):
        # another conversation's turns found by search are not this one's context.
        hits = [h for h in hits if h.context.type is not ContextType.CONVERSATION]
        candidates = [
            *candidates_from_request(request),
            *([diff_candidate(changes)] if changes is not None else []),
            *candidates_from_memory(memory),
            *candidates_from_hits(hits),
        ]
        return self.synthesizer.synthesize(
            analysis,
            candidates,
            max(0, min(budget, room)),
            model=collected.model,
            window=collected.window,
        )

    # -- the model ---------------------------------------------------------------------
    def chat_request(self, run: Prepared) -> ChatRequest:
        """The model request for a prepared prompt; the compatible endpoints adapt it
        (the client's own messages, limits and fields) and hand it back to `complete` or
        `stream`."""
        return ChatRequest(
            messages=run.prompt.chat(),
            model=run.collected.request.model,
            max_tokens=self.services.settings.response_reserve_tokens,
            workspace_id=run.collected.workspace.id,
            request_id=run.request_id,
            api_key_id=run.principal.key_id,
            budget_usd=run.principal.budget_usd,
        )

    async def complete(self, run: Prepared, request: ChatRequest | None = None) -> Answer:
        with run.stage("llm"):
            try:
                result = await self.services.llm.complete(request or self.chat_request(run))
            except Exception as exc:
                return self._llm_failed(run, exc)
        if result.finish_reason == CONTEXT_ONLY:
            return Answer(None, CONTEXT_ONLY, result.provider, None)
        return Answer(
            result.text,
            result.finish_reason,
            result.provider,
            result.model,
            result.usage,
            tool_calls=result.tool_calls,
        )

    def _llm_failed(self, run: Prepared, exc: Exception) -> Answer:
        """The model failed before answering. A wrong request (e.g. the model) is the
        caller's error; otherwise AXON_LLM_ERRORS decides: `fail` answers with the
        gateway's error (LLM_AUTH 502, LLM_TIMEOUT 504, LLM_CIRCUIT_OPEN 503, ...), and
        `degrade` answers context-only with the failure listed under `degraded`."""
        if isinstance(exc, AxonError) and exc.status < 500:
            raise exc
        if not isinstance(exc, AxonError):
            log.error("LLM call failed: %s", exc, exc_info=exc)
            exc = AxonError("the model call failed", code="LLM_UNAVAILABLE", status=502)
        if self.services.settings.llm_errors == "fail":
            return Answer(None, "error", self.services.llm.provider, None, error=exc)
        message = exc.message
        run.degraded.append(Degradation(stage="llm", message=f"model call failed: {message}"))
        return Answer(None, "error", self.services.llm.provider, None)

    async def stream(
        self, run: Prepared, request: ChatRequest | None = None
    ) -> AsyncGenerator[str | ChatChunk | Answer, None]:
        """Text deltas as they arrive (and chunks of tool-call deltas, which only requests
        with OpenAI-wire extras produce), then the final Answer. Closing this iterator (the
        client went away) closes the provider stream, which cancels the upstream call."""
        began = time.perf_counter()
        parts: list[str] = []
        finish, usage, provider, model = "stop", Usage(), self.services.llm.provider, None
        upstream = self.services.llm.stream(request or self.chat_request(run))
        try:
            async for chunk in upstream:
                if chunk.delta:
                    parts.append(chunk.delta)
                    yield chunk.delta
                if chunk.tool_calls:
                    parts.append("")  # something was sent: a later failure is mid-answer
                    yield chunk
                finish = chunk.finish_reason or finish
                usage = chunk.usage or usage
                provider = chunk.provider or provider
                model = chunk.model or model
        except Exception as exc:
            run.latency["llm"] = round((time.perf_counter() - began) * 1000, 3)
            if not parts:  # nothing sent yet: degrade like a non-streamed answer
                yield self._llm_failed(run, exc)
                return
            if not isinstance(exc, AxonError):
                log.error("LLM stream failed: %s", exc, exc_info=exc)
                exc = AxonError("the model stream failed", code="LLM_STREAM_FAILED", status=502)
            yield Answer("".join(parts), "error", provider, model, usage, error=exc)
            return
        finally:
            close = getattr(upstream, "aclose", None)
            if close is not None:
                await close()
        run.latency["llm"] = round((time.perf_counter() - began) * 1000, 3)
        if finish == CONTEXT_ONLY and not parts:
            yield Answer(None, CONTEXT_ONLY, provider, None)
            return
        yield Answer("".join(parts), finish, provider, model, usage)

    # -- after the model -----------------------------------------------------------------
    async def finish(self, run: Prepared, answer: Answer) -> PostProcessed:
        with run.stage("postprocess"):
            post = self.postprocessor.process(
                run.analysis, run.collected.request.prompt, answer.text, answer.finish_reason
            )
        run.latency["total"] = round((time.perf_counter() - run.started) * 1000, 3)
        interaction = self._interaction(run, answer)
        await self.services.store.add_interaction(interaction)
        await self._remember(run, answer)
        self._learn(run, post)
        return post

    async def _remember(self, run: Prepared, answer: Answer) -> None:
        """Store the turn in its conversation's memory before the answer is final, so
        the next turn recalls it (a failed turn is not remembered)."""
        request = run.collected.request
        if request.conversation_id is None or answer.error is not None:
            return
        try:
            await self.services.conversations.remember(
                run.collected.workspace.id,
                request.conversation_id,
                request.prompt,
                answer.text,
                run.interaction_id,
            )
        except Exception as exc:
            log.warning("remembering turn %s failed: %s", run.interaction_id, exc)

    def _interaction(self, run: Prepared, answer: Answer) -> Interaction:
        request = run.collected.request
        outcome = "ok" if not run.degraded else "degraded"
        if answer.text is None and not run.degraded:
            outcome = CONTEXT_ONLY
        if answer.error is not None:
            outcome = "error"
        return Interaction(
            id=run.interaction_id,
            workspace_id=run.collected.workspace.id,
            prompt=request.prompt,
            source=request.source.value,
            analysis=run.analysis.dump(),
            context_ids=[c.id for c in run.context.items if c.origin == "retrieval"],
            model=answer.model or run.collected.model,
            response=answer.text,
            outcome=outcome,
            tokens=token_usage(run, answer),
            latency_ms=dict(run.latency),
            metadata={
                "requestId": run.request_id,
                "provider": answer.provider,
                "finishReason": answer.finish_reason,
                "degraded": [d.dump() for d in run.degraded],
            },
        )

    def _learn(self, run: Prepared, post: PostProcessed) -> None:
        self.usage.add(c.id for c in run.context.items if c.origin == "retrieval")
        if post.captures:
            self._keep(asyncio.create_task(self._capture(run, post), name="axon-capture"))

    def _keep(self, task: asyncio.Task[Any]) -> None:
        """Hold a reference to background work until it ends (drained on shutdown)."""
        self._background.add(task)
        task.add_done_callback(self._background.discard)
        # A late failure is already reported (or irrelevant); don't warn it was unseen.
        task.add_done_callback(lambda t: t.cancelled() or t.exception())

    async def _capture(self, run: Prepared, post: PostProcessed) -> None:
        token = request_id_var.set(run.request_id)
        try:
            await store_captures(
                self.services.store,
                self.services.search_index,
                run.collected.workspace.id,
                run.interaction_id,
                post.captures,
                self.services.consolidator,
                self.services.supersession,
            )
        except Exception as exc:
            log.warning("capturing knowledge from %s failed: %s", run.interaction_id, exc)
        finally:
            request_id_var.reset(token)

    async def drain(self) -> None:
        """Finish background learning: captures, pending usage counts (tests, shutdown)."""
        while self._background:
            await asyncio.gather(*list(self._background), return_exceptions=True)
        await self.usage.flush()

    async def answer(self, run: Prepared) -> tuple[Answer, PostProcessed]:
        """Complete and finish a prepared prompt without streaming. A model failure is
        stored as a failed interaction, then raised as its API error."""
        answer = await self.complete(run)
        post = await self.finish(run, answer)
        if answer.error is not None:
            raise answer.error
        return answer, post
