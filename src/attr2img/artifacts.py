"""Reading what another stage wrote: a missing or unreadable file names the stage that writes it."""

from __future__ import annotations

import json
from pathlib import Path

from attr2img.errors import ArtifactError


def read_json(path, written_by: str):
    """The JSON at ``path``; ``written_by`` is the command that writes it (e.g. "attr2img evaluate-recon")."""
    path = Path(path)
    try:
        return json.loads(path.read_text())
    except FileNotFoundError:
        raise ArtifactError(f"missing {path}; it is written by {written_by} (run the pipeline up to it: "
                            f"dvc repro or snakemake)") from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ArtifactError(f"{path} is unreadable ({exc}); rerun {written_by}") from None
