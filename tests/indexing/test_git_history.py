"""Git history of a workspace: read with `git` itself from real repositories built here
(fixed dates), stored with the contexts (SQLite and the Mongo test server), commits as
contexts, and a hostile repository's configuration never run."""

from __future__ import annotations

import os
import shutil
import subprocess
import uuid
from collections.abc import Callable
from pathlib import Path

import pytest

from axon.config import Settings
from axon.indexing.git_history import (
    changed_since_head,
    parse_log,
    read_history,
    recent_commits,
    working_diff,
)
from axon.indexing.history import COMMITS_PATH
from axon.models import Context, ContextType
from axon.ports import SearchRequest
from axon.services import Services, build_services
from tests.git_repos import DIRTY_MTIME, SECRET, T1, T2, T3, git, make_repo
from tests.indexing.conftest import add_workspace, contexts_of, run_index
from tests.servers import RunningServer


def test_one_log_pass_gives_times_frequency_and_co_change(tmp_path: Path) -> None:
    root = make_repo(tmp_path / "repo")
    history = read_history(str(root))
    assert history is not None
    assert history.head == git(root, "rev-parse", "HEAD").strip()
    assert [c.message for c in history.commits] == [
        "Add gamma for the invoice totals",
        "Scale alpha and beta\n\nBoth by ten.",
        "Add alpha and beta",
    ]
    assert [c.committed_at for c in history.commits] == [T3, T2, T1]
    assert history.commits[0].author == "Ada Lovelace"
    assert {f.path for f in history.commits[1].files} == {".env", "a.py", "b.py"}
    # The diffstat is a second, bounded read (it diffs every file).
    recent = recent_commits(str(root), 2)
    assert recent is not None and [c.committed_at for c in recent] == [T3, T2]
    assert {(f.path, f.added, f.deleted) for f in recent[1].files} == {
        (".env", 1, 1),
        ("a.py", 1, 1),
        ("b.py", 1, 1),
    }
    a = history.files["a.py"]
    assert (a.last_commit_at, a.commits) == (T2, 2)
    assert a.co_changed == ((".env", 2), ("b.py", 2))
    assert history.files["c.py"].commits == 1 and history.files["c.py"].co_changed == ()
    assert history.uncommitted == {"c.py"}
    assert history.untracked == {"d.py"}
    # The bound on commits read: only the newest one.
    newest = read_history(str(root), max_commits=1)
    assert newest is not None and [c.committed_at for c in newest.commits] == [T3]
    assert "a.py" not in newest.files


def test_a_subfolder_of_a_repository_reads_its_own_paths(tmp_path: Path) -> None:
    root = make_repo(tmp_path / "repo")
    (root / "pkg").mkdir()
    (root / "pkg" / "e.py").write_text("E = 1\n")
    git(root, "add", "pkg/e.py")
    git(root, "commit", "-q", "-m", "Add e", date=T3 + 10)
    history = read_history(str(root / "pkg"))
    assert history is not None
    assert set(history.files) == {"e.py"}  # relative to the folder, nothing outside it
    assert [c.message for c in history.commits] == ["Add e"]


def test_no_history_means_none_never_an_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    plain = tmp_path / "plain"
    plain.mkdir()
    (plain / "a.py").write_text("x = 1\n")
    assert read_history(str(plain)) is None  # not a work tree
    empty = tmp_path / "empty"
    empty.mkdir()
    git(empty, "init", "-q")
    assert read_history(str(empty)) is None  # no commit yet
    assert working_diff(str(empty), 1000) is None
    root = make_repo(tmp_path / "repo")
    assert read_history(str(root), max_commits=0) is None  # turned off
    monkeypatch.setenv("PATH", str(tmp_path / "no-bin"))
    assert read_history(str(root)) is None  # git is not installed


def test_parse_log_drops_a_commit_cut_by_the_byte_bound() -> None:
    sha1, sha2 = "1" * 40, "2" * 40
    text = (
        f"\x01{sha1}\x00Ann\x00100\x00101\x00Second\n\x00\n3\t1\tx.py\x00-\t-\timg.bin\x00"
        f"\x01{sha2}\x00Bob\x0090\x0091\x00First\n\x00\n1\t0\tx"
    )
    [whole] = parse_log(text, numstat=True, complete=False)
    assert (whole.sha, whole.author, whole.committed_at, whole.message) == (
        sha1,
        "Ann",
        101,
        "Second",
    )
    assert [(f.path, f.added, f.deleted) for f in whole.files] == [
        ("x.py", 3, 1),
        ("img.bin", None, None),
    ]
    assert len(parse_log(text, numstat=True)) == 2
    # Without line counts, a file token is its path (a path named like a hash included).
    names = f"\x01{sha1}\x00Ann\x00100\x00101\x00Msg\n\x00\n{sha2}\x00b c.py\x00"
    [commit] = parse_log(names, numstat=False)
    assert [f.path for f in commit.files] == [sha2, "b c.py"]


