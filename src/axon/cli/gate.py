"""`axon gate [PATH | --workspace ID]`: run the quality gate with a live view.

Exit codes: 0 passed, 1 failed, 3 a check could not run (error), 4 nothing
applicable was found (every check skipped).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from axon.cli._app import app, fail, run_with_services
from axon.kinds import CheckKind

if TYPE_CHECKING:
    from rich.table import Table

    from axon.quality.models import CheckResult, GateResult
    from axon.services import Services

# By CheckStatus value (a StrEnum, so its members are these strings).
EXIT_CODES = {"passed": 0, "failed": 1, "error": 3, "skipped": 4}
_STYLE = {"passed": "green", "failed": "red", "error": "magenta", "skipped": "dim"}
_SHOWN = 10  # failures / findings listed per check


def _live_table(states: dict[str, str]) -> Table:
    from rich.spinner import Spinner
    from rich.table import Table

    table = Table(title="Quality gate", show_header=False, box=None)
    for check_id, state in states.items():
        mark = Spinner("dots") if state == "running" else f"[{_STYLE[state]}]{state}[/]"
        table.add_row(check_id, mark)
    return table


def _summary(check: CheckResult) -> str:
    from axon.quality.models import CheckStatus

    if check.tests is not None:
        t = check.tests
        return f"{t.passed} passed, {t.failed} failed, {t.errored} errored, {t.skipped} skipped"
    if check.status in {CheckStatus.PASSED, CheckStatus.FAILED}:
        return f"{check.errors} errors, {check.warnings} warnings"
    return check.reason or ""


def _print_result(result: GateResult) -> None:
    from rich.markup import escape
    from rich.table import Table

    from axon.cli._output import console
    from axon.quality.models import CheckStatus

    table = Table(title=f"Quality gate: {result.path}")
    for column in ("check", "status", "result", "score", "time"):
        table.add_column(column)
    for check in result.checks:
        score = "" if check.score is None else f"{check.score:g}"
        seconds = f"{check.duration_ms / 1000:.1f}s" if check.duration_ms else ""
        status = f"[{_STYLE[check.status]}]{check.status}[/]"
        table.add_row(check.id, status, escape(_summary(check)), score, seconds)
    console.print(table)
    for check in result.checks:
        lines = [
            f"{f.name}: {f.message.splitlines()[0] if f.message else ''}" for f in check.failures
        ]
        lines += [f"{f.file}:{f.line}: {f.rule or f.severity} {f.message}" for f in check.findings]
        if check.status is CheckStatus.ERROR and check.reason:
            lines = [check.reason, *lines]
        for line in lines[:_SHOWN]:
            console.print(f"  [bold]{check.id}[/bold] {escape(line)}", highlight=False)
        if len(lines) > _SHOWN:
            console.print(f"  [dim]… {len(lines) - _SHOWN} more in --json[/dim]")
    score = "n/a" if result.score is None else f"{result.score:g}"
    console.print(f"[{_STYLE[result.status]}]gate {result.status}[/] (score {score})")


@app.command()
def gate(
    path: Annotated[str | None, typer.Argument(help="folder to gate (default: here)")] = None,
    workspace: Annotated[
        str | None, typer.Option("--workspace", "-w", help="a registered workspace's id")
    ] = None,
    checks: Annotated[
        list[CheckKind] | None, typer.Option("--check", "-c", help="only these kinds")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="print the result as JSON")] = False,
) -> None:
    """Run the workspace's tests, linters and type checkers and report honest results."""
    from rich.console import Console, Group
    from rich.live import Live

    from axon.cli._output import print_json
    from axon.models import new_id
    from axon.quality.service import resolve_target, run_gate

    if path is not None and workspace is not None:
        fail("give a PATH or --workspace, not both", 2)
    folder = None if workspace else str(Path(path or ".").expanduser().resolve())
    kinds = sorted(set(checks or CheckKind), key=list(CheckKind).index)
    states: dict[str, str] = {}
    live_console = Console(stderr=True)

    async def run(services: Services) -> GateResult:
        # A local user may gate any folder they can read: the allow-list guards the API.
        target = await resolve_target(
            services.store, services.settings, workspace, folder, trusted=True
        )
        with Live(Group(_live_table(states)), console=live_console, transient=True) as live:

            async def progress(check_id: str, status: str) -> None:
                states[check_id] = status
                live.update(Group(_live_table(states)))

            return await run_gate(
                services.settings,
                services.store,
                services.search_index,
                target,
                kinds,
                new_id("gate"),
                progress,
            )

    result = run_with_services(run)
    if as_json:
        print_json(result.dump())
    else:
        _print_result(result)
    raise typer.Exit(EXIT_CODES[result.status])
