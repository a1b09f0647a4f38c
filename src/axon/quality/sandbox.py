"""Where a check runs: inside a bubblewrap sandbox, never beside Axon's own processes.

A check is the workspace's code. Unsandboxed, it could read `/proc/<axon pid>/environ`
(every secret Axon holds), Axon's data folder, or the network. In the sandbox it has
new user, pid, ipc, uts and cgroup namespaces and its own /proc (Axon's processes do
not exist there), no network unless the operator allows it (AXON_GATE_NETWORK), the
system folders and the tools' own folders read-only, and only the workspace, the
gate's report folder and a private /tmp writable. It dies with Axon.

When bubblewrap is missing or cannot create namespaces here, checks are refused with
the reason; AXON_GATE_SANDBOX=off is the operator's explicit choice to run them
unsandboxed anyway (e.g. inside a container that is itself the boundary).
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

from axon.config import Settings
from axon.quality.run import ProcessOutcome, run_process

# Read-only system folders (those that exist here): programs, libraries, loader.
_SYSTEM = ("/usr", "/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32", "/opt/homebrew")
# From /etc only what programs need to start, resolve users and verify TLS; not
# /etc as a whole (shadow, the host's service configs).
_ETC = (
    "/etc/ld.so.cache", "/etc/ld.so.conf", "/etc/ld.so.conf.d", "/etc/alternatives",
    "/etc/passwd", "/etc/group", "/etc/nsswitch.conf", "/etc/localtime", "/etc/timezone",
    "/etc/ssl", "/etc/ca-certificates", "/etc/pki", "/etc/mime.types", "/etc/os-release",
    "/etc/debian_version", "/etc/python3", "/etc/hosts",
)  # fmt: skip
_NETWORK_ETC = ("/etc/resolv.conf", "/etc/host.conf", "/etc/gai.conf")
# Toolchain roots named by the allow-listed environment: read-only, when set.
_TOOL_HOMES = (
    "PYENV_ROOT", "NVM_DIR", "GOROOT", "GOPATH", "GOMODCACHE", "CARGO_HOME", "RUSTUP_HOME",
    "JAVA_HOME", "VIRTUAL_ENV",
)  # fmt: skip
_PROBE_SECONDS = 10.0
SANDBOX_HOME = "/tmp/home"  # HOME inside: on the private /tmp


class SandboxUnavailable(Exception):
    """No usable sandbox and the operator did not opt out."""


def _prefix_of(executable: Path) -> Path | None:
    """An interpreter's installation: `<prefix>/bin/python3` -> `<prefix>`."""
    real = Path(os.path.realpath(executable))
    return real.parent.parent if real.parent.name == "bin" else None


def _venv_home(bin_dir: Path) -> Path | None:
    # A virtualenv names the interpreter it was made from in pyvenv.cfg (`home = .../bin`).
    cfg = bin_dir.parent / "pyvenv.cfg"
    if not cfg.is_file():
        return None
    for line in cfg.read_text("utf-8", "replace").splitlines():
        key, _, value = line.partition("=")
        if key.strip() == "home" and value.strip():
            return Path(value.strip()).parent
    return None


def _tool_folders(argv: list[str], env: Mapping[str, str]) -> list[Path]:
    """Read-only folders a check's tools need: PATH, their prefixes, toolchain homes."""
    folders: list[Path] = []
    for entry in env.get("PATH", "").split(os.pathsep):
        if not entry or not os.path.isabs(entry):
            continue
        folder = Path(entry)
        folders.append(folder)
        if folder.name == "shims":
            folders.append(folder.parent)  # a version manager's shims call into its root
    folders += [Path(env[name]) for name in _TOOL_HOMES if env.get(name)]
    executable = Path(argv[0]) if argv and os.path.isabs(argv[0]) else None
    if executable is not None:
        folders.append(executable.parent)
        if (executable.parent.parent / "pyvenv.cfg").is_file():
            folders.append(executable.parent.parent)  # the virtualenv: its site-packages
        for extra in (_prefix_of(executable), _venv_home(executable.parent)):
            if extra is not None:
                folders.append(extra)
                # The real interpreter behind a virtualenv's python symlink.
                prefix = _prefix_of(extra / "bin" / "python3")
                if prefix is not None:
                    folders.append(prefix)
    return folders


def _covered(path: Path, by: Iterable[Path]) -> bool:
    return any(path == root or path.is_relative_to(root) for root in by)


