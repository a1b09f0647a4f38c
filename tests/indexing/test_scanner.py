"""Scanning: ignore rules, built-in excludes, and hostile trees that must not crash it."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

from axon.indexing.scanner import load, scan


def paths(root: Path) -> list[str]:
    return [f.path for f in scan(str(root)).files]


def write(root: Path, rel: str, text: str = "x = 1\n") -> Path:
    target = root / rel
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(text, encoding="utf-8")
    return target


def test_gitignore_nested_axonignore_and_builtin_excludes(tmp_path: Path) -> None:
    write(tmp_path, ".gitignore", "*.log\n/generated/\n")
    write(tmp_path, "app.py")
    write(tmp_path, "debug.log")
    write(tmp_path, "generated/out.py")
    write(tmp_path, "pkg/generated/kept.py")  # `/generated/` is anchored at the root
    write(tmp_path, "pkg/.gitignore", "private.txt\n!keep.log\n")
    write(tmp_path, "pkg/private.txt")
    write(tmp_path, "pkg/keep.log")  # re-included by the nested file
    write(tmp_path, "private.txt")  # the nested rule does not apply above its folder
    write(tmp_path, ".axonignore", "docs/drafts/\n!dist/\n")
    write(tmp_path, "docs/drafts/wip.md")
    write(tmp_path, "docs/final.md")
    write(tmp_path, "dist/bundle.js")  # built-in exclude, brought back by .axonignore
    write(tmp_path, "node_modules/lib/index.js")
    write(tmp_path, ".venv/lib/site.py")
    write(tmp_path, "env2/pyvenv.cfg")  # a virtualenv under any name
    write(tmp_path, "env2/lib/x.py")
    write(tmp_path, "package-lock.json", "{}")
    write(tmp_path, ".env", "SECRET=1")
    write(tmp_path, "keys/server.pem", "-----BEGIN")
    write(tmp_path, "app.min.js")
    write(tmp_path, "target/debug/x.rs")  # `target` is only build output beside Cargo.toml
    write(tmp_path, "rs/Cargo.toml", "[package]\n")
    write(tmp_path, "rs/target/debug/y.rs")
    result = scan(str(tmp_path))
    assert [f.path for f in result.files] == [
        "app.py",
        "dist/bundle.js",
        "docs/final.md",
        "pkg/generated/kept.py",
        "pkg/keep.log",
        "private.txt",
        "rs/Cargo.toml",
        "target/debug/x.rs",
    ]
    assert result.skipped["ignored"] == 5  # debug.log, generated/, private.txt, drafts/, target/
    assert result.skipped["secret"] == 2
    assert result.skipped["excluded"] == 5  # node_modules, .venv, env2, lock file, .min.js


def test_size_limit_is_a_setting(tmp_path: Path) -> None:
    write(tmp_path, "small.py", "a = 1\n")
    write(tmp_path, "big.py", "a = 1\n" * 100)
    result = scan(str(tmp_path), max_file_bytes=100)
    assert [f.path for f in result.files] == ["small.py"]
    assert result.skipped["too_large"] == 1


def test_hostile_tree_is_skipped_with_reasons(tmp_path: Path) -> None:
    root = tmp_path / "ws"
    root.mkdir()
    write(root, "ok.py")
    (root / "loop").mkdir()
    (root / "loop" / "again").symlink_to(root)  # a symlink loop back to the root
    (root / "self").symlink_to("self")  # a link to itself
    outside = tmp_path / "outside"
    outside.mkdir()
    write(outside, "secret.py")
    (root / "escape").symlink_to(outside)
    (root / "escape.py").symlink_to(outside / "secret.py")
    (root / "inside.py").symlink_to(root / "ok.py")  # inside the workspace: followed
    with open(root / "huge.py", "wb") as handle:  # 50 MB, sparse
        handle.truncate(50 * 1024 * 1024)
    (root / "fake.py").write_bytes(b"\x7fELF\x02\x01\x01\x00\x00\x00binary")
    (root / "latin1.py").write_bytes("caf\xe9 = 1\n".encode("latin-1"))
    write(root, "dir with spaces/ünïcødé 文件.py", "naïve = '✓'\n")
    os.mkfifo(root / "pipe.py")
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    sock.bind(str(root / "sock.py"))
    (root / os.fsdecode(b"bad\xffname.py")).write_text("x = 1\n")
    try:
        result = scan(str(root))
    finally:
        sock.close()
    listed = [f.path for f in result.files]
    assert listed == [
        "dir with spaces/ünïcødé 文件.py",
        "fake.py",
        "inside.py",
        "latin1.py",
        "ok.py",
    ]
    assert result.skipped["symlink_outside"] == 2
    assert result.skipped["symlink_loop"] == 1
    assert result.skipped["broken_symlink"] == 1
    assert result.skipped["too_large"] == 1
    assert result.skipped["special"] == 2  # the FIFO and the socket are never opened
    assert result.skipped["bad_name"] == 1
    loaded = {f.path: load(f, 1024 * 1024) for f in result.files}
    assert loaded["fake.py"] == "binary"
    assert loaded["latin1.py"] == "non_utf8"
    unicode_file = loaded["dir with spaces/ünïcødé 文件.py"]
    assert not isinstance(unicode_file, str) and unicode_file.text == "naïve = '✓'\n"


_UNPRIVILEGED_SCAN = """
import json, os, sys
from axon.indexing.scanner import load, scan  # import first: nobody cannot read /root
os.setgid(65534)
os.setuid(65534)
result = scan(sys.argv[1])
reasons = dict(result.skipped)
for f in result.files:
    outcome = load(f, 1 << 20)
    if isinstance(outcome, str):
        reasons[outcome] = reasons.get(outcome, 0) + 1
print(json.dumps({"files": [f.path for f in result.files], "skipped": reasons,
                  "examples": result.examples}))
"""


def test_unreadable_folder_and_file(tmp_path: Path) -> None:
    """Permission bits do not stop root, so when the tests run as root the scan runs in
    a child process that drops to `nobody`; the kernel then really refuses the reads."""
    base = Path(tempfile.mkdtemp(prefix="axon-perm-"))
    try:
        base.chmod(0o755)
        write(base, "ok.py")
        write(base, "locked/inner.py")
        (base / "locked").chmod(0o000)
        write(base, "secret.py").chmod(0o000)
        if os.geteuid() == 0:
            proc = subprocess.run(
                [sys.executable, "-c", _UNPRIVILEGED_SCAN, str(base)],
                capture_output=True,
                text=True,
                timeout=60,
                check=False,
            )
            assert proc.returncode == 0, proc.stderr
            outcome = json.loads(proc.stdout)
        else:  # pragma: no cover - depends on who runs the suite
            result = scan(str(base))
            outcome = {"files": [f.path for f in result.files], "skipped": dict(result.skipped)}
            for f in result.files:
                reason = load(f, 1 << 20)
                if isinstance(reason, str):
                    outcome["skipped"][reason] = outcome["skipped"].get(reason, 0) + 1
        assert outcome["files"] == ["ok.py", "secret.py"]  # listed by stat, refused on open
        assert outcome["skipped"] == {"unreadable": 2}  # the folder and the file
    finally:
        (base / "locked").chmod(0o755)
        subprocess.run(["rm", "-rf", str(base)], check=False)


def test_root_that_is_not_a_folder_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(OSError):
        scan(str(tmp_path / "missing"))
