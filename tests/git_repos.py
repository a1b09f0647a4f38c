"""Real git repositories built by tests: commits with fixed dates, an uncommitted edit,
an untracked file and a tracked secret."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

T1, T2, T3 = 1_700_000_000, 1_710_000_000, 1_720_000_000
DIRTY_MTIME = 1_730_000_000
SECRET = "sk-live-0123456789abcdef"


def git(root: Path, *args: str, date: int | None = None) -> str:
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("GIT_")},
        "GIT_CONFIG_NOSYSTEM": "1",
        "GIT_CONFIG_GLOBAL": os.devnull,
        "GIT_AUTHOR_NAME": "Ada Lovelace",
        "GIT_AUTHOR_EMAIL": "ada@example.com",
        "GIT_COMMITTER_NAME": "Ada Lovelace",
        "GIT_COMMITTER_EMAIL": "ada@example.com",
    }
    if date is not None:
        env["GIT_AUTHOR_DATE"] = env["GIT_COMMITTER_DATE"] = f"@{date} +0000"
    done = subprocess.run(
        ["git", *args], cwd=root, env=env, check=True, capture_output=True, text=True
    )
    return done.stdout


def make_repo(root: Path) -> Path:
    """Three commits at T1, T2, T3; then c.py edited (not committed) and d.py new."""
    root.mkdir(parents=True)
    git(root, "init", "-q", "-b", "main")
    (root / "a.py").write_text("def alpha():\n    return 1\n")
    (root / "b.py").write_text("def beta():\n    return 2\n")
    (root / ".env").write_text(f"TOKEN={SECRET}\n")
    git(root, "add", "a.py", "b.py")
    git(root, "add", "-f", ".env")
    git(root, "commit", "-q", "-m", "Add alpha and beta", date=T1)
    (root / "a.py").write_text("def alpha():\n    return 10\n")
    (root / "b.py").write_text("def beta():\n    return 20\n")
    (root / ".env").write_text(f"TOKEN={SECRET}x\n")
    git(root, "commit", "-q", "-am", "Scale alpha and beta\n\nBoth by ten.", date=T2)
    (root / "c.py").write_text("def gamma():\n    return 3\n")
    git(root, "add", "c.py")
    git(root, "commit", "-q", "-m", "Add gamma for the invoice totals", date=T3)
    (root / "c.py").write_text("def gamma():\n    return 30\n")
    os.utime(root / "c.py", (DIRTY_MTIME, DIRTY_MTIME))
    (root / "d.py").write_text("def delta():\n    return 4\n")
    os.utime(root / "d.py", (DIRTY_MTIME + 5, DIRTY_MTIME + 5))
    return root