@dataclass(frozen=True)
class Launcher:
    """Starts a gate's processes: in bubblewrap, or plainly when the operator opted out."""

    bwrap: str | None  # None: the operator turned the sandbox off
    network: bool = False

    @property
    def sandboxed(self) -> bool:
        return self.bwrap is not None

    def command(
        self, argv: list[str], cwd: Path, env: Mapping[str, str], writable: Iterable[Path] = ()
    ) -> list[str]:
        """The bwrap argument vector that runs `argv` in `cwd` with exactly `env`."""
        assert self.bwrap is not None
        args = [
            self.bwrap,
            "--die-with-parent",
            "--new-session",
            "--unshare-user",
            "--unshare-pid",
            "--unshare-ipc",
            "--unshare-uts",
            "--unshare-cgroup-try",
            "--hostname",
            "axon-gate",
        ]
        if not self.network:
            args.append("--unshare-net")
        for folder in _SYSTEM:
            if os.path.lexists(folder):
                args += ["--ro-bind", folder, folder]
        for name in _ETC + (_NETWORK_ETC if self.network else ()):
            if os.path.exists(name):
                args += ["--ro-bind", name, name]
        args += ["--proc", "/proc", "--dev", "/dev", "--tmpfs", "/tmp", "--dir", SANDBOX_HOME]
        rw = [cwd, *writable]
        if any(Path(os.path.realpath(w)) == Path("/") for w in rw):
            raise ValueError("the sandbox never makes / writable")
        bound = [Path(p) for p in _SYSTEM]
        reals = {Path(os.path.realpath(folder)) for folder in _tool_folders(argv, env)}
        for real in sorted(reals, key=lambda p: len(p.parts)):  # a parent covers its children
            if not real.is_dir() or real == Path("/") or _covered(real, bound + rw):
                continue
            bound.append(real)
            args += ["--ro-bind", str(real), str(real)]
        for place in rw:
            args += ["--bind", str(place), str(place)]
        args += ["--chdir", str(cwd), "--clearenv"]
        for name, value in sandbox_env(env).items():
            args += ["--setenv", name, value]
        return [*args, "--", *argv]

    async def run(
        self,
        argv: list[str],
        cwd: Path,
        env: Mapping[str, str],
        time_limit: float,
        output_limit: int,
        writable: Iterable[Path] = (),
    ) -> ProcessOutcome:
        if self.bwrap is None:
            return await run_process(argv, cwd, dict(env), time_limit, output_limit)
        if shutil.which(argv[0], path=env.get("PATH", "")) is None:
            # Said the way an unsandboxed start says it, not as bwrap's execvp error.
            return ProcessOutcome(None, "", "", 0.0, start_error=f"command not found: {argv[0]}")
        command = self.command(argv, cwd, env, writable)
        return await run_process(command, cwd, {}, time_limit, output_limit)


def sandbox_env(env: Mapping[str, str]) -> dict[str, str]:
    """The check's environment inside: HOME and the temp folders on the private /tmp."""
    inside = dict(env)
    inside.update({"HOME": SANDBOX_HOME, "TMPDIR": "/tmp", "TEMP": "/tmp", "TMP": "/tmp"})
    for name in ("XDG_CACHE_HOME", "XDG_CONFIG_HOME", "XDG_DATA_HOME"):
        inside.pop(name, None)  # they pointed into the real home, which is not there
    return inside


_probed: dict[tuple[str, bool], str | None] = {}  # (bwrap, network) -> problem or None


async def _probe(launcher: Launcher) -> str | None:
    """None when bwrap can build the sandbox here, else what went wrong."""
    assert launcher.bwrap is not None
    key = (launcher.bwrap, launcher.network)
    if key not in _probed:
        true = shutil.which("true") or "/bin/true"
        with tempfile.TemporaryDirectory(prefix="axon-sandbox-probe-") as folder:
            outcome = await launcher.run(
                [true], Path(folder), {"PATH": os.path.dirname(true)}, _PROBE_SECONDS, 4096
            )
        if outcome.exit_code == 0:
            _probed[key] = None
        else:
            detail = (outcome.start_error or outcome.stderr.strip()).splitlines()
            _probed[key] = detail[-1] if detail else f"exit code {outcome.exit_code}"
    return _probed[key]


async def gate_launcher(settings: Settings) -> Launcher:
    """The launcher this server's settings ask for; SandboxUnavailable when there is none."""
    if settings.gate_sandbox == "off":
        return Launcher(None)
    bwrap = shutil.which("bwrap")
    if bwrap is None:
        raise SandboxUnavailable(
            "checks run only in a sandbox and bubblewrap (bwrap) is not installed: install "
            "it (Debian: apt-get install bubblewrap), or set AXON_GATE_SANDBOX=off to run "
            "checks unsandboxed"
        )
    launcher = Launcher(bwrap, network=settings.gate_network)
    problem = await _probe(launcher)
    if problem is not None:
        raise SandboxUnavailable(
            f"checks run only in a sandbox and bubblewrap cannot create one here ({problem}): "
            "allow user namespaces, or set AXON_GATE_SANDBOX=off to run checks unsandboxed"
        )
    return launcher
