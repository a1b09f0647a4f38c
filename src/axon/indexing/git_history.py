"""What git knows about a workspace: each file's last commit, how often it changed and
with which files, the recent commits, and the uncommitted changes.

`git` itself is the reader (never a parser of our own for its object store), run with a
fixed argument vector, no shell, a timeout, a bound on what it may print, and an
environment and options that keep a hostile repository's configuration from running
anything: no fsmonitor, no hooks, no external diff or textconv, no signature checks
(`gpg.program`), every configured filter driver (`filter.<name>.clean`) emptied, no
pager, no system or global configuration, no optional locks (reading never rewrites the
user's index). Anything that goes wrong -- no git, not a work tree, no commit yet, a
timeout -- is "no history": the workspace is indexed from its files as without git.
"""

from __future__ import annotations

import logging
import os
import re
import subprocess
import threading
from collections import Counter
from dataclasses import dataclass
from itertools import combinations

from axon.indexing.ignore import SECRET_GLOBS, is_secret_name

log = logging.getLogger("axon.indexing.git")

DEFAULT_MAX_COMMITS = 1000  # commits one history read covers (AXON_GIT_MAX_COMMITS)
TIMEOUT_SECONDS = 20.0
MAX_LOG_BYTES = 32 * 1024 * 1024  # the log's text; beyond it, the commits read so far
MAX_LIST_BYTES = 8 * 1024 * 1024  # a list of file names
MAX_SMALL_BYTES = 1024 * 1024  # any other command's output
# A commit touching more files than this (a reformat, a vendored drop, a rename of a
# folder) says nothing about which files belong together: no co-change pairs from it.
MAX_COCHANGE_FILES = 20
CO_CHANGED_KEPT = 5  # partners recorded per file, most frequent first

# Options on every command: a repository's own configuration must not make reading it
# run a program (fsmonitor, hooks, signature verification) or page its output.
_SAFE_CONFIG = (
    "core.fsmonitor=false",
    "core.hooksPath=/dev/null",
    "core.pager=cat",
    "log.showSignature=false",
    "diff.external=",
    "core.quotePath=false",
)
_MARK = "\x01"  # starts each commit in the log's output (a path never begins with it)
_SHA = re.compile(r"[0-9a-f]{40}(?:[0-9a-f]{24})?")
# A configured filter driver whose name can be given back safely in `-c`.
_FILTER_KEY = re.compile(r"filter\.([^\s=]+)\.[a-z]+")


@dataclass(frozen=True, slots=True)
class FileChange:
    path: str  # relative to the workspace root, forward slashes
    added: int | None  # None: a binary file, or read without line counts
    deleted: int | None


@dataclass(frozen=True, slots=True)
class Commit:
    sha: str
    author: str
    authored_at: int  # epoch seconds
    committed_at: int
    message: str
    files: tuple[FileChange, ...]


@dataclass(frozen=True, slots=True)
class FileHistory:
    last_commit: str
    last_commit_at: int  # committer time of the newest commit touching the file
    commits: int  # commits touching it among those read: its change frequency
    co_changed: tuple[tuple[str, int], ...]  # files changed in the same commits, counts


@dataclass(slots=True)
class History:
    head: str
    commits: list[Commit]  # newest first
    files: dict[str, FileHistory]
    uncommitted: frozenset[str]  # tracked files whose working copy differs from HEAD
    untracked: frozenset[str]  # files git does not track (nor ignore)
    truncated: bool = False  # the log hit its byte bound: fewer commits than asked


