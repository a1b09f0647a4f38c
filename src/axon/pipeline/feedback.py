"""Interactions and feedback: history listing and learning from votes.

A vote (1 for helpful or 5 stars, 0 for unhelpful or 1 star) is evidence for or
against every context the interaction used; `axon.evolution.confidence` turns it
into each context's Beta posterior. One vote per interaction.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, StrictBool, StrictInt, model_validator
from pydantic.alias_generators import to_camel

from axon.errors import Conflict, NotFound
from axon.evolution import confidence
from axon.models import Feedback, Interaction, new_id
from axon.pipeline.collector import Clean
from axon.ports import DocumentStore

MAX_COMMENT_CHARS = 2000


class FeedbackRequest(BaseModel):
    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, extra="forbid")

    helpful: StrictBool | None = None
    rating: StrictInt | None = Field(default=None, ge=1, le=5)
    comment: Clean | None = Field(default=None, max_length=MAX_COMMENT_CHARS)

    @model_validator(mode="after")
    def _one_signal(self) -> FeedbackRequest:
        if self.helpful is None and self.rating is None:
            raise ValueError("give `helpful` (true/false) or `rating` (1-5)")
        return self

    def signal(self) -> float:
        """The vote on a 0..1 scale (the mean when both are given)."""
        votes = []
        if self.helpful is not None:
            votes.append(1.0 if self.helpful else 0.0)
        if self.rating is not None:
            votes.append((self.rating - 1) / 4)
        return sum(votes) / len(votes)


async def record_feedback(
    store: DocumentStore, interaction_id: str, body: FeedbackRequest
) -> tuple[Feedback, dict[str, float]]:
    """Store the vote and apply it; returns the feedback and each context's new confidence."""
    interaction = await store.get_interaction(interaction_id)
    if interaction is None:
        raise NotFound(f"interaction '{interaction_id}' not found", code="INTERACTION_NOT_FOUND")
    if interaction.metadata.get("feedbackId"):
        raise Conflict(
            f"interaction '{interaction_id}' already has feedback",
            code="FEEDBACK_EXISTS",
            details=[{"field": "interactionId", "message": "one vote per interaction"}],
        )
    feedback = Feedback(
        id=new_id("fb"),
        interaction_id=interaction.id,
        workspace_id=interaction.workspace_id,
        helpful=body.helpful,
        rating=body.rating,
        comment=body.comment,
    )
    await store.add_feedback(feedback)
    await _mark(store, interaction, feedback.id)
    return feedback, await vote_on_contexts(store, interaction.context_ids, body.signal())


async def vote_on_contexts(
    store: DocumentStore, context_ids: list[str], signal: float
) -> dict[str, float]:
    """Apply one vote (0..1) to each context; returns their new confidences. Also the
    MCP `feedback` tool's path for context ids a client got without an interaction."""
    return await confidence.vote(store, context_ids, signal)


async def _mark(store: DocumentStore, interaction: Interaction, feedback_id: str) -> None:
    marked = interaction.model_copy(
        update={"metadata": {**interaction.metadata, "feedbackId": feedback_id}}
    )
    await store.add_interaction(marked)
