"""Running a gate end to end, as a job or directly (the CLI).

resolve the folder (access rules) -> plan the checks -> run them under the
concurrency cap and the total time limit -> parse -> decide each status ->
score -> record failures as error contexts in the workspace.
"""

from __future__ import annotations

import asyncio
import dataclasses
import os
import shutil
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, StrictBool, model_validator
from pydantic.alias_generators import to_camel

from axon.config import Settings
from axon.errors import InvalidInput
from axon.jobs import JobContext, register_job
from axon.models import WORKSPACE_ID_PATTERN, utcnow
from axon.ports import DocumentStore, SearchIndex
from axon.quality.access import GateTarget, target_for_path, target_for_workspace
from axon.quality.contexts import record_failures
from axon.quality.coverage import fresh_coverage
from axon.quality.environment import redact, secret_values
from axon.quality.models import (
    CheckKind,
    CheckResult,
    CheckSpec,
    CheckStatus,
    GateResult,
    PythonUsed,
    Severity,
)
from axon.quality.parsers import PARSERS, ToolOutput
from axon.quality.plan import Plan, make_plan
from axon.quality.run import ProcessOutcome, limiter
from axon.quality.sandbox import Launcher, SandboxUnavailable, gate_launcher
from axon.quality.scoring import check_score, overall_score, overall_status
from axon.quality.verdict import decide

JOB_KIND = "quality_gate"
OUTPUT_TAIL_CHARS = 8000
MAX_FAILURES = 200
MAX_FINDINGS = 500
REPORT_LIMIT = 64 * 1024 * 1024

# Called with a check id and its status as checks start ("running") and finish.
ProgressCallback = Callable[[str, str], Awaitable[None]]


class GateRequest(BaseModel):
    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, extra="forbid")

    workspace_id: str | None = Field(default=None, pattern=WORKSPACE_ID_PATTERN)
    workspace_path: str | None = Field(default=None, min_length=1, max_length=4096)
    checks: list[CheckKind] | None = Field(default=None, min_length=1, max_length=3)
    wait: StrictBool = False

    @model_validator(mode="after")
    def _one_target(self) -> GateRequest:
        if (self.workspace_id is None) == (self.workspace_path is None):
            raise ValueError("give exactly one of workspaceId and workspacePath")
        if "\0" in (self.workspace_path or ""):
            raise ValueError("workspacePath must not contain NUL characters")
        return self

    @property
    def kinds(self) -> list[CheckKind]:
        return sorted(set(self.checks or CheckKind), key=list(CheckKind).index)


async def resolve_target(
    store: DocumentStore,
    settings: Settings,
    workspace_id: str | None,
    workspace_path: str | None,
    *,
    trusted: bool = False,
) -> GateTarget:
    if workspace_id is not None:
        return await target_for_workspace(store, settings, workspace_id, trusted=trusted)
    if workspace_path is None:
        raise InvalidInput.field("workspaceId", "give workspaceId or workspacePath")
    return await target_for_path(store, settings, workspace_path, trusted=trusted)


def _tail(outcome: ProcessOutcome) -> tuple[str, bool]:
    text = "\n".join(part for part in (outcome.stdout.strip(), outcome.stderr.strip()) if part)
    if len(text) <= OUTPUT_TAIL_CHARS:
        return text, outcome.truncated
    return "…" + text[-OUTPUT_TAIL_CHARS:], True


def _read_report(spec: CheckSpec, secrets: list[str]) -> str | None:
    if spec.report is None or not spec.report.is_file():
        return None
    if spec.report.stat().st_size > REPORT_LIMIT:
        return None
    return redact(spec.report.read_text("utf-8", "replace"), secrets)


def _result(
    spec: CheckSpec, outcome: ProcessOutcome, root: Path, started: float, secrets: list[str]
) -> CheckResult:
    # Redacted before anything is parsed or kept: no stored field can carry a secret.
    outcome = dataclasses.replace(
        outcome, stdout=redact(outcome.stdout, secrets), stderr=redact(outcome.stderr, secrets)
    )
    report = _read_report(spec, secrets)
    out = ToolOutput(outcome.stdout, outcome.stderr, outcome.exit_code, root, report)
    parsed = PARSERS[spec.parser](out)
    status, reason = decide(spec, outcome, parsed)
    output, cut = _tail(outcome)
    findings = parsed.findings
    result = CheckResult(
        id=spec.id,
        kind=spec.kind,
        tool=spec.tool,
        command=spec.argv,
        status=status,
        reason=reason,
        exit_code=outcome.exit_code,
        duration_ms=round(outcome.duration * 1000, 1),
        tests=parsed.tests,
        failures=parsed.failures[:MAX_FAILURES],
        findings=findings[:MAX_FINDINGS],
        errors=sum(1 for f in findings if f.severity is Severity.ERROR),
        warnings=sum(1 for f in findings if f.severity is Severity.WARNING),
        dropped=max(0, len(parsed.failures) - MAX_FAILURES) + max(0, len(findings) - MAX_FINDINGS),
        coverage=fresh_coverage(root, started) if parsed.tests is not None else None,
        output=output,
        output_truncated=cut,
    )
    result.score = check_score(result)
    return result


def _not_run(spec: CheckSpec, status: CheckStatus, reason: str) -> CheckResult:
    return CheckResult(
        id=spec.id, kind=spec.kind, tool=spec.tool, command=spec.argv, status=status, reason=reason
    )