def _env() -> dict[str, str]:
    """The process environment without any GIT_* variable of the caller (GIT_DIR,
    GIT_CONFIG_PARAMETERS...), without system and global configuration."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("GIT_")}
    env.update(
        GIT_CONFIG_NOSYSTEM="1",
        GIT_CONFIG_GLOBAL=os.devnull,
        GIT_TERMINAL_PROMPT="0",
        GIT_PAGER="cat",
        GIT_OPTIONAL_LOCKS="0",
        LC_ALL="C",
    )
    return env


def _run(
    root: str,
    args: list[str],
    *,
    limit: int = MAX_SMALL_BYTES,
    extra_config: tuple[str, ...] = (),
    timeout: float = TIMEOUT_SECONDS,
) -> tuple[bytes, bool] | None:
    """(stdout, truncated) of `git args` in `root`, or None when git is missing, fails
    or times out. Output beyond `limit` bytes stops the process."""
    argv = ["git", "--no-pager"]
    for item in (*_SAFE_CONFIG, *extra_config):
        argv += ["-c", item]
    argv += args
    try:
        proc = subprocess.Popen(  # a fixed argument vector, no shell
            argv,
            cwd=root,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            env=_env(),
            start_new_session=True,
        )
    except OSError:
        return None
    timer = threading.Timer(timeout, proc.kill)
    timer.start()
    try:
        assert proc.stdout is not None
        data = proc.stdout.read(limit + 1)
        truncated = len(data) > limit
        if truncated:
            proc.kill()
            data = data[:limit]
        code = proc.wait()
    finally:
        timer.cancel()
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        if proc.stdout is not None:
            proc.stdout.close()
    if code != 0 and not truncated:
        return None
    return data, truncated


def head(root: str, timeout: float = TIMEOUT_SECONDS) -> str | None:
    """The commit checked out, when `root` lies in a git work tree with one."""
    result = _run(
        root, ["rev-parse", "--is-inside-work-tree", "--verify", "-q", "HEAD"], timeout=timeout
    )
    if result is None:
        return None
    lines = result[0].decode("ascii", "replace").split()
    if len(lines) != 2 or lines[0] != "true" or not _SHA.fullmatch(lines[1]):
        return None
    return lines[1]


def _log(root: str, count: int, stat: str) -> tuple[list[Commit], bool] | None:
    """The newest `count` non-merge commits touching `root`'s tree, each with its files
    (`stat`: `--name-only`, a tree comparison, or `--numstat`, which diffs every file
    and costs ~25x more), and whether the byte bound cut the output."""
    result = _run(
        root,
        [
            "log",
            f"-n{count}",
            "--no-merges",
            "--no-renames",
            "--no-ext-diff",
            "--no-textconv",
            "--relative",
            stat,
            "-z",
            "--format=%x01%H%x00%an%x00%at%x00%ct%x00%B",  # %x01: _MARK
            "HEAD",
            "--",
            ".",
        ],
        limit=MAX_LOG_BYTES,
    )
    if result is None:
        return None
    data, truncated = result
    commits = parse_log(
        data.decode("utf-8", "replace"), numstat=stat == "--numstat", complete=not truncated
    )
    return commits, truncated


def read_history(root: str, max_commits: int = DEFAULT_MAX_COMMITS) -> History | None:
    """The last `max_commits` commits touching `root`'s tree, in one `git log
    --name-only` pass, and the files that differ from HEAD or are untracked; None when
    `root` has no git history to read."""
    if max_commits <= 0:
        return None
    sha = head(root)
    if sha is None:
        return None
    log_ = _log(root, max_commits, "--name-only")
    uncommitted = changed_since_head(root)
    others = untracked(root)
    if log_ is None or uncommitted is None or others is None:
        return None  # which files are committed as they are is unknown: no history
    commits, truncated = log_
    return History(sha, commits, file_histories(commits), uncommitted, others, truncated)


def recent_commits(root: str, count: int) -> list[Commit] | None:
    """The newest `count` commits with their diffstat (lines added and deleted)."""
    if count <= 0:
        return []
    found = _log(root, count, "--numstat")
    return None if found is None else found[0]


def parse_log(text: str, *, numstat: bool, complete: bool = True) -> list[Commit]:
    """Commits of `git log -z --format=<mark>%H%x00%an%x00%at%x00%ct%x00%B` with
    `--name-only` or (`numstat`) `--numstat`.

    NUL separates every field; a commit starts with the mark and its hash, then author,
    two times and the message, then one token per file: its path, or
    `added<TAB>deleted<TAB>path`. With `complete` False (the output was cut) the last
    commit is dropped.
    """
    tokens = text.split("\0")
    commits: list[Commit] = []
    i = 0
    while i + 4 < len(tokens):
        first = tokens[i].lstrip("\n")
        sha = first.removeprefix(_MARK)
        if sha == first or not _SHA.fullmatch(sha):
            i += 1  # not a commit's start (cannot happen with git's output): resync
            continue
        author, authored, committed, message = tokens[i + 1 : i + 5]
        i += 5
        files: list[FileChange] = []
        while i < len(tokens) and not tokens[i].lstrip("\n").startswith(_MARK):
            token = tokens[i].lstrip("\n")
            change = _numstat(token) if numstat else FileChange(token, None, None)
            if change is not None and change.path:
                files.append(change)
            i += 1
        if not (authored.isdigit() and committed.isdigit()):
            continue
        commits.append(
            Commit(sha, author, int(authored), int(committed), message.strip(), tuple(files))
        )
    if not complete and commits:
        commits.pop()  # its file list may be cut
    return commits


def _numstat(token: str) -> FileChange | None:
    added, _, rest = token.partition("\t")
    deleted, _, path = rest.partition("\t")
    if not path:
        return None
    return FileChange(
        path,
        int(added) if added.isdigit() else None,
        int(deleted) if deleted.isdigit() else None,
    )


def file_histories(commits: list[Commit]) -> dict[str, FileHistory]:
    """Per file: its newest commit, how many of `commits` touched it, and the files that
    changed with it most often (commits of at most MAX_COCHANGE_FILES files)."""
    newest: dict[str, Commit] = {}
    counts: Counter[str] = Counter()
    pairs: dict[str, Counter[str]] = {}
    for commit in commits:  # newest first
        paths = sorted({f.path for f in commit.files})
        for path in paths:
            newest.setdefault(path, commit)
            counts[path] += 1
        if 2 <= len(paths) <= MAX_COCHANGE_FILES:
            for a, b in combinations(paths, 2):
                pairs.setdefault(a, Counter())[b] += 1
                pairs.setdefault(b, Counter())[a] += 1
    result: dict[str, FileHistory] = {}
    for path, commit in newest.items():
        partners = pairs.get(path)
        best = (
            tuple(sorted(partners.items(), key=lambda kv: (-kv[1], kv[0]))[:CO_CHANGED_KEPT])
            if partners
            else ()
        )
        result[path] = FileHistory(commit.sha, commit.committed_at, counts[path], best)
    return result


def _filter_drivers(root: str, timeout: float = TIMEOUT_SECONDS) -> tuple[str, ...] | None:
    """`-c` options emptying every filter driver the configuration names (a clean filter
    runs a program on each file git compares with the work tree); None when a name
    cannot be given back safely."""
    result = _run(
        root, ["config", "--null", "--name-only", "--get-regexp", r"^filter\."], timeout=timeout
    )
    if result is None:
        return ()  # no filter configured (git config exits 1 when nothing matches)
    names: set[str] = set()
    for key in result[0].decode("utf-8", "replace").split("\0"):
        if not key:
            continue
        match = _FILTER_KEY.fullmatch(key)
        if match is None:
            return None
        names.add(match.group(1))
    options: list[str] = []
    for name in sorted(names):
        options += [f"filter.{name}.{part}=" for part in ("clean", "smudge", "process")]
        options.append(f"filter.{name}.required=false")
    return tuple(options)


_WORKTREE_DIFF = ["--no-ext-diff", "--no-textconv", "--no-renames", "--ignore-submodules=all"]


def changed_since_head(root: str) -> frozenset[str] | None:
    """Tracked files (relative to `root`) whose working copy differs from HEAD."""
    drivers = _filter_drivers(root)
    if drivers is None:
        return None
    result = _run(
        root,
        ["diff", "HEAD", "--name-only", "-z", "--relative", *_WORKTREE_DIFF, "--", "."],
        limit=MAX_LIST_BYTES,
        extra_config=drivers,
    )
    if result is None or result[1]:
        return None
    return frozenset(p for p in result[0].decode("utf-8", "replace").split("\0") if p)


def untracked(root: str) -> frozenset[str] | None:
    """Files under `root` (relative to it) that git neither tracks nor ignores."""
    result = _run(
        root, ["ls-files", "-z", "--others", "--exclude-standard", "--", "."], limit=MAX_LIST_BYTES
    )
    if result is None or result[1]:
        return None
    return frozenset(p for p in result[0].decode("utf-8", "replace").split("\0") if p)


def _secret_excludes() -> list[str]:
    return [f":(exclude,glob)**/{glob}" for glob in SECRET_GLOBS]


@dataclass(frozen=True, slots=True)
class WorkingDiff:
    text: str  # `git diff HEAD` without secret files, cut at the byte bound
    files: tuple[str, ...]
    truncated: bool


def working_diff(root: str, max_bytes: int, timeout: float = TIMEOUT_SECONDS) -> WorkingDiff | None:
    """The uncommitted changes of `root`'s tree against HEAD as a patch, secret files
    (`.env`, keys) left out by name; None without history or changes. `timeout` bounds
    each git command."""
    if head(root, timeout) is None:
        return None
    drivers = _filter_drivers(root, timeout)
    if drivers is None:
        return None
    common = ["diff", "HEAD", "--relative", *_WORKTREE_DIFF]
    names = _run(
        root,
        [*common, "--name-only", "-z", "--", ".", *_secret_excludes()],
        limit=MAX_LIST_BYTES,
        extra_config=drivers,
        timeout=timeout,
    )
    if names is None:
        return None
    files = tuple(
        p
        for p in names[0].decode("utf-8", "replace").split("\0")
        if p and not is_secret_name(p.rsplit("/", 1)[-1])
    )
    if not files:
        return None
    patch = _run(
        root,
        [*common, "--", ".", *_secret_excludes()],
        limit=max_bytes,
        extra_config=drivers,
        timeout=timeout,
    )
    if patch is None:
        return None
    data, truncated = patch
    text = data.decode("utf-8", "replace")
    if truncated:
        text = text[: text.rfind("\n") + 1] if "\n" in text else ""
    return WorkingDiff(text, files, truncated)
