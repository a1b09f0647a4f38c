"""The quality gate: detect a workspace's tests, linters and type checkers, run them
in isolation, read their real results, and never report a pass that did not happen."""

from axon.quality.models import CheckKind, CheckResult, CheckStatus, GateResult
from axon.quality.service import JOB_KIND, GateRequest, resolve_target, run_gate

__all__ = [
    "JOB_KIND",
    "CheckKind",
    "CheckResult",
    "CheckStatus",
    "GateRequest",
    "GateResult",
    "resolve_target",
    "run_gate",
]