class _Runner:
    def __init__(
        self,
        settings: Settings,
        root: Path,
        plan: Plan,
        launcher: Launcher,
        reports: Path,
        progress: ProgressCallback | None,
    ) -> None:
        self.settings = settings
        self.root = root
        self.env = plan.env
        self.launcher = launcher
        self.reports = reports
        self.secrets = secret_values(settings)
        self.progress = progress
        self.deadline = time.monotonic() + settings.gate_total_timeout

    async def _report(self, check_id: str, status: str) -> None:
        if self.progress is not None:
            await self.progress(check_id, status)

    async def run(self, spec: CheckSpec) -> CheckResult:
        if spec.problem is not None:
            result = _not_run(spec, CheckStatus.ERROR, spec.problem)
            await self._report(spec.id, result.status)
            return result
        total = self.settings.gate_total_timeout
        slots = limiter(self.settings.gate_concurrency)
        try:
            await asyncio.wait_for(slots.acquire(), max(0.0, self.deadline - time.monotonic()))
        except TimeoutError:
            return _not_run(
                spec, CheckStatus.ERROR, f"not started: the gate's {total:g}s limit ran out"
            )
        try:
            remaining = self.deadline - time.monotonic()
            if remaining <= 0:
                return _not_run(
                    spec, CheckStatus.ERROR, f"not started: the gate's {total:g}s limit ran out"
                )
            capped = remaining < spec.timeout
            spec.timeout = min(spec.timeout, remaining)
            await self._report(spec.id, "running")
            started = time.time()
            outcome = await self.launcher.run(
                spec.argv,
                self.root,
                self.env,
                spec.timeout,
                self.settings.gate_output_limit,
                writable=[self.reports],
            )
        finally:
            slots.release()
        result = _result(spec, outcome, self.root, started, self.secrets)
        if outcome.timed_out and capped:
            result.reason = f"stopped at the gate's {total:g}s limit; its process group was killed"
        await self._report(spec.id, result.status)
        return result


def _python_used(plan: Plan) -> PythonUsed | None:
    """Named in the report when a Python check ran with it."""
    if plan.python is None or not any(spec.interpreter for spec in plan.checks):
        return None
    return PythonUsed(path=str(plan.python.path), chosen=plan.python.chosen)


async def run_gate(
    settings: Settings,
    store: DocumentStore,
    search_index: SearchIndex | None,
    target: GateTarget,
    kinds: list[CheckKind],
    run_id: str,
    progress: ProgressCallback | None = None,
) -> GateResult:
    started_at = utcnow()
    clock = time.monotonic()
    reports = Path(tempfile.mkdtemp(prefix="axon-gate-"))
    try:
        try:
            launcher = await gate_launcher(settings)
        except SandboxUnavailable as exc:
            # Refused, not run: every check asked for is an error that says why.
            launcher = Launcher(None)
            plan = Plan(
                [
                    CheckSpec(
                        kind, "sandbox", [], "text", settings.gate_check_timeout, problem=str(exc)
                    )
                    for kind in kinds
                ]
            )
        else:
            plan = await make_plan(target.root, settings, kinds, reports, launcher)
        runner = _Runner(settings, target.root, plan, launcher, reports, progress)
        checks = list(await asyncio.gather(*(runner.run(spec) for spec in plan.checks)))
    finally:
        shutil.rmtree(reports, ignore_errors=True)
    for kind, reason in plan.skipped.items():
        checks.append(
            CheckResult(
                id=f"{kind}",
                kind=kind,
                tool="",
                command=[],
                status=CheckStatus.SKIPPED,
                reason=reason,
            )
        )
    checks.sort(key=lambda c: list(CheckKind).index(c.kind))
    result = GateResult(
        run_id=run_id,
        workspace_id=target.workspace.id if target.workspace else None,
        path=str(target.root),
        status=overall_status(checks),
        score=overall_score(checks),
        checks=checks,
        started_at=started_at,
        finished_at=utcnow(),
        duration_ms=round((time.monotonic() - clock) * 1000, 1),
        python=_python_used(plan),
    )
    if target.workspace is not None:
        result.context_ids = await record_failures(store, search_index, target.workspace.id, result)
    return result


async def _gate_job(ctx: JobContext) -> dict[str, Any]:
    services = ctx.services
    params = ctx.job.params
    # Access is checked again here: the folder may have changed since the request.
    target = await resolve_target(
        services.store, services.settings, params.get("workspaceId"), params.get("workspacePath")
    )
    statuses: dict[str, str] = {}

    async def progress(check_id: str, status: str) -> None:
        statuses[check_id] = status
        await ctx.progress(checks=dict(statuses))

    kinds = [CheckKind(k) for k in params.get("checks") or list(CheckKind)]
    result = await run_gate(
        services.settings,
        services.store,
        services.search_index,
        target,
        kinds,
        ctx.job.id,
        progress,
    )
    return result.dump()


register_job(JOB_KIND, _gate_job)


def job_params(request: GateRequest, target: GateTarget) -> dict[str, Any]:
    return {
        "workspaceId": request.workspace_id,
        "workspacePath": None if request.workspace_id else os.fspath(target.root),
        "checks": [str(k) for k in request.kinds],
    }
