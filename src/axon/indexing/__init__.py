"""Workspace indexing: scan a folder, chunk files along their structure, derive
project facts, and keep the context base and search index in step, incrementally.

Importing the package registers the `scan` and `embed` jobs.
"""

from axon.indexing.indexer import Indexer
from axon.indexing.job import EMBED_JOB, SCAN_JOB, totals
from axon.indexing.report import IndexReport
from axon.indexing.service import index_workspace

__all__ = ["EMBED_JOB", "SCAN_JOB", "IndexReport", "Indexer", "index_workspace", "totals"]
