"""The package files a stage runs: its source dependencies in dvc.yaml and the Snakefile.

Found statically, by reading the ``import`` statements (at any depth: a function's lazy
import counts) of the stage's module and of every ``attr2img`` module they reach, with the
``__init__.py`` of each package on the way. Nothing is imported, so the Snakefile can call
this on the sources of the working tree it runs in. (``python -m attr2img.deps`` prints
every stage's list, or rewrites dvc.yaml's.)
"""

from __future__ import annotations

import ast
import hashlib
from pathlib import Path

PACKAGE = "attr2img"


def _file(root: Path, module: str) -> Path | None:
    base = root.joinpath(*module.split("."))
    for candidate in (base.with_suffix(".py"), base / "__init__.py"):
        if candidate.exists():
            return candidate
    return None


def _imports(path: Path) -> set[str]:
    """Every attr2img module that ``path`` imports (``from a.b import c`` yields a.b.c when c is a module)."""
    out = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            out |= {a.name for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            out.add(node.module)
            out |= {f"{node.module}.{a.name}" for a in node.names}
    return {m for m in out if m == PACKAGE or m.startswith(PACKAGE + ".")}


def module_sources(module: str, root: str | Path = "src") -> list[str]:
    """Sorted paths (as ``root/...``) of every package file that importing ``module`` runs."""
    root = Path(root)
    seen: set[Path] = set()
    todo = [module]
    while todo:
        name = todo.pop()
        parts = name.split(".")
        for i in range(1, len(parts) + 1):          # the packages on the way, then the module
            f = _file(root, ".".join(parts[:i]))
            if f is not None and f not in seen:
                seen.add(f)
                todo += sorted(_imports(f))
    return sorted(str(p.as_posix()) for p in seen)


def code_hash(module: str, root: str | Path | None = None) -> str:
    """SHA-256 over the sources that ``module`` runs (names and contents; by default the
    installed package's): the code's identity, e.g. in a training checkpoint's fingerprint."""
    root = Path(root) if root is not None else Path(__file__).resolve().parents[1]
    h = hashlib.sha256()
    for f in module_sources(module, root):
        h.update(Path(f).relative_to(root).as_posix().encode() + b"\0" + Path(f).read_bytes() + b"\0")
    return h.hexdigest()
