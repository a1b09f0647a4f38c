"""Looking a name up in the code graph: where it is defined and where it is used.

A plain name (`current_app`) finds every definition and reference of that name. A
dotted one (`Flask.run`, `flask.globals.current_app`) narrows both: definitions whose
qualified name ends with it, references whose resolved target ends with it, and the
references that could not be resolved (`obj.run()`), marked as such, since any of them
may be one. A root workspace's look-up covers its sub-projects.
"""

from __future__ import annotations

import re

from pydantic import BaseModel, ConfigDict
from pydantic.alias_generators import to_camel

from axon.errors import InvalidInput
from axon.models import Workspace, WorkspaceType
from axon.ports import CodeSymbol, DocumentStore, SymbolRole
from axon.workspaces import children_of

# Identifiers joined by dots; each part starts with a letter, `_` or `$` (no
# backtracking: a part can only end at a dot or the end).
NAME_PATTERN = r"^[^\W\d][\w$]*(\.[^\W\d][\w$]*)*$"
MAX_NAME_CHARS = 200
MAX_SYMBOL_ROWS = 1000  # per look-up, definitions first: a common name has many uses
_NAME = re.compile(NAME_PATTERN)


class _Model(BaseModel):
    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True)


class SymbolDefinition(_Model):
    workspace_id: str
    path: str
    line: int
    kind: str  # function, method, class, variable, attribute, struct, trait, ...
    symbol: str | None  # qualified in its file: `Class.method`


class SymbolReference(_Model):
    model_config = ConfigDict(
        alias_generator=lambda n: "in" if n == "in_" else to_camel(n), populate_by_name=True
    )

    workspace_id: str
    path: str
    line: int
    kind: str  # import, call, inherit, attribute, name, decorator
    in_: str | None  # the definition the reference sits in; None: module level
    target: str | None  # the dotted name it resolves to, when it does
    resolved: bool


class SymbolsResponse(_Model):
    workspace_id: str
    name: str
    definitions: list[SymbolDefinition]
    references: list[SymbolReference]
    truncated: bool  # a very common name: only the first rows (definitions first)


def _definition(workspace_id: str, symbol: CodeSymbol) -> SymbolDefinition:
    return SymbolDefinition(
        workspace_id=workspace_id,
        path=symbol.path,
        line=symbol.line,
        kind=symbol.kind,
        symbol=symbol.scope,
    )


def _reference(workspace_id: str, symbol: CodeSymbol) -> SymbolReference:
    return SymbolReference(
        workspace_id=workspace_id,
        path=symbol.path,
        line=symbol.line,
        kind=symbol.kind,
        in_=symbol.scope,
        target=symbol.target,
        resolved=symbol.target is not None,
    )


def is_symbol_name(name: str) -> bool:
    return len(name) <= MAX_NAME_CHARS and _NAME.match(name) is not None


def invalid_symbol(name: str) -> InvalidInput:
    return InvalidInput.field(
        "name", f"not an identifier or a dotted name: {name[:80]!r}", code="INVALID_SYMBOL"
    )


def _matches(symbol: CodeSymbol, dotted: str | None) -> bool:
    if dotted is None:
        return True
    if symbol.role is SymbolRole.DEFINITION:
        qualified = symbol.scope or symbol.name
        return qualified == dotted or qualified.endswith("." + dotted)
    target = symbol.target
    return target is None or target == dotted or target.endswith("." + dotted)


async def look_up_symbol(store: DocumentStore, workspace: Workspace, name: str) -> SymbolsResponse:
    """Definitions and references of `name` (already checked by `is_symbol_name`) in
    the workspace, and in its sub-projects when it is a root."""
    searched = [workspace]
    if workspace.type is WorkspaceType.ROOT:
        searched += await children_of(store, workspace.id)
    last = name.rsplit(".", 1)[-1]
    dotted = name if "." in name else None
    definitions: list[SymbolDefinition] = []
    references: list[SymbolReference] = []
    truncated = False
    budget = MAX_SYMBOL_ROWS
    for each in searched:
        if budget == 0:
            truncated = True
            break
        rows = await store.find_symbols(each.id, last, budget + 1)
        truncated = truncated or len(rows) > budget
        rows = rows[:budget]
        budget -= len(rows)
        for row in rows:
            if not _matches(row, dotted):
                continue
            if row.role is SymbolRole.DEFINITION:
                definitions.append(_definition(each.id, row))
            else:
                references.append(_reference(each.id, row))
    return SymbolsResponse(
        workspace_id=workspace.id,
        name=name,
        definitions=definitions,
        references=references,
        truncated=truncated,
    )
