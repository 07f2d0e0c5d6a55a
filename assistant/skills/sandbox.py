"""The OS sandbox a third-party skill's worker runs in: one bubblewrap argument list, built from its manifest.

Chosen over Landlock + seccomp by what each can promise here (docs/skills.md, "The sandbox"):
bubblewrap gives the skill its own PID, network, IPC and user namespaces and a file system that
holds only what is bound into it, in one `apt-get install`, for ~2 ms per worker start (measured in
bench/isolation.py); Landlock restricts paths and TCP ports but not UDP, signals to other process
trees before kernel ABI 6, or the process tree's lifetime.
"""

from __future__ import annotations

import functools
import os
import shutil
import subprocess
import sys
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from assistant.household import Member
    from assistant.skills.registry import LoadedSkill

SYSTEM_DIRS = ("/usr", "/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32")
ETC_FILES = ("/etc/ld.so.cache", "/etc/ld.so.conf", "/etc/ld.so.conf.d", "/etc/localtime", "/etc/nsswitch.conf")
"""What of /etc a Python process needs: the dynamic loader's cache and the time zone."""
ETC_NETWORK = ("/etc/resolv.conf", "/etc/hosts", "/etc/gai.conf", "/etc/ssl", "/etc/ca-certificates")
"""Only for a skill granted 'network': name resolution and certificates."""


@dataclass(frozen=True)
class Limits:
    """Resource limits the worker sets on itself before it imports any of the skill's code."""

    memory_mb: int = 768
    """Address space; the Python runtime, pydantic and the SDK take ~250 MB of it."""
    processes: int = 32
    """Processes and threads. The kernel does not hold root to it: run the assistant as a normal user."""
    open_files: int = 64
    file_size_mb: int = 16
    """The largest file the skill may write in its storage folder."""


def storage_dir(data_dir: Path, name: str) -> Path:
    """A skill's private writable folder (``ctx.storage``): ``<data_dir>/skills/<name>/storage``."""
    return Path(data_dir) / "skills" / name / "storage"


def member_storage(data_dir: Path, name: str, member: Member | None) -> Path:
    """``ctx.storage`` for one speaker: the member's own folder in the skill's storage (the household's without one)."""
    owner = f"member-{member.id}" if member is not None else "household"
    return storage_dir(data_dir, name) / owner


@functools.cache
def bwrap_available() -> str | None:
    """Why bubblewrap cannot confine skills here, or None when it can (tried once per process)."""
    bwrap = shutil.which("bwrap")
    if bwrap is None:
        return "bubblewrap (bwrap) is not installed; run scripts/install-sandbox.sh"
    probe = [bwrap, "--unshare-all", "--die-with-parent", "--ro-bind", "/", "/", "--proc", "/proc", "true"]
    try:
        result = subprocess.run(probe, capture_output=True, text=True, timeout=10)
    except (OSError, subprocess.TimeoutExpired) as exc:
        return f"bubblewrap could not run: {exc}"
    if result.returncode != 0:
        return f"bubblewrap cannot create namespaces here: {result.stderr.strip()[:200]}"
    return None


def python_paths(skill: LoadedSkill) -> list[Path]:
    """The worker's sys.path: the SDK's folder, the skill's own, and the interpreter's site-packages."""
    import assistant

    core_root = Path(assistant.__file__).resolve().parent.parent
    paths = [core_root]
    if skill.package_dir is not None:
        paths.append(skill.package_dir.resolve().parent)
    paths += [
        Path(p).resolve() for p in sys.path if p.endswith(("site-packages", "dist-packages")) and Path(p).is_dir()
    ]
    return list(dict.fromkeys(paths))


def worker_command(skill: LoadedSkill, fd: int) -> list[str]:
    """The interpreter without `site` (no .pth file of any package runs), on the worker's main."""
    return [str(Path(sys.executable).resolve()), "-S", "-B", "-m", "assistant.skills.worker", str(fd)]


def worker_env(skill: LoadedSkill, storage: Path) -> dict[str, str]:
    """The whole environment a worker gets: none of the assistant's variables (tokens, paths) pass."""
    return {
        "PATH": "/usr/bin:/bin",
        "HOME": str(storage),
        "TMPDIR": "/tmp",
        "LANG": "C.UTF-8",
        "PYTHONPATH": os.pathsep.join(str(p) for p in python_paths(skill)),
        "PYTHONDONTWRITEBYTECODE": "1",
        "PYTHONUNBUFFERED": "1",  # what it prints reaches the log as it happens, not at exit
        "PYTHONHASHSEED": "0",
    }


def _within(path: Path, folders: Iterable[Path]) -> bool:
    return any(path == f or f in path.parents for f in folders)


def sandbox_args(
    skill: LoadedSkill, permissions: frozenset[str], state_dir: Path, *, hide: Sequence[Path] = ()
) -> list[str]:
    """bwrap's arguments (up to and including '--') for this skill's worker.

    Read-only: the system, the Python installation, its site-packages, the assistant's own package
    and the skill's package folder. Writable: ``state_dir`` only. ``hide`` lists other skills'
    package folders, covered with empty ones where they fall inside a bound folder.
    """
    args = ["bwrap", "--unshare-all"]
    if "network" in permissions:
        args.append("--share-net")
    args += ["--die-with-parent", "--new-session", "--clearenv"]
    for key, value in worker_env(skill, state_dir).items():
        args += ["--setenv", key, value]
    for folder in SYSTEM_DIRS:
        if os.path.lexists(folder):
            args += ["--ro-bind", folder, folder]
    # the private /tmp first: the folders bound below may lie under the host's /tmp
    args += ["--proc", "/proc", "--dev", "/dev", "--tmpfs", "/tmp"]
    etc = ETC_FILES + (ETC_NETWORK if "network" in permissions else ())
    for path in etc:
        if os.path.exists(path):
            args += ["--ro-bind", path, path]
    bound: list[Path] = [Path(f) for f in SYSTEM_DIRS]
    for folder in [Path(sys.base_prefix).resolve(), Path(sys.executable).resolve().parent, *_code_folders(skill)]:
        if not _within(folder, bound):
            args += ["--ro-bind", str(folder), str(folder)]
            bound.append(folder)
    own = skill.package_dir.resolve() if skill.package_dir else None
    for other in hide:
        other = Path(other).resolve()
        if other != own and other.is_dir() and _within(other, bound):
            args += ["--tmpfs", str(other), "--remount-ro", str(other)]
    args += ["--bind", str(state_dir), str(state_dir), "--chdir", str(state_dir), "--"]
    return args


def _code_folders(skill: LoadedSkill) -> list[Path]:
    import assistant

    folders = [Path(assistant.__file__).resolve().parent]
    if skill.package_dir is not None:
        folders.append(skill.package_dir.resolve())
    folders += [p for p in python_paths(skill)[1:] if p.name in ("site-packages", "dist-packages")]
    return folders
