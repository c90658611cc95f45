"""Each DAG stage's source dependencies (:mod:`attr2img.sources`), for dvc.yaml.

    python -m attr2img.deps                     # every stage's list, as dvc.yaml spells it
    python -m attr2img.deps --update dvc.yaml   # rewrite the src/ deps of each stage in place

(The Snakefile computes the same lists itself; ``tests/test_dag.py`` checks dvc.yaml's.)
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

from attr2img.cli import DAG_STAGES
from attr2img.sources import module_sources


def update_dvc_yaml(path: str | Path) -> bool:
    """Replace each stage's ``- src/...`` deps in dvc.yaml by the sources of the CLI stage its
    command runs (``attr2img <stage>``); True if it changed."""
    path = Path(path)
    old = path.read_text().split("\n")
    new, stage, done = [], None, False
    for line in old:
        if re.match(r"^  ([a-z0-9-]+):$", line):
            stage, done = None, False
        if m := re.search(r"\battr2img ([a-z0-9-]+)", line):
            stage = stage or m.group(1)
        if m := re.match(r"^(\s*)- src/", line):
            if not done:
                new += [f"{m.group(1)}- {f}" for f in module_sources(DAG_STAGES[stage])]
                done = True
            continue
        new.append(line)
    path.write_text("\n".join(new))
    return new != old


def main(argv=None) -> None:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["--update"] and len(argv) == 2:
        print(f"{argv[1]}: {'updated' if update_dvc_yaml(argv[1]) else 'already current'}")
        return
    for stage, module in DAG_STAGES.items():
        print(f"# {stage}\n" + "".join(f"        - {f}\n" for f in module_sources(module)))


if __name__ == "__main__":
    sys.exit(main())
