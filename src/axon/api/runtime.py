"""Process settings for a serving process.

A prompt allocates thousands of short-lived objects over a large long-lived heap
(the lexical index's look-up tables, cached contexts). With CPython's default
garbage-collector thresholds the young generation is collected every 700
allocations and the older ones follow often, which cost a quarter of a worker's
throughput in the pipeline benchmark (bench/README.md, "Prompt pipeline").
Reference counting still frees almost everything at once; the cycle collector
only has to run less often.
"""

from __future__ import annotations

import gc

GC_THRESHOLDS = (20_000, 50, 50)  # young, middle, old (CPython default 700, 10, 10)


def tune_gc_for_serving() -> None:
    """Collect cycles less often (process-wide: called by a server's startup)."""
    gc.set_threshold(*GC_THRESHOLDS)
