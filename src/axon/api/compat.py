"""What the OpenAI- and Anthropic-compatible endpoints share.

A client names the workspace in the model (`axon/<workspace>`, optionally
`axon/<workspace>/<provider:model>` to pick the upstream model) or in the
`X-Axon-Workspace` header with any model name. Its last user turn goes through
the pipeline (analyse, retrieve, budget, inject); the conversation before it is
forwarded as the client sent it, since it is already the model's context and
repeating it as references would only double its tokens. The enriched request
then goes through the gateway like any other prompt, and the interaction is
stored, so feedback works on it.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator, Sequence
from dataclasses import dataclass
from typing import Any

from pydantic import ValidationError

from axon.api.rendering import warning_header
from axon.errors import InvalidInput
from axon.evolution.conversation import derive_conversation_id
from axon.llm.types import ChatChunk, ChatMessage, ChatRequest
from axon.models import WORKSPACE_ID_RE
from axon.pipeline import Answer, Pipeline, Prepared, PromptRequest
from axon.pipeline.types import Source
from axon.security.principal import FULL_ACCESS, Principal

WORKSPACE_HEADER = "x-axon-workspace"
INTERACTION_HEADER = "X-Axon-Interaction-Id"
WARNING_HEADER = "Warning"
MODEL_PREFIX = "axon"


@dataclass(frozen=True, slots=True)
class Selection:
    workspace_id: str
    model: str | None  # the upstream model; None: the configured default


def error_responses(model: type[Any], auth: str, invalid: str) -> dict[int | str, dict[str, Any]]:
    """The OpenAPI errors of a compatible route, each in its vendor's shape (`model`);
    `auth` and `invalid` say how that vendor's 401 and 400 read."""
    descriptions = {
        400: invalid,
        401: auth,
        402: "the key's LLM budget is spent",
        403: "the key lacks the scope",
        404: "unknown workspace",
        413: "request body too large",
        415: "body is not JSON",
        429: "rate limited",
        502: "the upstream model failed",
        503: "the upstream model's circuit is open",
        504: "the upstream model timed out",
    }
    return {s: {"model": model, "description": d} for s, d in descriptions.items()}


def select(model: str, header: str | None) -> Selection:
    """The workspace and upstream model a request names (see the module docstring)."""
    workspace: str | None = None
    upstream: str | None = model
    if model == MODEL_PREFIX or model.startswith(MODEL_PREFIX + "/"):
        rest = model[len(MODEL_PREFIX) + 1 :]
        named, _, chosen = rest.partition("/")
        workspace, upstream = named or None, chosen or None
    given = (header or "").strip() or None
    if workspace is not None and given is not None and given != workspace:
        raise InvalidInput.field(
            "model",
            f"the model names workspace '{workspace}' but X-Axon-Workspace says '{given}'",
        )
    workspace = workspace or given
    if workspace is None:
        raise InvalidInput.field(
            "model",
            "name a workspace: model 'axon/<workspace>' (or 'axon/<workspace>/<provider:model>')"
            " or the X-Axon-Workspace header",
        )
    if not WORKSPACE_ID_RE.match(workspace):
        raise InvalidInput.field("model", f"'{workspace}' is not a valid workspace id")
    return Selection(workspace, upstream)


@dataclass(frozen=True, slots=True)
class Conversation:
    """A client's messages as text: its system instructions, the turns before the last
    user turn, that turn (the prompt), and any turns after it (an assistant prefill)."""

    system: list[str]
    before: list[ChatMessage]
    prompt: str
    after: list[ChatMessage]


def split_last_user_turn(
    system: list[str], turns: Sequence[ChatMessage], field: str = "messages"
) -> Conversation:
    last = next((i for i in range(len(turns) - 1, -1, -1) if turns[i].role == "user"), None)
    if last is None:
        raise InvalidInput.field(field, "the messages need at least one user turn")
    prompt = turns[last].content
    if not prompt.strip():
        raise InvalidInput.field(f"{field}.{last}.content", "the last user turn has no text")
    return Conversation(system, list(turns[:last]), prompt, list(turns[last + 1 :]))


async def prepare(
    pipeline: Pipeline,
    selection: Selection,
    conversation: Conversation,
    source: Source,
    principal: Principal = FULL_ACCESS,
) -> Prepared:
    """Run the pipeline up to the model for the client's last user turn, as `principal`
    (its workspaces, tenant and budget). The conversation is remembered under an id
    derived from its opening; the turns the client resends are not recalled again."""
    if pipeline.services.llm.provider_for(selection.model) == "none":
        raise InvalidInput.field(
            "model",
            "Axon has no model configured (set OPENAI_API_KEY, ANTHROPIC_API_KEY, "
            "OPENAI_COMPATIBLE_BASE_URL or OLLAMA_BASE_URL); for context only use the MCP "
            "tool build_context or POST /api/v1/prompts/process",
            code="NO_MODEL_CONFIGURED",
        )
    sent = [m.content for m in conversation.before if m.role == "user"]
    opening = sent[0] if sent else conversation.prompt
    try:
        request = PromptRequest(
            prompt=conversation.prompt,
            workspace_id=selection.workspace_id,
            source=source,
            model=selection.model,
            conversation_id=derive_conversation_id(conversation.system, opening, principal.key_id),
        )
    except ValidationError as exc:
        first = exc.errors()[0]
        raise InvalidInput.field("messages", f"invalid prompt: {first['msg']}") from exc
    return await pipeline.prepare(request, principal, sent)


def enriched_messages(run: Prepared, conversation: Conversation) -> tuple[ChatMessage, ...]:
    """The client's conversation with Axon's system prompt first and the last user turn
    replaced by the enriched one (references included). The turns Axon remembered of
    the conversation that the client no longer sends come before the client's."""
    system = "\n\n".join([run.prompt.system, *conversation.system])
    recalled = run.prompt.messages[:-1]
    return (
        ChatMessage("system", system),
        *recalled,
        *conversation.before,
        ChatMessage("user", enriched_prompt(run)),
        *conversation.after,
    )


def enriched_prompt(run: Prepared) -> str:
    """The request as the injector wrote it: the prompt with its references."""
    return run.prompt.messages[-1].content


def response_headers(run: Prepared) -> dict[str, str]:
    """Axon's headers on a compatible answer: the interaction id (for feedback) and, when
    the pipeline degraded (say retrieval failed, so no context was injected), a
    `Warning`, as on /api/v1/prompts/process: the answer is a 200 but no full one. A
    stream's headers go out before the model answers, so they carry what happened
    before it; a whole answer's also carry a model failure answered context-only."""
    headers = {INTERACTION_HEADER: run.interaction_id}
    if run.degraded:
        headers[WARNING_HEADER] = warning_header([d.message for d in run.degraded])
    return headers


async def first_part(
    pipeline: Pipeline, run: Prepared, parts: AsyncGenerator[str | ChatChunk | Answer, None]
) -> str | ChatChunk | Answer:
    """A stream's first part. A model that fails before answering is stored as failed
    and raised as the HTTP error, before any event is sent."""
    first = await anext(parts)
    if isinstance(first, Answer) and first.error is not None:
        await pipeline.finish(run, first)
        raise first.error
    return first


async def complete(pipeline: Pipeline, run: Prepared, request: ChatRequest) -> Answer:
    """The whole answer, stored; a failed model call is raised as the HTTP error."""
    answer = await pipeline.complete(run, request)
    await pipeline.finish(run, answer)
    if answer.error is not None:
        raise answer.error
    return answer
