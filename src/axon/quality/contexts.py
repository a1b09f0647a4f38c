"""Gate failures as `error` contexts, so later prompts about them retrieve the output.

Each run replaces the contexts the previous run of the same kinds left in the
workspace: one context per failing test, one per file with lint or type
findings, one per check that could not run.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from axon.models import Context, ContextType, Tier, content_hash
from axon.ports import ContextFilter, DocumentStore, SearchIndex
from axon.quality.models import CheckKind, CheckResult, CheckStatus, Finding, GateResult
from axon.tokens import count_tokens

SOURCE = "quality-gate"
MAX_CONTEXTS_PER_CHECK = 50


def _context(
    workspace_id: str,
    result: GateResult,
    check: CheckResult,
    key: str,
    title: str,
    content: str,
    path: str | None = None,
    line: int | None = None,
) -> Context:
    text = f"Quality gate {check.id} ({check.status}) in run {result.run_id}\n{title}\n\n{content}"
    return Context(
        id=f"gate:{workspace_id}:{content_hash(check.id + chr(0) + key)[:24]}",
        workspace_id=workspace_id,
        tier=Tier.WORKSPACE,
        type=ContextType.ERROR,
        title=title[:500],
        path=path,
        start_line=line,
        end_line=line,
        content=text,
        content_hash=content_hash(text),
        token_count=count_tokens(text),
        metadata={
            "source": SOURCE,
            "runId": result.run_id,
            "checkId": check.id,
            "kind": str(check.kind),
            "tool": check.tool,
        },
    )


def _finding_line(finding: Finding) -> str:
    where = ":".join(str(p) for p in (finding.file, finding.line, finding.column) if p is not None)
    rule = f" [{finding.rule}]" if finding.rule else ""
    return f"{where}: {finding.severity}{rule} {finding.message}"


def _check_contexts(workspace_id: str, result: GateResult, check: CheckResult) -> list[Context]:
    if check.status is CheckStatus.ERROR:
        title = f"{check.tool} could not run: {check.reason}"
        body = f"command: {' '.join(check.command)}\n\n{check.output}"
        return [_context(workspace_id, result, check, "error", title, body)]
    if check.status is not CheckStatus.FAILED:
        return []
    contexts = [
        _context(
            workspace_id, result, check, f"test:{failure.name}",
            f"{'Erroring' if failure.errored else 'Failing'} test {failure.name}",
            failure.message, failure.file, failure.line,
        )
        for failure in check.failures
    ]  # fmt: skip
    by_file: dict[str, list[Finding]] = defaultdict(list)
    for finding in check.findings:
        by_file[finding.file or ""].append(finding)
    for file, findings in by_file.items():
        noun = "type errors" if check.kind is CheckKind.TYPES else "lint findings"
        title = f"{check.tool} {noun} in {file or 'the project'}"
        body = "\n".join(_finding_line(f) for f in findings)
        contexts.append(
            _context(
                workspace_id,
                result,
                check,
                f"file:{file}",
                title,
                body,
                file or None,
                findings[0].line,
            )
        )
    return contexts[:MAX_CONTEXTS_PER_CHECK]


def _previous(context: Context, kinds: set[str]) -> bool:
    meta: dict[str, Any] = context.metadata
    return meta.get("source") == SOURCE and meta.get("kind") in kinds


async def record_failures(
    store: DocumentStore, search_index: SearchIndex | None, workspace_id: str, result: GateResult
) -> list[str]:
    """Store this run's error contexts, drop the previous run's; return the new ids."""
    contexts: list[Context] = []
    for check in result.checks:
        contexts += _check_contexts(workspace_id, result, check)
    kinds = {str(c.kind) for c in result.checks}
    flt = ContextFilter(workspace_id=workspace_id, types=[ContextType.ERROR])
    new_ids = {c.id for c in contexts}
    stale: list[str] = [
        c.id async for c in store.iter_contexts(flt) if _previous(c, kinds) and c.id not in new_ids
    ]
    if contexts:
        await store.put_contexts(contexts)
        if search_index is not None:
            await search_index.index(contexts)
    if stale:
        await store.delete_contexts(stale)
        if search_index is not None:
            await search_index.remove(stale)
    return [c.id for c in contexts]
