"""Interactions (one per processed prompt) and the feedback on them."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path
from pydantic import Field

from axon.api.deps import PrincipalDep, ServicesDep
from axon.api.responses import errors
from axon.errors import NotFound
from axon.models import ID_PATTERN, Feedback, Interaction
from axon.pipeline.feedback import FeedbackRequest, record_feedback
from axon.security.principal import Principal
from axon.services import Services

router = APIRouter(prefix="/api/v1/interactions", tags=["interactions"])
InteractionIdPath = Annotated[str, Path(pattern=ID_PATTERN, description="interaction id")]


class FeedbackResult(Feedback):
    context_confidence: dict[str, float] = Field(
        description="each used context's confidence after this vote, by context id"
    )


@router.get("/{interaction_id}", responses=errors(404))
async def show(
    interaction_id: InteractionIdPath, services: ServicesDep, principal: PrincipalDep
) -> Interaction:
    return await _visible(services, principal, interaction_id)


async def _visible(services: Services, principal: Principal, interaction_id: str) -> Interaction:
    interaction = await services.store.get_interaction(interaction_id)
    if interaction is None or not principal.can_access(interaction.workspace_id):
        raise NotFound(f"interaction '{interaction_id}' not found", code="INTERACTION_NOT_FOUND")
    return interaction


@router.post("/{interaction_id}/feedback", status_code=201, responses=errors(404, 409))
async def feedback(
    interaction_id: InteractionIdPath,
    body: FeedbackRequest,
    services: ServicesDep,
    principal: PrincipalDep,
) -> FeedbackResult:
    """Rate an answer: `helpful` (bool) and/or `rating` (1-5), optional `comment`."""
    await _visible(services, principal, interaction_id)
    stored, confidences = await record_feedback(services.store, interaction_id, body)
    return FeedbackResult(**dict(stored), context_confidence=confidences)
