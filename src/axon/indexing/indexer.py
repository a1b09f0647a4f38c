"""Incremental indexing of one workspace folder into the context base.

A run scans the folder, skips files whose size and mtime match what was
stored (a stat each) and that were chunked under the current chunking rules,
re-reads the rest, skips re-chunking when the content hash still matches (and
the rules did not change), and replaces a changed file's contexts in one atomic
store write. Contexts keep their ids, usage and confidence across runs when
their symbol survives, and keep `updated_at` when their content is the same.
Chunking runs on a worker thread, one batch ahead of the store writes.

Order of writes, so that a kill at any point is repaired by the next plain run: a
batch's lexical rows (and removals) go to the search index first, then each file's
contexts and file state to the store. A file whose state is stored is therefore
searchable; one killed before that keeps its old state and is redone. Vectors follow
later (`SearchIndex.complete_embeddings`): what still waits for one is derived from
the index itself, so it is never lost either.
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from axon.errors import InvalidInput
from axon.indexing.backlinks import MARKDOWN_SUFFIXES, update_backlinks
from axon.indexing.chunking import CHUNKING_RULES, parse_file, to_contexts
from axon.indexing.chunks import Chunk, window_chunks
from axon.indexing.facts import FACTS_PATH, is_fact_source, project_facts
from axon.indexing.git_history import (
    DEFAULT_MAX_COMMITS,
    History,
    head,
    read_history,
    recent_commits,
)
from axon.indexing.history import (
    COMMITS_PATH,
    DEFAULT_COMMIT_CONTEXTS,
    commit_contexts,
    file_metadata,
    with_file_metadata,
)
from axon.indexing.ignore import VIRTUAL_DIR
from axon.indexing.languages import detect_language
from axon.indexing.report import IndexReport
from axon.indexing.scanner import DEFAULT_MAX_FILE_BYTES, ScannedFile, load, scan
from axon.models import Context, ContextType, Tier, Workspace, WorkspaceType, content_hash, utcnow
from axon.ports import CodeSymbol, ContextFilter, DocumentStore, FileState, SearchIndex
from axon.tokens import count_tokens_many

log = logging.getLogger("axon.indexing")

BATCH_FILES = 64
ProgressFn = Callable[[IndexReport], Awaitable[None]]
# Metadata the backlink pass owns; a re-chunked section inherits it until that pass runs.
_DERIVED_KEYS = ("linksTo", "backlinks")


@dataclass(slots=True)
class _Prepared:
    file: ScannedFile
    skip: str | None = None
    digest: str = ""
    size: int = 0
    mtime_ns: int = 0
    lines: int = 0
    contexts: list[Context] | None = None  # None: same content as stored
    symbols: list[CodeSymbol] | None = None  # its code graph; None: same content as stored
    error: str | None = None


@dataclass(slots=True)
class Indexer:
    store: DocumentStore
    search_index: SearchIndex
    workspace: Workspace
    max_file_bytes: int = DEFAULT_MAX_FILE_BYTES
    full: bool = False  # re-read and re-chunk every file, then reconcile the search index
    extra_excludes: Sequence[str] = ()  # workspace-relative folders to leave out (sub-projects)
    git_max_commits: int = DEFAULT_MAX_COMMITS  # 0: ignore git history
    git_commit_contexts: int = DEFAULT_COMMIT_CONTEXTS  # recent commits kept as contexts
    progress: ProgressFn | None = None
    report: IndexReport = field(init=False)
    _to_index: list[Context] = field(default_factory=list)
    _to_remove: list[str] = field(default_factory=list)
    # Store writes that wait for the batch's index writes: (file state, its contexts, its
    # symbols or None to keep them), and the paths whose file is gone.
    _to_store: list[tuple[FileState, list[Context], list[CodeSymbol] | None]] = field(
        default_factory=list
    )
    _to_unstore: list[str] = field(default_factory=list)
    _lines: dict[str, int] = field(default_factory=dict)
    _seen_lock: threading.Lock = field(default_factory=threading.Lock)
    _head: str | None = None  # the commit checked out, in a git work tree
    _history: History | None = None  # read when the run first re-chunks a file
    _history_read: bool = False

    def __post_init__(self) -> None:
        self.report = IndexReport(self.workspace.id)

    @property
    def root(self) -> str:
        path = self.workspace.path
        if not path or not Path(path).is_dir():
            raise InvalidInput.field(
                "path", f"workspace '{self.workspace.id}' has no folder to index: {path!r}"
            )
        return path

    async def run(self) -> IndexReport:
        root = self.root
        ws = self.workspace.id
        states = await self.store.get_file_states(ws)
        # Files that lost contexts behind the indexer's back (retention clean-up), or were
        # chunked under older chunking rules, must be re-chunked though their bytes did
        # not change.
        counts = await self.store.context_counts(ws)
        redo = {
            p
            for p, s in states.items()
            if s.context_count > counts.get(p, 0) or s.rules_version != CHUNKING_RULES
        }
        result = await asyncio.to_thread(scan, root, self.max_file_bytes)
        files = [f for f in result.files if not self._excluded(f.path)]
        self.report.skipped.update(result.skipped)
        self.report.files_total = len(files)
        todo: list[ScannedFile] = []
        for file in files:
            state = states.get(file.path)
            if (
                not self.full
                and state is not None
                and state.size == file.size
                and state.mtime_ns == file.mtime_ns
                and file.path not in redo
            ):
                self.report.unchanged += 1
                self.report.files_seen += 1
            else:
                todo.append(file)
        if self.progress is not None:  # the total is known: progress can start showing
            await self.progress(self.report)
        if self.git_max_commits > 0:
            self._head = await asyncio.to_thread(head, root)
        changed_paths = await self._process(todo, states, redo)
        present = {f.path for f in files}
        gone = [p for p in states if p not in present and not p.startswith(VIRTUAL_DIR + "/")]
        for path in gone:
            await self._remove(path)
        await self._flush()
        await self._write_commits(states.get(COMMITS_PATH))
        # New only if it got a state: a file skipped at every reading (not UTF-8, a
        # secret) is no addition, or each no-change run would rebuild the facts.
        added = any(p not in states for p in changed_paths)
        if self.full or added or gone or any(is_fact_source(p) for p in changed_paths):
            await self._write_facts(files)
        if any(p.lower().endswith(MARKDOWN_SUFFIXES) for p in [*changed_paths, *gone]):
            await update_backlinks(self.store, self.search_index, ws, present)
        if self.full:  # the vectors follow, like every run's
            await self.search_index.reconcile(ws, embed=False)
        await self.store.update_workspace(ws, {"last_indexed_at": utcnow()})
        if self.progress is not None:
            await self.progress(self.report)
        return self.report

    async def _git_history(self) -> History | None:
        """The history, read once per run and only by a run that re-chunks a file (a
        no-change run, or one that only meets skipped files, costs one `rev-parse`)."""
        if not self._history_read and self._head is not None:
            self._history_read = True
            self._history = await asyncio.to_thread(read_history, self.root, self.git_max_commits)
        return self._history

    async def _write_commits(self, state: FileState | None) -> None:
        """The recent commits as contexts (removed when the folder has no history)."""
        if self._head is None:
            if state is not None:  # no longer a git work tree (or git turned off)
                await self._remove(COMMITS_PATH)
                await self._flush()
            return
        digest = self._commits_digest(self._head)
        if state is not None and state.content_hash == digest:
            return
        # Their diffstat costs a diff of every file they touched: read only when HEAD moved.
        commits = await asyncio.to_thread(recent_commits, self.root, self.git_commit_contexts)
        if commits is None:
            return  # git failed here: the previous commits stay until the next run
        contexts = await asyncio.to_thread(commit_contexts, self.workspace.id, commits)
        await self.write_virtual(COMMITS_PATH, contexts, digest=digest)

    def _commits_digest(self, sha: str) -> str:
        """What the commit contexts are made from: HEAD and how many are kept."""
        return f"git:{sha}:{self.git_commit_contexts}"

    async def _git_metadata(
        self, path: str, mtime_ns: int, contexts: list[Context]
    ) -> list[Context]:
        history = await self._git_history()
        if history is None:
            return contexts
        return with_file_metadata(contexts, file_metadata(history, path, mtime_ns))

    def _excluded(self, path: str) -> bool:
        return any(path == d or path.startswith(d + "/") for d in self.extra_excludes)

    async def _process(
        self, todo: list[ScannedFile], states: dict[str, FileState], redo: set[str]
    ) -> list[str]:
        """Prepare batches on a thread while the previous batch is written; return the
        paths whose content changed (or was re-chunked)."""
        known = (
            {p: s.content_hash for p, s in states.items() if p not in redo} if not self.full else {}
        )
        batches = [todo[i : i + BATCH_FILES] for i in range(0, len(todo), BATCH_FILES)]
        changed: list[str] = []
        ahead: asyncio.Future[list[_Prepared]] | None = None
        try:
            for number, batch in enumerate(batches):
                current = ahead or asyncio.ensure_future(self._prepare(batch, known))
                ahead = None
                if number + 1 < len(batches):
                    ahead = asyncio.ensure_future(self._prepare(batches[number + 1], known))
                for item in await current:
                    if await self._apply(item, states.get(item.file.path)):
                        changed.append(item.file.path)
                await self._flush()
                if self.progress is not None:
                    await self.progress(self.report)
        finally:
            if ahead is not None:
                ahead.cancel()
        return changed

    async def _prepare(self, batch: list[ScannedFile], known: dict[str, str]) -> list[_Prepared]:
        ws = self.workspace
        mine = {f.path: known[f.path] for f in batch if f.path in known}
        return await asyncio.to_thread(
            prepare_batch, ws.id, ws.type, batch, mine, self.max_file_bytes, self._seen
        )

    def _seen(self) -> None:
        """Count a file as soon as it is read and chunked (on the preparing thread; two
        batches may be prepared at once), so progress advances file by file."""
        with self._seen_lock:
            self.report.files_seen += 1

    async def _apply(self, item: _Prepared, state: FileState | None) -> bool:
        """Write one prepared file; return True when its content changed."""
        path = item.file.path
        if item.error:
            self.report.error(item.error)
        if item.skip is not None:
            self.report.skipped[item.skip] += 1
            if state is not None:
                await self._remove(path)
            return False
        self._lines[path] = item.lines
        new_state = FileState(
            path, item.digest, item.size, item.mtime_ns, rules_version=CHUNKING_RULES
        )
        old = await self._old_contexts(path) if state is not None else {}
        if item.contexts is None:
            # Same bytes, new mtime: remember the mtime, keep every context as it is
            # (but for what git now says of the file).
            same, moved = merge_contexts(
                await self._git_metadata(path, item.mtime_ns, [*old.values()]), old
            )
            self._to_store.append((new_state, same, None))
            self._to_index += moved
            self.report.unchanged += 1
            return False
        contexts = await self._git_metadata(path, item.mtime_ns, item.contexts)
        merged, fresh = merge_contexts(contexts, old)
        kept = {c.id for c in merged}
        gone = [cid for cid in old if cid not in kept]
        self._to_store.append((new_state, merged, item.symbols))
        self._to_index += fresh
        self._to_remove += gone
        self.report.indexed += 1
        self.report.contexts_written += len(fresh)
        self.report.contexts_removed += len(gone)
        return True

    async def _old_contexts(self, path: str) -> dict[str, Context]:
        flt = ContextFilter(workspace_id=self.workspace.id, tiers=[Tier.WORKSPACE], path=path)
        return {c.id: c async for c in self.store.iter_contexts(flt)}

    async def _remove(self, path: str) -> None:
        removed = list(await self._old_contexts(path))
        self._to_remove += removed
        self._to_unstore.append(path)
        self.report.removed += 1
        self.report.contexts_removed += len(removed)

    async def _flush(self) -> None:
        """The search index first, then the store (see the module docstring)."""
        started = time.perf_counter()
        if self._to_remove:
            ids, self._to_remove = self._to_remove, []
            await self.search_index.remove(ids)
        if self._to_index:
            contexts, self._to_index = self._to_index, []
            await self.search_index.index(contexts, embed=False)
        self.report.search_index_seconds += time.perf_counter() - started
        ws = self.workspace.id
        late: list[str] = []  # ids the store had that the index was not told about
        writes, self._to_store = self._to_store, []
        for state, contexts, symbols in writes:
            kept = {c.id for c in contexts}
            replaced = await self.store.replace_file(ws, state, contexts, symbols)
            late += [cid for cid in replaced if cid not in kept]
        paths, self._to_unstore = self._to_unstore, []
        for path in paths:
            await self.store.remove_file(ws, path)
        if late:
            await self.search_index.remove(late)

    async def _write_facts(self, files: list[ScannedFile]) -> None:
        by_path = {f.path: f for f in files}

        def read(path: str) -> str | None:
            file = by_path.get(path)
            loaded = load(file, self.max_file_bytes) if file is not None else "missing"
            return None if isinstance(loaded, str) else loaded.text

        def build() -> list[Context]:
            lines = dict(self._lines)
            for file in files:
                if file.path not in lines:
                    lines[file.path] = _count_lines(file.abs_path)
            is_code = self.workspace.type is not WorkspaceType.PKM
            chunks = project_facts(by_path, lines, read, code=is_code)
            counts = count_tokens_many([c.content for c in chunks])
            return to_contexts(self.workspace.id, FACTS_PATH, None, chunks, counts)

        contexts = await asyncio.to_thread(build)
        await self.write_virtual(FACTS_PATH, contexts)

    async def write_virtual(
        self, path: str, contexts: list[Context], digest: str | None = None
    ) -> None:
        """Replace the contexts of a path that is not a real file (facts, sub-project
        lists, commits); `digest` records what they were made from (default: them)."""
        old = await self._old_contexts(path)
        merged, fresh = merge_contexts(contexts, old)
        digest = digest or content_hash("".join(c.content_hash for c in merged))
        kept = {c.id for c in merged}
        gone = [cid for cid in old if cid not in kept]
        self.report.contexts_written += len(fresh)
        self.report.contexts_removed += len(gone)
        self._to_index += fresh
        self._to_remove += gone
        self._to_store.append(
            (FileState(path, digest, 0, 0, rules_version=CHUNKING_RULES), merged, None)
        )
        await self._flush()


def _count_lines(path: str) -> int:
    try:
        with open(path, "rb") as handle:
            return handle.read().count(b"\n")
    except OSError:
        return 0


def merge_contexts(
    new: list[Context], old: dict[str, Context]
) -> tuple[list[Context], list[Context]]:
    """(contexts to store, those whose searchable content is new or changed).

    A context whose id existed keeps its creation time, usage and confidence; one
    whose content did not change keeps its `updated_at` too (only lines may move).
    """
    merged: list[Context] = []
    fresh: list[Context] = []
    for ctx in new:
        prev = old.get(ctx.id)
        if prev is None:
            merged.append(ctx)
            fresh.append(ctx)
            continue
        metadata = dict(ctx.metadata)
        for key in _DERIVED_KEYS:
            if key in prev.metadata:
                metadata[key] = prev.metadata[key]
        carried = {
            "created_at": prev.created_at,
            "valid_from": prev.valid_from,
            "usage_count": prev.usage_count,
            "confidence": prev.confidence,
            "evidence": prev.evidence,
            "metadata": metadata,
        }
        same = (
            prev.content_hash == ctx.content_hash
            and prev.title == ctx.title
            and prev.type == ctx.type
            and prev.metadata == metadata
        )
        if same:
            carried["updated_at"] = prev.updated_at
        updated = ctx.model_copy(update=carried)
        merged.append(updated)
        if not same:
            fresh.append(updated)
    return merged, fresh


def prepare_batch(
    workspace_id: str,
    workspace_type: WorkspaceType,
    files: list[ScannedFile],
    known: dict[str, str],
    max_file_bytes: int,
    on_file: Callable[[], None] = lambda: None,
) -> list[_Prepared]:
    """Read, hash and chunk a batch of files (calling `on_file` after each); token
    counts for the batch in one call."""
    prepared: list[_Prepared] = []
    pending: list[tuple[_Prepared, str | None, list[Chunk]]] = []
    for file in files:
        item, chunked = _prepare_file(file, workspace_type, known, max_file_bytes)
        prepared.append(item)
        if chunked is not None:
            pending.append((item, *chunked))
        on_file()
    counts = iter(count_tokens_many([c.content for _, _, chunks in pending for c in chunks]))
    for item, language, chunks in pending:
        tokens = [next(counts) for _ in chunks]
        item.contexts = to_contexts(workspace_id, item.file.path, language, chunks, tokens)
    return prepared


def _prepare_file(
    file: ScannedFile, workspace_type: WorkspaceType, known: dict[str, str], max_file_bytes: int
) -> tuple[_Prepared, tuple[str | None, list[Chunk]] | None]:
    """The file read and hashed, and (language, chunks) unless its content is as stored."""
    loaded = load(file, max_file_bytes)
    if isinstance(loaded, str):
        return _Prepared(file, skip=loaded), None
    item = _Prepared(
        file,
        digest=loaded.digest,
        size=loaded.size,
        mtime_ns=loaded.mtime_ns,
        lines=loaded.text.count("\n"),
    )
    if known.get(file.path) == loaded.digest:
        return item, None  # same content as stored: no re-chunking
    language = detect_language(file.path)
    try:
        parsed = parse_file(file.path, loaded.text, language, workspace_type)
        chunks, item.symbols = parsed.chunks, parsed.symbols
    except Exception as exc:  # a chunker bug must not lose the file: index it as text
        log.warning("chunking %s failed: %s", file.path, exc)
        item.error = f"{file.path}: chunking failed ({type(exc).__name__}: {exc})"
        chunks = window_chunks(loaded.text, ContextType.FILE, metadata={"parseError": True})
        item.symbols = []
    return item, (language, chunks)