def test_working_diff_leaves_secret_files_out_and_is_bounded(tmp_path: Path) -> None:
    root = make_repo(tmp_path / "repo")
    (root / ".env").write_text(f"TOKEN={SECRET}-changed\n")
    diff = working_diff(str(root), 100_000)
    assert diff is not None
    assert diff.files == ("c.py",)  # d.py is untracked, .env a secret
    assert "+    return 30" in diff.text and SECRET not in diff.text and not diff.truncated
    (root / "a.py").write_text("".join(f"line_{n} = {n}\n" for n in range(2000)))
    cut = working_diff(str(root), 2_000)
    assert cut is not None and cut.truncated
    assert len(cut.text.encode()) <= 2_000 and cut.text.endswith("\n")
    git(root, "checkout", "-q", "--", "a.py", "c.py", ".env")
    assert working_diff(str(root), 100_000) is None  # nothing uncommitted


def hostile_repo(root: Path, marker: Path) -> Path:
    """A repository whose own configuration runs `touch marker-*` wherever git lets it."""
    make_repo(root)
    (root / ".gitattributes").write_text("* filter=evil diff=evil\n")
    git(root, "add", ".gitattributes")
    git(root, "commit", "-q", "-m", "attributes", date=T3 + 20)
    (root / "a.py").write_text("def alpha():\n    return 100\n")
    hook = root / ".git" / "hooks" / "post-checkout"
    hook.write_text(f"#!/bin/sh\ntouch {marker}-hook\n")
    hook.chmod(0o755)
    for key, value in {
        "core.fsmonitor": f"touch {marker}-fsmonitor; false",
        "filter.evil.clean": f"touch {marker}-filter; cat",
        "filter.evil.smudge": f"touch {marker}-smudge; cat",
        "filter.evil.required": "true",
        "diff.evil.textconv": f"touch {marker}-textconv; cat",
        "diff.evil.command": f"touch {marker}-diffcmd",
        "diff.external": f"touch {marker}-external",
        "log.showSignature": "true",
        "gpg.program": f"touch {marker}-gpg",
        "core.pager": f"touch {marker}-pager; cat",
    }.items():
        git(root, "config", key, value)
    return root


def markers(folder: Path) -> list[Path]:
    return list(folder.glob("ran-*"))


def git_status(root: Path) -> None:
    subprocess.run(["git", "status"], cwd=root, capture_output=True, check=False)


async def test_a_hostile_repository_config_runs_nothing(services: Services, tmp_path: Path) -> None:
    marker = tmp_path / "ran"
    root = hostile_repo(tmp_path / "repo", marker)
    history = read_history(str(root))
    assert history is not None and history.uncommitted == {"a.py", "c.py"}
    assert changed_since_head(str(root)) == {"a.py", "c.py"}
    diff = working_diff(str(root), 100_000)
    assert diff is not None and "return 100" in diff.text
    workspace = await add_workspace(services, root)
    await run_index(services, workspace)
    assert not markers(tmp_path)
    # The configuration is live: git's own status runs the filter and the fsmonitor.
    git_status(root)
    assert markers(tmp_path)


def of_path(contexts: list[Context], path: str) -> list[Context]:
    return [c for c in contexts if c.path == path]


async def check_indexed_history(services: Services, root: Path) -> None:
    workspace = await add_workspace(services, root)
    await run_index(services, workspace)
    contexts = await contexts_of(services, "ws")
    for ctx in of_path(contexts, "a.py"):
        assert ctx.metadata["changedAt"] == T2  # its last commit, not the clone's mtime
        assert ctx.metadata["git"] == {
            "commits": 2,
            "lastCommit": history_sha(root, "a.py")[:12],
            "coChanged": [[".env", 2], ["b.py", 2]],
        }
    assert {c.metadata["changedAt"] for c in of_path(contexts, "c.py")} == {DIRTY_MTIME}
    assert {c.metadata["changedAt"] for c in of_path(contexts, "d.py")} == {DIRTY_MTIME + 5}
    assert all("git" not in c.metadata for c in of_path(contexts, "d.py"))
    commits = of_path(contexts, COMMITS_PATH)
    assert [c.type for c in commits] == [ContextType.COMMIT] * 3
    newest = max(commits, key=lambda c: c.metadata["changedAt"])
    assert newest.title is not None and newest.title.endswith("Add gamma for the invoice totals")
    assert "Author: Ada Lovelace" in newest.content and "c.py | +2 -0" in newest.content
    assert "ada@example.com" not in newest.content  # names, not addresses
    assert all(SECRET not in c.content for c in contexts)
    # Committing the edit: the file's time becomes its commit's, the commits follow HEAD.
    git(root, "commit", "-q", "-am", "Gamma times ten", date=T3 + 100)
    os.utime(root / "c.py", None)  # an editor's save after the commit
    await run_index(services, workspace)
    contexts = await contexts_of(services, "ws")
    assert {c.metadata["changedAt"] for c in of_path(contexts, "c.py")} == {T3 + 100}
    assert len(of_path(contexts, COMMITS_PATH)) == 4


