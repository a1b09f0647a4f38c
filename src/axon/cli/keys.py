"""`axon keys create|list|revoke`: API keys with scopes (read, write, admin), optionally
limited to some workspaces and a tenant, with an LLM budget and a request rate."""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Annotated

import typer

from axon.cli._app import app, fail, run_with_services
from axon.kinds import ApiScope

if TYPE_CHECKING:
    from axon.models import ApiKey
    from axon.services import Services

keys_app = typer.Typer(help="Manage API keys.", no_args_is_help=True)
app.add_typer(keys_app, name="keys")

JsonFlag = Annotated[bool, typer.Option("--json", help="print JSON")]


def _public(key: ApiKey) -> dict[str, object]:
    data = key.dump()
    data.pop("keyHash")
    return data


@keys_app.command("create")
def create(
    name: Annotated[str, typer.Argument(help="who or what uses the key")],
    scope: Annotated[
        list[ApiScope] | None,
        typer.Option("--scope", help="read, write or admin; repeat for several (default read)"),
    ] = None,
    expires_in_days: Annotated[
        float | None, typer.Option(min=0.001, help="expire after this many days")
    ] = None,
    workspace: Annotated[
        list[str] | None,
        typer.Option(
            "--workspace", help="limit the key to this workspace; repeat for several (default all)"
        ),
    ] = None,
    tenant: Annotated[
        str | None,
        typer.Option(help="the tenant whose global contexts the key sees and writes"),
    ] = None,
    budget_usd: Annotated[
        float | None, typer.Option(min=0.0, help="total LLM spend allowed, in USD")
    ] = None,
    rpm: Annotated[int | None, typer.Option(min=1, help="requests per minute allowed")] = None,
    as_json: JsonFlag = False,
) -> None:
    """Create a key and print it once: only its hash is stored."""
    from axon.cli._output import print_json
    from axon.models import ID_PATTERN, WORKSPACE_ID_PATTERN, utcnow
    from axon.security.keys import new_api_key

    if not name.strip() or len(name) > 200:
        fail("the key name must be 1 to 200 characters")
    # A key may be limited to a root's child (`root.child`); a tenant is a plain id.
    ids = [(w, WORKSPACE_ID_PATTERN) for w in workspace or []]
    for value, pattern in ids + ([(tenant, ID_PATTERN)] if tenant is not None else []):
        if not re.fullmatch(pattern, value):
            fail(f"'{value}' is not a valid id: 1 to 64 letters, digits, '_' or '-'")
    expires = utcnow() + timedelta(days=expires_in_days) if expires_in_days else None
    record, token = new_api_key(
        name.strip(),
        scope or [ApiScope.READ],
        expires,
        workspaces=workspace,
        tenant=tenant,
        budget_usd=budget_usd,
        rpm=rpm,
    )

    async def run(services: Services) -> None:
        await services.store.create_api_key(record)

    run_with_services(run)
    if as_json:
        print_json({**_public(record), "key": token})
        return
    typer.echo(f"created key {record.id} ({', '.join(record.scopes)}) for {record.name}")
    if record.workspaces is not None:
        typer.echo(f"workspaces: {', '.join(record.workspaces)}")
    typer.echo(f"key: {token}")
    typer.echo("store it now: it cannot be shown again.", err=True)


@keys_app.command("list")
def list_(as_json: JsonFlag = False) -> None:
    """List keys (never the secrets)."""
    from axon.cli._text import clean, print_json

    async def run(services: Services) -> list[ApiKey]:
        items: list[ApiKey] = []
        cursor: str | None = None
        while True:
            page = await services.store.list_api_keys(200, cursor)
            items += page.items
            if page.next_cursor is None:
                return items
            cursor = page.next_cursor

    keys = run_with_services(run)
    if as_json:
        print_json([_public(k) for k in keys])
        return
    if not keys:
        typer.echo("no API keys (create one with `axon keys create NAME`)")
        return
    for k in keys:
        # The id starts its own line, whole, so it can be copied into `axon keys revoke`.
        typer.echo(f"{k.id}  {clean(k.name)}")
        typer.echo(f"    {_state(k)} · scopes {', '.join(k.scopes)} · prefix {k.prefix}…")
        typer.echo(f"    created {_when(k.created_at)} · expires {_when(k.expires_at)}")
        typer.echo(f"    {_limits(k)}")


def _when(moment: datetime | None) -> str:
    return "never" if moment is None else f"{moment:%Y-%m-%d %H:%M:%S} UTC"


def _state(key: ApiKey) -> str:
    from axon.models import utcnow

    if key.revoked_at is not None:
        return f"revoked {_when(key.revoked_at)}"
    if key.expires_at is not None and key.expires_at <= utcnow():
        return "expired"
    return "active"


def _limits(key: ApiKey) -> str:
    workspaces = ", ".join(key.workspaces) if key.workspaces is not None else "all"
    parts = [f"workspaces {workspaces}"]
    if key.tenant is not None:
        parts.append(f"tenant {key.tenant}")
    if key.budget_usd is not None:
        parts.append(f"budget ${key.budget_usd:g}")
    if key.rpm is not None:
        parts.append(f"{key.rpm} requests/min")
    return " · ".join(parts)


@keys_app.command("revoke")
def revoke(
    key_id: Annotated[str, typer.Argument(help="the key id (see `axon keys list`)")],
) -> None:
    """Revoke a key; servers stop accepting it within AXON_AUTH_CACHE_SECONDS."""
    from axon.models import utcnow

    async def run(services: Services) -> ApiKey | None:
        return await services.store.revoke_api_key(key_id, utcnow())

    revoked = run_with_services(run)
    if revoked is None:
        fail(f"no API key '{key_id}'")
    typer.echo(f"revoked key {key_id} ({revoked.name})")
