"""Conversation memory: turns stored by conversationId, recalled by later turns,
condensed when long, expired with the interactions (SQLite and MongoDB)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import httpx
import openai

from axon.evolution.conversation import (
    CONDENSE_EVERY,
    KEEP_TURNS,
    SUMMARY_TURN,
    derive_conversation_id,
)
from axon.maintenance import RetentionPolicy, cleanup
from axon.models import utcnow
from axon.services import Services
from tests.conftest import CopilotServer
from tests.evolution.conftest import remember, workspace

PROCESS = "/api/v1/prompts/process"
FIRST = "The invoice exporter writes CSV files separated by semicolons for the Zurich office."


async def _ask(
    client: httpx.AsyncClient, wid: str, prompt: str, conversation_id: str | None
) -> dict[str, Any]:
    body: dict[str, Any] = {"prompt": prompt, "workspaceId": wid}
    if conversation_id is not None:
        body["conversationId"] = conversation_id
    response = await client.post(PROCESS, json=body)
    assert response.status_code == 200, response.text
    data: dict[str, Any] = response.json()
    return data


def _memory(data: dict[str, Any]) -> list[dict[str, Any]]:
    return [e for e in data["context"]["report"]["entries"] if e["origin"] == "memory"]


def _history_text(data: dict[str, Any]) -> str:
    return "\n".join(m["content"] for m in data["prompt"]["messages"][:-1])


async def test_a_second_turn_retrieves_the_first_turns_content(
    client: httpx.AsyncClient, services: Services
) -> None:
    wid = await workspace(client)
    first = await _ask(client, wid, FIRST, "conv-1")
    assert _memory(first) == []  # nothing before the first turn
    second = await _ask(client, wid, "Which separator does the exporter use?", "conv-1")
    [entry] = _memory(second)
    assert entry["status"] == "included" and entry["kind"] == "conversation"
    assert FIRST in _history_text(second)  # as the user's earlier message
    roles = [m["role"] for m in second["prompt"]["messages"]]
    assert roles == ["user", "assistant", "user"]
    stored = await services.store.get_context(entry["id"])
    assert stored is not None and stored.tier == "hybrid" and stored.type == "conversation"
    assert stored.metadata["conversationId"] == "conv-1" and stored.metadata["turn"] == 1
    assert stored.metadata["interactionId"] == first["interactionId"]

    # Another conversation, and a prompt without one, recall nothing of it.
    assert _memory(await _ask(client, wid, "Which separator?", "conv-2")) == []
    assert _memory(await _ask(client, wid, "Which separator?", None)) == []


async def test_turns_the_client_sends_itself_are_not_recalled_twice(
    client: httpx.AsyncClient,
) -> None:
    wid = await workspace(client)
    await _ask(client, wid, FIRST, "conv-sent")
    body = {
        "prompt": "And the decimal mark?",
        "workspaceId": wid,
        "conversationId": "conv-sent",
        "conversation": [{"role": "user", "content": FIRST}],
    }
    data = (await client.post(PROCESS, json=body)).json()
    assert _memory(data) == []
    assert _history_text(data).count(FIRST) == 1


async def test_a_long_conversation_is_condensed_into_a_rolling_summary(
    client: httpx.AsyncClient, services: Services
) -> None:
    wid = await workspace(client)
    turns = KEEP_TURNS + CONDENSE_EVERY
    for n in range(1, turns + 1):
        await _ask(client, wid, f"Step {n}: configure exporter option number{n}.", "conv-long")
    memory = await services.conversations.recall(wid, "conv-long")
    summary, *recent = memory
    assert summary.metadata["turn"] == SUMMARY_TURN
    assert summary.metadata["through"] == CONDENSE_EVERY
    assert "number1" in summary.content and f"number{CONDENSE_EVERY}" in summary.content
    assert [c.metadata["turn"] for c in recent] == list(range(CONDENSE_EVERY + 1, turns + 1))
    # The condensed turns left recall and stay in the summary's history.
    chain = await services.supersession.history(summary.id)
    assert {c.metadata.get("turn") for c in chain} >= set(range(1, CONDENSE_EVERY + 1))
    assert all(not c.current for c in chain if c.id != summary.id)

    data = await _ask(client, wid, "What did we configure first?", "conv-long")
    ids = {e["id"] for e in _memory(data)}
    assert summary.id in ids and "number1" in _history_text(data)
    # The next turn numbers on after the summary's last.
    latest = (await services.conversations.recall(wid, "conv-long"))[-1]
    assert latest.metadata["turn"] == turns + 1


async def test_turns_expire_with_the_interactions_they_came_from(
    client: httpx.AsyncClient, services: Services
) -> None:
    wid = await workspace(client)
    await _ask(client, wid, FIRST, "conv-old")
    decision = await remember(client, wid, "Exports are written in UTF-8.")
    [turn] = await services.conversations.recall(wid, "conv-old")
    policy = RetentionPolicy(context_days=90, context_min_usage=5, interaction_days=30)

    report = await cleanup(
        services.store, services.search_index, policy, dry_run=False, now=utcnow()
    )
    assert report.contexts == 0 and await services.store.get_context(turn.id) is not None

    later = utcnow() + timedelta(days=31)
    report = await cleanup(services.store, services.search_index, policy, dry_run=False, now=later)
    assert report.contexts == 1
    assert await services.store.get_context(turn.id) is None
    assert await services.store.get_context(decision["id"]) is not None  # 90-day rule
    assert await services.conversations.recall(wid, "conv-old") == []


async def test_a_conversation_id_is_checked(client: httpx.AsyncClient) -> None:
    wid = await workspace(client)
    for bad in ["", "has space", "x" * 129, "../etc"]:
        body = {"prompt": "hi", "workspaceId": wid, "conversationId": bad}
        response = await client.post(PROCESS, json=body)
        assert response.status_code == 422, (bad, response.text)
        [detail] = response.json()["error"]["details"]
        assert detail["field"] == "conversationId"


def test_derived_ids_follow_the_opening_and_the_key() -> None:
    base = derive_conversation_id(["Be brief."], "hello", "key_a")
    assert base == derive_conversation_id(["Be brief."], "hello", "key_a")
    assert base != derive_conversation_id(["Be brief."], "hello", "key_b")
    assert base != derive_conversation_id([], "hello", "key_a")
    assert base != derive_conversation_id(["Be brief.hello"], "", "key_a")


def test_the_openai_endpoint_recalls_a_turn_the_client_dropped(copilot: CopilotServer) -> None:
    client = openai.OpenAI(base_url=f"{copilot.url}/v1", api_key=copilot.write_key, max_retries=0)
    model = f"axon/{copilot.workspace_id}"
    opening = {"role": "user", "content": "We are reviewing the billing module today."}
    middle = "Note that compute_invoice_total must round half up for ticket FIN-88."
    reply = {"role": "assistant", "content": "Understood."}
    client.chat.completions.create(model=model, messages=[opening])
    client.chat.completions.create(model=model, messages=[opening, reply, _user(middle)])
    # The client keeps its opening and the latest turn only: the middle one is recalled.
    client.chat.completions.create(
        model=model, messages=[opening, reply, _user("Which ticket was that?")]
    )
    *_, last = copilot.fake.seen("openai")
    texts = [str(m["content"]) for m in last.body["messages"]]
    assert any(middle in t for t in texts)
    assert sum(opening["content"] in t for t in texts) == 1  # sent by the client, once


def _user(text: str) -> dict[str, str]:
    return {"role": "user", "content": text}