def history_sha(root: Path, path: str) -> str:
    return git(root, "log", "-n1", "--format=%H", "--", path).strip()


async def test_history_is_stored_with_the_contexts_on_sqlite(
    services: Services, tmp_path: Path
) -> None:
    await check_indexed_history(services, make_repo(tmp_path / "repo"))


async def test_history_is_stored_with_the_contexts_on_mongodb(
    settings: Settings, mongo_server: RunningServer, tmp_path: Path
) -> None:
    uri = f"mongodb://127.0.0.1:{mongo_server.port}/git_{uuid.uuid4().hex[:10]}"
    services = await build_services(settings.model_copy(update={"mongodb_uri": uri}))
    try:
        await check_indexed_history(services, make_repo(tmp_path / "repo"))
    finally:
        await services.close()


async def test_a_folder_that_is_no_longer_a_repository_drops_its_commits(
    services: Services, tmp_path: Path
) -> None:
    root = make_repo(tmp_path / "repo")
    workspace = await add_workspace(services, root)
    await run_index(services, workspace)
    assert of_path(await contexts_of(services, "ws"), COMMITS_PATH)
    shutil.rmtree(root / ".git")
    await run_index(services, workspace)
    assert not of_path(await contexts_of(services, "ws"), COMMITS_PATH)


async def test_a_plain_folder_indexes_as_before(
    services: Services, tree: Callable[[str], Path]
) -> None:
    root = tree("project")
    workspace = await add_workspace(services, root)
    await run_index(services, workspace)
    contexts = await contexts_of(services, "ws")
    assert contexts and all("changedAt" not in c.metadata for c in contexts)
    assert not of_path(contexts, COMMITS_PATH)


async def search_types(services: Services, query: str) -> list[ContextType]:
    hits = await services.retriever.search(SearchRequest(query=query, workspace_id="ws"))
    return [h.context.type for h in hits]


async def test_commits_answer_questions_about_changes_and_stay_out_of_code_questions(
    services: Services, tmp_path: Path
) -> None:
    root = make_repo(tmp_path / "repo")
    await run_index(services, await add_workspace(services, root))
    changes = await search_types(services, "what changed recently in the invoice totals?")
    assert changes[0] is ContextType.COMMIT
    who = await services.retriever.search(
        SearchRequest(query="who changed alpha and beta?", workspace_id="ws")
    )
    assert who[0].context.type is ContextType.COMMIT
    assert "alpha and beta" in (who[0].context.title or "")
    for question in ("where is gamma defined?", "invoice totals gamma", "fix alpha returning 10"):
        assert ContextType.COMMIT not in await search_types(services, question)
    # Asked for by type, commits are found whatever the words.
    typed = await services.retriever.search(
        SearchRequest(query="alpha beta", workspace_id="ws", types=[ContextType.COMMIT])
    )
    assert typed and {h.context.type for h in typed} == {ContextType.COMMIT}


def co_changing_repo(root: Path) -> Path:
    """billing.py and ledger.py always change together; notes.py changes alone, often."""
    root.mkdir(parents=True)
    git(root, "init", "-q", "-b", "main")
    for n in range(3):
        (root / "billing.py").write_text(f"def charge_card(amount):\n    return amount * {n}\n")
        (root / "ledger.py").write_text(f"def record_entry(amount):\n    return [{n}, amount]\n")
        git(root, "add", ".")
        git(root, "commit", "-q", "-m", f"Billing {n}", date=T1 + n)
    for n in range(5):
        (root / "notes.py").write_text(f"def remember(amount):\n    return amount - {n}\n")
        git(root, "add", ".")
        git(root, "commit", "-q", "-m", f"Notes {n}", date=T2 + n)
    return root


async def test_change_frequency_and_co_change_terms_follow_their_weights(
    settings: Settings, tmp_path: Path
) -> None:
    root = co_changing_repo(tmp_path / "repo")
    weighted = settings.model_copy(update={"rank_change_weight": 0.3, "rank_cochange_weight": 0.5})
    for current, on in ((settings, False), (weighted, True)):
        services = await build_services(current)
        try:
            if not on:
                await run_index(services, await add_workspace(services, root))
            hits = await services.retriever.search(
                SearchRequest(query="charge_card amount", workspace_id="ws", limit=20)
            )
        finally:
            await services.close()
        by_path = {h.context.path: h.breakdown for h in hits}
        assert hits[0].context.path == "billing.py"
        if not on:
            assert all(b.change == 0 and b.cochange == 0 for b in by_path.values())
            continue
        # ledger.py changed in every commit of the best file: the full co-change share;
        # notes.py never changed with another file.
        assert by_path["ledger.py"].cochange == pytest.approx(0.5)
        assert by_path["notes.py"].cochange == 0
        # notes.py changed most often (5 commits): the whole change weight.
        assert by_path["notes.py"].change == pytest.approx(0.3)
        assert 0 < by_path["billing.py"].change < 0.3
