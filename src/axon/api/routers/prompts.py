"""Prompts: the pipeline over HTTP (JSON or server-sent events) and the history."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from itertools import count
from typing import Annotated

from fastapi import APIRouter, Query
from fastapi.responses import Response

from axon.api.deps import (
    CursorQuery,
    LimitQuery,
    PrincipalDep,
    ServicesDep,
    require_workspace,
    visible_page,
)
from axon.api.errors import error_body
from axon.api.prompt_result import PromptResult, context_event, prompt_result
from axon.api.rendering import model_response, warning_header
from axon.api.responses import InteractionList, errors, event_stream
from axon.api.sse import EventStreamResponse, sse_event
from axon.errors import AxonError
from axon.models import WORKSPACE_ID_PATTERN
from axon.pipeline import Answer, Pipeline, Prepared, PromptRequest

router = APIRouter(prefix="/api/v1/prompts", tags=["prompts"])
log = logging.getLogger("axon.api")


_STREAM_DOC = (
    "With `stream: true`, server-sent events: `analysis`, `context` (ContextEvent), "
    "`token` ({text}) per delta, then `done` (the PromptResult) or `error` (the error body)."
)


@router.post(
    "/process",
    response_model=None,
    responses={
        200: {
            "model": PromptResult,
            "description": "The answer, or with `stream: true` a stream of events",
            "content": event_stream(
                ("analysis", "context", "token", "done", "error"), with_ids=True
            ),
        },
        **errors(402, 404, 502, 503, 504),
    },
    description=_STREAM_DOC,
)
async def process(body: PromptRequest, services: ServicesDep, principal: PrincipalDep) -> Response:
    """Analyse, retrieve, budget and inject context, then answer (or stream) the prompt.

    Validation errors and an unknown workspace are answered before any event is sent.
    """
    pipeline = services.pipeline
    run = await pipeline.prepare(body, principal)
    response: Response
    if not body.stream:
        answer, post = await pipeline.answer(run)
        response = model_response(prompt_result(run, answer, post))
    else:
        response = EventStreamResponse(_events(pipeline, run))
    if run.degraded:
        # The answer is still a 200, but no client should take it for a full one.
        response.headers["Warning"] = warning_header([d.message for d in run.degraded])
    return response


async def _events(pipeline: Pipeline, run: Prepared) -> AsyncIterator[bytes]:
    ids = count(1)
    head = {"requestId": run.request_id, "interactionId": run.interaction_id}
    yield sse_event("analysis", {**head, "analysis": run.analysis.dump()}, next(ids))
    yield sse_event("context", context_event(run).dump(), next(ids))
    answer: Answer | None = None
    try:
        async for part in pipeline.stream(run):
            if isinstance(part, Answer):
                answer = part
            elif isinstance(part, str):
                yield sse_event("token", {"text": part}, next(ids))
        if answer is None:  # the stream always ends with an Answer; guard anyway
            raise RuntimeError("the model stream ended without a result")
        post = await pipeline.finish(run, answer)
        if answer.error is None:
            yield sse_event("done", prompt_result(run, answer, post).dump(), next(ids))
        else:  # broke mid-answer: the partial answer is stored, the client told
            err = answer.error
            yield sse_event("error", error_body(err.status, err.code, err.message), next(ids))
    except AxonError as exc:
        yield sse_event(
            "error", error_body(exc.status, exc.code, exc.message, exc.details), next(ids)
        )
    except Exception as exc:
        log.error("streaming %s failed: %s", run.interaction_id, exc, exc_info=exc)
        body = error_body(500, "INTERNAL_ERROR", "internal error; see the server log")
        yield sse_event("error", body, next(ids))


@router.get("/history", responses=errors(404))
async def history(
    services: ServicesDep,
    principal: PrincipalDep,
    workspace_id: Annotated[
        str | None, Query(alias="workspaceId", pattern=WORKSPACE_ID_PATTERN)
    ] = None,
    limit: LimitQuery = 20,
    cursor: CursorQuery = None,
) -> InteractionList:
    """Processed prompts, newest first, optionally of one workspace."""
    if workspace_id is not None:
        await require_workspace(services, principal, workspace_id)
    page = await visible_page(
        lambda n, after: services.store.list_interactions(workspace_id, n, after),
        lambda i: principal.can_access(i.workspace_id),
        limit,
        cursor,
    )
    return InteractionList(items=page.items, next_cursor=page.next_cursor)
