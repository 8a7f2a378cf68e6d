"""What a run records about where it ran: code version, Python, platform, packages."""

from __future__ import annotations

import functools
import platform
import subprocess
import sys
from importlib import metadata
from pathlib import Path

TAG_GIT_COMMIT = "mlcycle.git.commit"
TAG_GIT_DIRTY = "mlcycle.git.dirty"
TAG_GIT_BRANCH = "mlcycle.git.branch"
TAG_SOURCE = "mlcycle.source"
TAG_PYTHON = "mlcycle.python"
TAG_PLATFORM = "mlcycle.platform"
PACKAGES_ARTIFACT = "environment/packages.txt"


def _git(args: list[str], cwd: Path) -> str | None:
    try:
        out = subprocess.run(
            ["git", *args], cwd=cwd, capture_output=True, text=True, timeout=5, check=False
        )
    except (OSError, subprocess.SubprocessError):
        return None
    return out.stdout.strip() if out.returncode == 0 else None


def git_tags(cwd: Path) -> dict[str, str]:
    """Commit, branch and dirty flag of the repository around ``cwd`` (empty outside one)."""
    commit = _git(["rev-parse", "HEAD"], cwd)
    if not commit:
        return {}
    tags = {TAG_GIT_COMMIT: commit}
    status = _git(["status", "--porcelain", "--untracked-files=no"], cwd)
    tags[TAG_GIT_DIRTY] = "true" if status else "false"
    branch = _git(["rev-parse", "--abbrev-ref", "HEAD"], cwd)
    if branch:
        tags[TAG_GIT_BRANCH] = branch
    return tags


@functools.cache
def _process_tags() -> tuple[tuple[str, str], ...]:
    tags = {
        TAG_PYTHON: platform.python_version(),
        TAG_PLATFORM: platform.platform(terse=True),
    }
    main = sys.argv[0] if sys.argv and sys.argv[0] else ""
    if main:
        tags[TAG_SOURCE] = main
    return tuple(tags.items())


def environment_tags(cwd: Path | None = None) -> dict[str, str]:
    """Tags describing the code and interpreter of this process."""
    tags = dict(_process_tags())
    tags.update(git_tags(cwd or Path.cwd()))
    return tags


@functools.cache
def installed_packages() -> str:
    """``name==version`` of every installed distribution, one per line, sorted."""
    lines = {
        f"{dist.metadata['Name']}=={dist.version}"
        for dist in metadata.distributions()
        if dist.metadata["Name"]
    }
    return "\n".join(sorted(lines, key=str.lower)) + "\n"
