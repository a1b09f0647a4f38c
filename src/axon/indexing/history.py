"""Git history as context data: each file's change time, change frequency and co-change
partners (recorded in its contexts' metadata), and the recent commits as `commit`
contexts under a virtual path.

`metadata.changedAt` (epoch seconds) is when a file's content last changed: its last
commit's time, or its mtime when the working copy differs from HEAD or git does not
track it. Ranking reads it for freshness (a fresh clone gives every file the same
mtime, its history does not). Set only in a git work tree: elsewhere freshness stays
the time the indexer saw the content change.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from axon.indexing.chunking import to_contexts
from axon.indexing.chunks import Chunk
from axon.indexing.git_history import Commit, History
from axon.indexing.ignore import VIRTUAL_DIR
from axon.models import Context, ContextType
from axon.tokens import count_tokens_many

COMMITS_PATH = f"{VIRTUAL_DIR}/git-commits"
DEFAULT_COMMIT_CONTEXTS = 50  # recent commits kept as contexts (AXON_GIT_COMMIT_CONTEXTS)
MAX_MESSAGE_CHARS = 2000
MAX_LISTED_FILES = 40  # a commit's diffstat lists at most this many files


def file_metadata(history: History, path: str, mtime_ns: int) -> dict[str, Any]:
    """What git says about one file: `changedAt`, and `git` (its commits among those
    read, the newest one, the files most often changed with it) when it has history."""
    known = history.files.get(path)
    if path in history.uncommitted or path in history.untracked:
        changed = mtime_ns // 1_000_000_000
    elif known is not None:
        changed = known.last_commit_at
    elif history.commits:
        # Tracked but untouched by the commits read: no newer than the oldest of them.
        changed = history.commits[-1].committed_at
    else:
        changed = mtime_ns // 1_000_000_000
    meta: dict[str, Any] = {"changedAt": changed}
    if known is not None:
        meta["git"] = {
            "commits": known.commits,
            "lastCommit": known.last_commit[:12],
            "coChanged": [[other, count] for other, count in known.co_changed],
        }
    return meta


def with_file_metadata(contexts: list[Context], meta: dict[str, Any]) -> list[Context]:
    """Copies of `contexts` carrying `meta` (the previous git keys replaced)."""
    out = []
    for ctx in contexts:
        metadata = {k: v for k, v in ctx.metadata.items() if k not in ("changedAt", "git")}
        metadata.update(meta)
        out.append(
            ctx if metadata == ctx.metadata else ctx.model_copy(update={"metadata": metadata})
        )
    return out


def _when(epoch: int) -> str:
    return datetime.fromtimestamp(epoch, UTC).strftime("%Y-%m-%d %H:%M UTC")


def commit_text(commit: Commit) -> str:
    """The commit as a person reads it in `git log --stat`: hash, author, date, message
    and a bounded diffstat (never a patch)."""
    message = commit.message
    if len(message) > MAX_MESSAGE_CHARS:
        message = message[:MAX_MESSAGE_CHARS].rstrip() + " …"
    added = sum(f.added or 0 for f in commit.files)
    deleted = sum(f.deleted or 0 for f in commit.files)
    lines = [
        f"commit {commit.sha}",
        f"Author: {commit.author}",
        f"Date: {_when(commit.authored_at)}",
        "",
        message,
        "",
        f"{len(commit.files)} files changed, +{added} -{deleted}:",
    ]
    for change in commit.files[:MAX_LISTED_FILES]:
        stat = (
            "binary"
            if change.added is None or change.deleted is None
            else f"+{change.added} -{change.deleted}"
        )
        lines.append(f"  {change.path} | {stat}")
    if len(commit.files) > MAX_LISTED_FILES:
        lines.append(f"  ... and {len(commit.files) - MAX_LISTED_FILES} more files")
    return "\n".join(lines) + "\n"


def commit_contexts(workspace_id: str, commits: list[Commit]) -> list[Context]:
    """Commits as `commit` contexts (one each, its id from its hash)."""
    chunks = []
    for commit in commits:
        subject = commit.message.splitlines()[0] if commit.message else ""
        chunks.append(
            Chunk(
                ContextType.COMMIT,
                commit_text(commit),
                1,
                1,
                symbol=commit.sha[:12],
                symbol_kind="commit",
                title=f"commit {commit.sha[:12]}: {subject[:120]}",
                metadata={
                    "sha": commit.sha,
                    "author": commit.author,
                    "changedAt": commit.committed_at,
                    "files": [f.path for f in commit.files[:MAX_LISTED_FILES]],
                },
            )
        )
    counts = count_tokens_many([c.content for c in chunks])
    return to_contexts(workspace_id, COMMITS_PATH, None, chunks, counts)
