"""`axon maintenance cleanup|backup|restore|reconcile`."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from axon.cli._app import app, cli_errors, fail, run_with_services

if TYPE_CHECKING:
    from axon.maintenance import CleanupReport
    from axon.services import Services

maintenance_app = typer.Typer(help="Retention clean-up and backups.", no_args_is_help=True)
app.add_typer(maintenance_app, name="maintenance")


@maintenance_app.command("cleanup")
def cleanup_command(
    dry_run: Annotated[bool, typer.Option("--dry-run", help="count, delete nothing")] = False,
    context_days: Annotated[
        float | None,
        typer.Option(min=0.001, help="context age limit (AXON_CONTEXT_RETENTION_DAYS, 90)"),
    ] = None,
    min_usage: Annotated[
        int | None,
        typer.Option(min=0, help="keep contexts used this often (AXON_CONTEXT_MIN_USAGE, 5)"),
    ] = None,
    interaction_days: Annotated[
        float | None,
        typer.Option(min=0.001, help="interaction age limit (AXON_INTERACTION_RETENTION_DAYS, 30)"),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="print JSON")] = False,
) -> None:
    """Delete old, rarely used contexts (and their index entries) and old interactions."""
    from axon.cli._output import print_json
    from axon.maintenance import RetentionPolicy, cleanup

    async def run(services: Services) -> CleanupReport:
        base = RetentionPolicy.from_settings(services.settings)
        policy = RetentionPolicy(
            context_days if context_days is not None else base.context_days,
            min_usage if min_usage is not None else base.context_min_usage,
            interaction_days if interaction_days is not None else base.interaction_days,
        )
        return await cleanup(services.store, services.search_index, policy, dry_run=dry_run)

    report = run_with_services(run)
    if as_json:
        print_json(
            {
                "dryRun": report.dry_run,
                "contexts": report.contexts,
                "interactions": report.interactions,
                "contextsCreatedBefore": report.contexts_before.isoformat(),
                "interactionsBefore": report.interactions_before.isoformat(),
            }
        )
        return
    verb = "would delete" if report.dry_run else "deleted"
    typer.echo(
        f"{verb} {report.contexts} old contexts "
        f"(created before {report.contexts_before:%Y-%m-%d}, rarely used)"
    )
    typer.echo(
        f"{verb} {report.interactions} old interactions "
        f"(before {report.interactions_before:%Y-%m-%d})"
    )


def _embedded_db() -> Path:
    from axon.config import load_settings

    with cli_errors():
        settings = load_settings()
    if settings.mongodb_uri:
        fail(
            "MONGODB_URI is set: back up MongoDB with mongodump and Qdrant with snapshots "
            "(docs/runbook.md, 'Backups'); this command covers the embedded store"
        )
    return settings.sqlite_path


@maintenance_app.command("backup")
def backup(path: Annotated[Path, typer.Argument(help="file to write the backup to")]) -> None:
    """Consistent copy of the embedded database, safe while the server runs."""
    from axon.models import utcnow
    from axon.stores.sqlite_backup import backup_sqlite

    source = _embedded_db()
    if path.exists() and path.is_dir():
        path = path / f"axon-{utcnow():%Y%m%d-%H%M%S}.db"
    try:
        pages = backup_sqlite(source, path)
    except (OSError, ValueError) as exc:
        fail(str(exc))
    typer.echo(f"backed up {source} to {path} ({pages} pages)")


@maintenance_app.command("restore")
def restore(path: Annotated[Path, typer.Argument(help="backup file to restore")]) -> None:
    """Replace the embedded database with a backup. Stop servers and workers first."""
    from axon.stores.sqlite_backup import database_in_use, restore_sqlite

    target = _embedded_db()
    if database_in_use(target):
        fail(f"{target} is in use: stop `axon serve` and `axon worker` first, then retry")
    try:
        pages = restore_sqlite(path, target)
    except (OSError, ValueError) as exc:
        fail(str(exc))
    typer.echo(f"restored {path} into {target} ({pages} pages)")


@maintenance_app.command("reconcile")
def reconcile(
    workspace: Annotated[
        str | None, typer.Option("--workspace", "-w", help="one workspace (default: all)")
    ] = None,
    dry_run: Annotated[
        bool,
        typer.Option("--dry-run", help="count the drift, repair nothing; exit 1 if there is any"),
    ] = False,
    as_json: Annotated[bool, typer.Option("--json", help="print JSON")] = False,
) -> None:
    """Repair drift between stored contexts and the search index (e.g. after a crash):
    contexts missing from the lexical index or stale there, contexts without a vector of
    their current content (`vectorsMissing`), and index entries the store no longer has."""
    from axon.cli._output import print_json
    from axon.workspaces import all_workspaces, find_workspace

    async def run(services: Services) -> dict[str, dict[str, int]]:
        if workspace is not None:
            ids = [(await find_workspace(services.store, workspace)).id]
        else:
            ids = [w.id for w in await all_workspaces(services.store)]
        return {wid: await services.search_index.reconcile(wid, dry_run=dry_run) for wid in ids}

    results = run_with_services(run)
    if as_json:
        print_json({"dryRun": dry_run, "workspaces": results})
    else:
        for workspace_id, counts in results.items():
            summary = ", ".join(f"{k} {v}" for k, v in counts.items())
            typer.echo(
                f"{workspace_id}: {summary}" + (" (dry run: nothing changed)" if dry_run else "")
            )
    if dry_run and any(c["indexed"] or c["removed"] for c in results.values()):
        raise typer.Exit(1)
