"""The prompt playground: run a prompt (streamed by the page's script through
POST /api/v1/prompts/process, or answered whole without it), read the context receipt,
and vote on the answer."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Body, Path, Request
from fastapi.responses import HTMLResponse
from pydantic import BaseModel, ValidationError

from axon.api.deps import PrincipalDep, ServicesDep
from axon.api.prompt_result import prompt_result
from axon.api.routers.interactions import feedback as api_feedback
from axon.errors import InvalidInput
from axon.models import ID_PATTERN
from axon.pipeline import PromptRequest
from axon.pipeline.feedback import FeedbackRequest
from axon.pipeline.types import ContextReport, ItemStatus
from axon.services import Services
from axon.ui.charts import stacked
from axon.ui.guard import CsrfChecked, form_fields
from axon.ui.render import environment, page
from axon.workspaces import visible_workspaces

router = APIRouter(prefix="/ui", include_in_schema=False)
RECEIPT_SPAN = 600.0
MAX_LISTED_WORKSPACES = 200
MAX_RECEIPT_ENTRIES = 500


def parsed(model: type[BaseModel], data: dict[str, Any]) -> Any:
    """`data` as `model`, or our 422 naming the first bad field (as the API answers)."""
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        field = ".".join(str(p) for p in first.get("loc", ())) or "body"
        raise InvalidInput.field(field, str(first.get("msg", "invalid value"))) from None


async def receipt_view(services: Services, report: dict[str, Any]) -> dict[str, Any]:
    """The context receipt of a report (as the API dumps it): tokens per kind against
    the budget, and every candidate with its status, reason, tokens and confidence."""
    entries = list(report.get("entries") or [])[:MAX_RECEIPT_ENTRIES]
    per_kind: dict[str, int] = {}
    for entry in entries:
        if entry.get("status") != ItemStatus.DROPPED:
            kind = str(entry.get("kind"))
            per_kind[kind] = per_kind.get(kind, 0) + int(entry.get("tokens") or 0)
    budget = int(report.get("budget") or 0)
    ids = [str(e["id"]) for e in entries if e.get("origin") == "retrieval" and e.get("id")]
    stored = {c.id: c.confidence for c in await services.store.get_contexts(ids)} if ids else {}
    return {
        "report": report,
        "entries": entries,
        "segments": stacked(sorted(per_kind.items()), budget, RECEIPT_SPAN),
        "span": RECEIPT_SPAN,
        "confidence": stored,
    }


async def _form_values(services: Services, principal: Any) -> dict[str, Any]:
    workspaces = await visible_workspaces(services.store, principal, MAX_LISTED_WORKSPACES)
    return {
        "workspaces": workspaces,
        "max_budget": services.settings.max_token_limit,
        "default_model": services.settings.default_model or "",
    }


@router.get("/prompt")
async def prompt_page(
    request: Request, services: ServicesDep, principal: PrincipalDep
) -> HTMLResponse:
    values = await _form_values(services, principal)
    return page(request, "prompt.html", asked=None, result=None, receipt=None, **values)


@router.post("/prompt")
async def run_prompt(
    request: Request, services: ServicesDep, principal: PrincipalDep, checked: CsrfChecked
) -> HTMLResponse:
    """The page without its script: the whole answer, then the same receipt."""
    fields = await form_fields(request)
    asked = {
        "prompt": fields.get("prompt", ""),
        "workspaceId": fields.get("workspace", ""),
        "budget": fields.get("budget") or None,
        "model": fields.get("model") or None,
    }
    body: PromptRequest = parsed(PromptRequest, asked)
    run = await services.pipeline.prepare(body, principal)
    answer, post = await services.pipeline.answer(run)
    result = prompt_result(run, answer, post).dump()
    values = await _form_values(services, principal)
    receipt = await receipt_view(services, result["context"]["report"])
    return page(request, "prompt.html", asked=asked, result=result, receipt=receipt, **values)


@router.post("/receipt")
async def receipt_fragment(
    services: ServicesDep,
    checked: CsrfChecked,
    report: Annotated[dict[str, Any], Body(embed=True)],
) -> HTMLResponse:
    """The receipt as HTML, for the page's script to show a streamed prompt's report
    with the same template as the page without script (the report is checked as the
    pipeline's own type: it comes from the browser)."""
    checked_report: ContextReport = parsed(ContextReport, report)
    view = await receipt_view(services, checked_report.dump())
    html = environment.get_template("_receipt.html").render(receipt=view)
    return HTMLResponse(html, headers={"cache-control": "no-store"})


@router.post("/interactions/{interaction_id}/feedback")
async def vote(
    request: Request,
    interaction_id: Annotated[str, Path(pattern=ID_PATTERN)],
    services: ServicesDep,
    principal: PrincipalDep,
    checked: CsrfChecked,
) -> HTMLResponse:
    """A vote from the page without script (the script calls the API's own route):
    what each used context's confidence was, and is now."""
    fields = await form_fields(request)
    body: FeedbackRequest = parsed(FeedbackRequest, {"helpful": fields.get("helpful")})
    interaction = await services.store.get_interaction(interaction_id)
    ids = interaction.context_ids if interaction is not None else []
    before = {c.id: c for c in await services.store.get_contexts(ids)} if ids else {}
    stored = await api_feedback(interaction_id, body, services, principal)
    changes = [(before[i], new) for i, new in stored.context_confidence.items() if i in before]
    return page(request, "feedback.html", feedback=stored, changes=changes)
