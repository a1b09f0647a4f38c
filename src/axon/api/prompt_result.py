"""What `POST /api/v1/prompts/process` answers, as models, built from the pipeline's run.

The pipeline hands back its typed stage outputs (`Prepared`, `Answer`,
`PostProcessed`); shaping them for the wire is the API's job. The JSON answer
and the `context` server-sent event share `ContextView`.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

from axon.models import CamelModel
from axon.pipeline import Answer, Prepared
from axon.pipeline.orchestrator import CONTEXT_ONLY, token_usage
from axon.pipeline.postprocess import Action, PostProcessed, Quality
from axon.pipeline.types import Analysis, Candidate, ContextReport, Degradation, Strategy


class ContextView(CamelModel):
    report: ContextReport = Field(description="what was included, truncated or dropped, and why")
    items: list[Candidate] = Field(description="the context in the prompt, best first")


class ContextEvent(ContextView):
    """The `context` server-sent event."""

    request_id: str
    interaction_id: str
    degraded: list[Degradation] = Field(description="stages that failed and were skipped")


class PromptMessage(BaseModel):
    role: str
    content: str


class PromptView(CamelModel):
    system: str
    messages: list[PromptMessage]
    tokens: int
    strategy: Strategy


class ResponseText(CamelModel):
    text: str
    finish_reason: str


class TokenUsage(CamelModel):
    prompt_tokens: int
    context_tokens: int
    completion_tokens: int
    total_tokens: int
    estimated: bool = Field(description="counted locally, not reported by the provider")


class PromptResult(CamelModel):
    request_id: str
    interaction_id: str
    workspace_id: str
    workspace_created: bool
    mode: Literal["answer", "context_only"]
    provider: str
    model: str
    analysis: Analysis
    context: ContextView
    prompt: PromptView
    response: ResponseText | None = Field(description="null in context-only mode")
    quality: Quality
    actions: list[Action]
    usage: TokenUsage
    latency: dict[str, float] = Field(description="milliseconds per stage, and `total`")
    degraded: list[Degradation] = Field(description="stages that failed and were skipped")


def context_view(run: Prepared) -> ContextView:
    return ContextView(report=run.context.report, items=run.context.items)


def context_event(run: Prepared) -> ContextEvent:
    return ContextEvent(
        request_id=run.request_id,
        interaction_id=run.interaction_id,
        report=run.context.report,
        items=run.context.items,
        degraded=run.degraded,
    )


def prompt_result(run: Prepared, answer: Answer, post: PostProcessed) -> PromptResult:
    usage = token_usage(run, answer)
    return PromptResult(
        request_id=run.request_id,
        interaction_id=run.interaction_id,
        workspace_id=run.collected.workspace.id,
        workspace_created=run.collected.workspace_created,
        mode=CONTEXT_ONLY if answer.text is None else "answer",
        provider=answer.provider,
        model=answer.model or run.collected.model,
        analysis=run.analysis,
        context=context_view(run),
        prompt=PromptView(
            system=run.prompt.system,
            messages=[PromptMessage(role=m.role, content=m.content) for m in run.prompt.messages],
            tokens=run.prompt.tokens,
            strategy=run.prompt.strategy,
        ),
        response=None
        if answer.text is None
        else ResponseText(text=answer.text, finish_reason=answer.finish_reason),
        quality=post.quality,
        actions=post.actions,
        usage=TokenUsage(
            prompt_tokens=usage["promptTokens"],
            context_tokens=usage["contextTokens"],
            completion_tokens=usage["completionTokens"],
            total_tokens=usage["totalTokens"],
            estimated=answer.usage.estimated or answer.text is None,
        ),
        latency=run.latency,
        degraded=run.degraded,
    )
