"""The role of a file in its project: implementation, test, docs, example, config or
generated, by path and language alone (never by project name).

Ranking weighs roles by task (a bug report wants the implementation, "how do I"
wants docs and examples), and project facts leave test fixtures out.
"""

from __future__ import annotations

import re

from axon.indexing.languages import PROSE, Family, family_of
from axon.kinds import ContextType, Role
from axon.models import Context

# Each alternative is anchored by a literal; none can match the same text two ways.
_GENERATED = re.compile(
    r"_pb2(?:_grpc)?\.pyi?$|\.pb\.(?:go|cc|h)$|(?:^|/)generated/|\.generated\.\w+$"
    r"|\.g\.dart$|\.min\.(?:js|css)$"
)
_TEST = re.compile(
    r"(?:^|/)(?:tests?|testing|__tests__|spec|specs)/|(?:^|/)test_[^/]*$|(?:^|/)conftest\.py$"
    r"|_tests?\.(?:py|go|rs|exs?)$|\.(?:test|spec)\.[cm]?[jt]sx?$|(?:^|/)src/test/"
    r"|Tests?\.(?:java|kt|cs|scala)$|_spec\.rb$"
)
_EXAMPLE = re.compile(r"(?:^|/)(?:examples?|samples?|demos?|tutorials?)/")
_DOCS_DIR = re.compile(r"(?:^|/)docs?/")
_ROLE_VALUES = frozenset(r.value for r in Role)
_BY_TYPE = {
    ContextType.DOCUMENTATION: Role.DOCS,
    ContextType.NOTE: Role.DOCS,
    ContextType.DECISION: Role.DOCS,
    ContextType.PATTERN: Role.DOCS,
    ContextType.CONVERSATION: Role.DOCS,
    ContextType.COMMIT: Role.DOCS,
    ContextType.ARCHITECTURE: Role.CONFIG,
    ContextType.DEPENDENCY: Role.CONFIG,
}


def path_role(path: str, language: str | None) -> Role:
    if _GENERATED.search(path):
        return Role.GENERATED
    if _TEST.search(path):
        return Role.TEST
    if _EXAMPLE.search(path):
        return Role.EXAMPLE
    if language in PROSE or _DOCS_DIR.search(path):
        return Role.DOCS
    if family_of(language) is Family.CONFIG:
        return Role.CONFIG
    return Role.IMPLEMENTATION


def role_of(path: str | None, type: ContextType, language: str | None) -> Role:
    """A context's role: its file's, or its type's when it has no real file (project
    facts under `.axon/`, hand-written decisions and notes)."""
    if path is None or path.startswith(".axon/"):
        return _BY_TYPE.get(type, Role.IMPLEMENTATION)
    return path_role(path, language)


def context_role(context: Context) -> Role:
    """The role indexing recorded (`metadata.role`), or the same rule for contexts
    indexed before roles were recorded."""
    recorded = context.metadata.get("role")
    if isinstance(recorded, str) and recorded in _ROLE_VALUES:
        return Role(recorded)
    return role_of(context.path, context.type, context.language)
