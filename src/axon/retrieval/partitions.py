"""Which index partition a context lives in, and which ones a search covers.

Workspace-tier contexts are searched only from their own workspace; hybrid ones
from their workspace and its relatives (parent root workspace and siblings);
global ones from everywhere, one partition per tenant (`global` for untenanted
ones, `global:<tenant>`): a caller searches the shared one and its own tenant's.
Partitions keep each search to the rows it may see. A workspace's commits
(`commit` contexts of its git history) have their own partition, `history:<workspace>`,
searched only for questions about changes: they never compete with code otherwise.
"""

from __future__ import annotations

from axon.models import Context, ContextType, Tier

GLOBAL_PARTITION = "global"


def partition_of(context: Context) -> str:
    if context.tier is Tier.GLOBAL:
        return global_partition(context.tenant)
    if context.tier is Tier.WORKSPACE and context.type is ContextType.COMMIT:
        return history_partition(context.workspace_id)
    return partition_for(context.workspace_id, context.tier)


def history_partition(workspace_id: str) -> str:
    return f"history:{workspace_id}"


def global_partition(tenant: str | None) -> str:
    return GLOBAL_PARTITION if tenant is None else f"{GLOBAL_PARTITION}:{tenant}"


def partition_for(workspace_id: str, tier: Tier) -> str:
    if tier is Tier.GLOBAL:
        return GLOBAL_PARTITION
    if tier is Tier.HYBRID:
        return f"hybrid:{workspace_id}"
    return workspace_id
