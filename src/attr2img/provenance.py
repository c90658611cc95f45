"""Where a result came from: the git revision of the working tree and the host."""

from __future__ import annotations

import platform
import subprocess


def git_revision(cwd=None) -> str:
    """``HEAD``'s commit, with ``-dirty`` when tracked files differ from it; ``unknown`` outside git."""
    def git(*args) -> str:
        return subprocess.run(["git", *args], cwd=cwd, capture_output=True, text=True, check=True).stdout.strip()

    try:
        rev = git("rev-parse", "HEAD")
        return rev + ("-dirty" if git("status", "--porcelain", "--untracked-files=no") else "")
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


def host() -> dict:
    return {"name": platform.node(), "machine": platform.machine(), "processor": platform.processor(),
            "python": platform.python_version()}
