"""A newer decision supersedes an older one: hidden from search, kept in history."""

from __future__ import annotations

import httpx

from axon.evolution.supersede import stated_subject
from tests.evolution.conftest import remember, search, workspace


async def test_explicit_supersede_hides_the_old_decision(client: httpx.AsyncClient) -> None:
    wid = await workspace(client)
    old = await remember(client, wid, "Deployments go out on Fridays after the demo.")
    new = await remember(
        client, wid, "Deployments go out on Tuesdays mornings.", supersedes=[old["id"]]
    )
    assert new["supersedes"] == [old["id"]] and new["validTo"] is None

    hits = await search(client, wid, "when do deployments go out", types=["decision"])
    assert [h["id"] for h in hits] == [new["id"]]
    everything = await search(
        client, wid, "when do deployments go out", types=["decision"], includeSuperseded=True
    )
    assert {h["id"] for h in everything} == {old["id"], new["id"]}

    closed = (await client.get(f"/api/v1/contexts/{old['id']}")).json()
    assert closed["supersededBy"] == new["id"] and closed["validTo"] is not None
    for either in (old["id"], new["id"]):
        history = await client.get(f"/api/v1/contexts/{either}/history")
        assert history.status_code == 200
        assert [c["id"] for c in history.json()["items"]] == [old["id"], new["id"]]


async def test_a_decision_on_the_same_subject_supersedes_by_itself(
    client: httpx.AsyncClient,
) -> None:
    wid = await workspace(client)
    postgres = await remember(client, wid, "We decided to use PostgreSQL as the primary database.")
    caching = await remember(client, wid, "We decided to use Redis for caching.")
    mysql = await remember(client, wid, "We decided to switch the primary database to MySQL.")
    assert mysql["supersedes"] == [postgres["id"]]  # caching is another subject

    hits = await search(client, wid, "which primary database do we use", types=["decision"])
    assert hits[0]["id"] == mysql["id"]
    assert postgres["id"] not in {h["id"] for h in hits}
    still = (await client.get(f"/api/v1/contexts/{caching['id']}")).json()
    assert still["supersededBy"] is None


async def test_stated_subjects_decide(client: httpx.AsyncClient) -> None:
    wid = await workspace(client)
    first = await remember(client, wid, "Python 3.11 everywhere.", subject="Python version")
    other = await remember(client, wid, "Node 20 for the frontend.", subject="Node version")
    second = await remember(client, wid, "Python 3.12 from now on.", subject="python  VERSION")
    assert second["supersedes"] == [first["id"]]
    assert (await client.get(f"/api/v1/contexts/{other['id']}")).json()["supersededBy"] is None


async def test_supersede_errors_write_nothing(client: httpx.AsyncClient) -> None:
    wid = await workspace(client)
    other = await workspace(client, "elsewhere")
    foreign = await remember(client, other, "Tabs, not spaces.")
    old = await remember(client, wid, "Releases are tagged vX.Y.Z.")
    await remember(client, wid, "Releases are tagged YYYY.MM.", supersedes=[old["id"]])

    body = {"workspaceId": wid, "type": "decision", "content": "Releases are tagged vN."}
    missing = await client.post("/api/v1/contexts", json={**body, "supersedes": ["ctx_nope"]})
    assert missing.status_code == 404
    assert missing.json()["error"]["details"][0]["field"] == "supersedes.0"
    across = await client.post("/api/v1/contexts", json={**body, "supersedes": [foreign["id"]]})
    assert across.status_code == 404
    again = await client.post("/api/v1/contexts", json={**body, "supersedes": [old["id"]]})
    assert again.status_code == 409 and again.json()["error"]["code"] == "CONTEXT_SUPERSEDED"
    many = await client.post("/api/v1/contexts", json={**body, "supersedes": ["c"] * 21})
    assert many.status_code == 422
    listed = (await client.get(f"/api/v1/contexts?workspaceId={wid}")).json()["items"]
    assert len(listed) == 2  # none of the refused requests stored anything
    unknown = await client.get("/api/v1/contexts/ctx_nope/history")
    assert unknown.status_code == 404 and unknown.json()["error"]["code"] == "CONTEXT_NOT_FOUND"


async def test_decisions_naming_different_subjects_in_like_words_stay_apart(
    client: httpx.AsyncClient,
) -> None:
    # Shared phrasing ("we settled on ..., pinned to ...") and a shared word ("API")
    # used to close the other subject's decision.
    wid = await workspace(client)
    pinned = "pinned to the current major version"
    tracking = await remember(client, wid, f"For error tracking we settled on Sentry, {pinned}.")
    warehouse = await remember(
        client, wid, f"For the analytics warehouse we settled on ClickHouse, {pinned}."
    )
    framework = await remember(
        client, wid, "Decision: the web framework of the API moves to Flask."
    )
    style = await remember(client, wid, "Let's use SOAP for the API style.")
    assert warehouse["supersedes"] == [] and style["supersedes"] == []
    newer = await remember(
        client, wid, "From now on the web framework of the API uses Litestar instead."
    )
    assert newer["supersedes"] == [framework["id"]]
    for kept in (tracking, warehouse, style):
        assert (await client.get(f"/api/v1/contexts/{kept['id']}")).json()["supersededBy"] is None


def test_the_subject_a_decision_names() -> None:
    assert stated_subject("We decided to use PostgreSQL as the primary database.") == (
        "the primary database"
    )
    assert stated_subject("Switch the cache to Redis.") == "the cache"
    assert stated_subject("Decision: the ORM moves to Peewee.") == "the orm"
    assert stated_subject("From now on the linter uses Ruff instead.") == "the linter"
    assert stated_subject("For the CI system we settled on GitHub Actions.") == "the ci system"
    assert stated_subject("We are going with Azure for the cloud provider now.") == (
        "the cloud provider"
    )
    assert stated_subject("Python 3.11 everywhere.") is None
    long = stated_subject("We use X for " + "the thing " * 10_000)
    assert long is not None and len(long) <= 300  # the first 300 characters only
