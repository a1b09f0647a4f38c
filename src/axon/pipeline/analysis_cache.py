"""Analyses in the shared cache (kind `analyses`): the analyzer is deterministic, so
replicas reuse each other's result for the same prompt, metadata, workspace type and
task override. The key carries Axon's version, since the analyzer's rules change
between releases."""

from __future__ import annotations

import asyncio

from pydantic import ValidationError

import axon
from axon.models import WorkspaceType
from axon.pipeline.analyzer import Analyzer
from axon.pipeline.collector import PromptMetadata
from axon.pipeline.types import Analysis, TaskType
from axon.ports import Cache
from axon.retrieval.query_cache import digest

KIND = "analyses"


async def analyze(
    analyzer: Analyzer,
    prompt: str,
    metadata: PromptMetadata | None,
    workspace_type: WorkspaceType,
    task_override: TaskType | None,
) -> Analysis:
    # Dozens of patterns over a prompt of up to MAX_PROMPT_CHARS: CPU work, so it runs on
    # a worker thread and the event loop keeps answering (health probes, other requests).
    return await asyncio.to_thread(
        analyzer.analyze, prompt, metadata, workspace_type, task_override
    )


async def analyze_cached(
    analyzer: Analyzer,
    cache: Cache,
    ttl_seconds: float,
    prompt: str,
    metadata: PromptMetadata | None,
    workspace_type: WorkspaceType,
    task_override: TaskType | None,
) -> Analysis:
    if ttl_seconds <= 0:
        return await analyze(analyzer, prompt, metadata, workspace_type, task_override)
    key = digest(
        axon.__version__,
        prompt,
        metadata.model_dump_json() if metadata is not None else "",
        str(workspace_type),
        str(task_override or ""),
    )
    raw = await cache.get(KIND, key)
    if raw is not None:
        try:
            return Analysis.model_validate_json(raw)
        except ValidationError:
            pass  # written by another version's model: analyse again and overwrite
    analysis = await analyze(analyzer, prompt, metadata, workspace_type, task_override)
    await cache.set(KIND, key, analysis.model_dump_json().encode(), ttl_seconds)
    return analysis
