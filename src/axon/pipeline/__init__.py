"""The prompt pipeline: collect -> analyze -> retrieve -> synthesize -> inject -> LLM ->
post-process, one small class per stage (see orchestrator.py for the whole flow)."""

from axon.pipeline.analyzer import Analyzer
from axon.pipeline.collector import Collector, PromptRequest
from axon.pipeline.injector import Injector
from axon.pipeline.orchestrator import Answer, Pipeline, Prepared
from axon.pipeline.postprocess import PostProcessor
from axon.pipeline.synthesizer import Synthesizer

__all__ = [
    "Analyzer",
    "Answer",
    "Collector",
    "Injector",
    "Pipeline",
    "PostProcessor",
    "Prepared",
    "PromptRequest",
    "Synthesizer",
]
