"""Who is calling, and which workspaces it may touch: the one authorization check.

Every consumer (REST routes, MCP tools, chat-compatible endpoints, the pipeline)
asks the same two questions of the caller's `Principal`:

- `principal.can_access(workspace_id)`: may it read and change this workspace?
- `ensure_access(principal, workspace_id)`: the same, raising the error a missing
  workspace gets (404 WORKSPACE_NOT_FOUND), so a key cannot tell a workspace it may
  not see from one that does not exist.

A key without a workspace list is unrestricted, like every key made before the
list existed; with auth off the caller is `FULL_ACCESS`. Global-tier contexts are
shared across workspaces, so they are scoped by tenant instead: a caller sees the
untenanted ones and those of its own tenant (see `global_partitions`).
"""

from __future__ import annotations

from dataclasses import dataclass

from axon.errors import Forbidden, WorkspaceNotFound
from axon.models import ApiKey, Context, Tier


@dataclass(frozen=True, slots=True)
class Principal:
    key_id: str | None = None  # None: auth is off (or a local CLI run)
    workspaces: frozenset[str] | None = None  # None: every workspace
    tenant: str | None = None
    budget_usd: float | None = None  # LLM spend allowed to this key, in total

    @classmethod
    def of(cls, key: ApiKey) -> Principal:
        return cls(
            key_id=key.id,
            workspaces=frozenset(key.workspaces) if key.workspaces is not None else None,
            tenant=key.tenant,
            budget_usd=key.budget_usd,
        )

    @property
    def restricted(self) -> bool:
        return self.workspaces is not None

    def can_access(self, workspace_id: str | None) -> bool:
        """Whether the caller may use this workspace. Records of no workspace (the scheduled
        evolution job, gate runs of a bare folder) belong to unrestricted callers only."""
        if self.workspaces is None:
            return True
        return workspace_id is not None and workspace_id in self.workspaces

    def can_read(self, context: Context) -> bool:
        """A context is readable from its own workspace, and a global one from any
        workspace of a caller who may see its tenant."""
        if self.can_access(context.workspace_id):
            return True
        return context.tier is Tier.GLOBAL and context.tenant in (None, self.tenant)


FULL_ACCESS = Principal()
# Where the security middleware leaves the caller's Principal in the ASGI scope's state
# (absent with auth off: FULL_ACCESS).
PRINCIPAL_STATE = "principal"


def ensure_access(principal: Principal, workspace_id: str, field: str = "workspaceId") -> None:
    """Raise 404 WORKSPACE_NOT_FOUND unless the caller may use the workspace. Entry points
    resolve names first (`axon.workspaces.find_workspace`, whose 404 suggests names the
    caller may see); this is the check every later layer repeats on the resolved id."""
    if not principal.can_access(workspace_id):
        raise WorkspaceNotFound(workspace_id, field)


def ensure_global_write(principal: Principal, tier: Tier | None) -> None:
    """Global contexts reach every workspace's prompts. A restricted key writes them only
    within its tenant; one without a tenant would be writing for everybody."""
    if tier is Tier.GLOBAL and principal.restricted and principal.tenant is None:
        raise Forbidden(
            "this API key may not write global contexts: it has workspaces but no tenant",
            code="TIER_FORBIDDEN",
            details=[{"field": "tier", "message": "global needs an unrestricted key or a tenant"}],
        )
