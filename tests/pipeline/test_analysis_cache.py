"""Analyses in the shared cache on a real redis-server: one key per distinct input under
`axon:cache:analyses:`, with its TTL; a damaged entry is analysed again."""

from __future__ import annotations

from redis.asyncio import Redis

from axon.models import WorkspaceType
from axon.pipeline.analysis_cache import analyze_cached
from axon.pipeline.analyzer import Analyzer
from axon.pipeline.collector import PromptMetadata
from axon.pipeline.types import TaskType
from axon.stores.redis_cache import RedisCache
from axon.stores.redis_client import RedisGuard

PROMPT = "Fix the KeyError in parse_config when the yaml file is empty"


async def _keys(redis: Redis) -> list[str]:
    return sorted([k.decode() async for k in redis.scan_iter("axon:cache:analyses:*")])


async def test_analyses_are_cached_per_input_with_their_ttl(redis: Redis) -> None:
    cache, analyzer = RedisCache(redis, RedisGuard()), Analyzer()
    coding = WorkspaceType.CODING
    expected = analyzer.analyze(PROMPT, None, coding, None)
    first = await analyze_cached(analyzer, cache, 600, PROMPT, None, coding, None)
    assert first == expected and first.task_type is TaskType.BUG_FIX
    (key,) = await _keys(redis)
    assert 590_000 < await redis.pttl(key) <= 600_000
    assert await analyze_cached(analyzer, cache, 600, PROMPT, None, coding, None) == expected

    # Each input that can change the analysis has its own entry.
    override = await analyze_cached(analyzer, cache, 600, PROMPT, None, coding, TaskType.TEST)
    assert override.task_type is TaskType.TEST and override.task_overridden
    meta = PromptMetadata(file="src/config.py")
    await analyze_cached(analyzer, cache, 600, PROMPT, meta, coding, None)
    assert len(await _keys(redis)) == 3

    # A damaged entry is analysed again and overwritten.
    await redis.set(key, b"{not json")
    assert await analyze_cached(analyzer, cache, 600, PROMPT, None, coding, None) == expected
    assert await redis.get(key) == expected.model_dump_json().encode()


async def test_ttl_zero_turns_the_cache_off(redis: Redis) -> None:
    cache, analyzer = RedisCache(redis, RedisGuard()), Analyzer()
    await analyze_cached(analyzer, cache, 0, PROMPT, None, WorkspaceType.CODING, None)
    assert await _keys(redis) == []
