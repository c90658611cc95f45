"""Reading what another stage wrote: a missing or unreadable file names the stage that writes it."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

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


def read_npz(path, written_by: str) -> dict:
    """The arrays of the .npz at ``path`` (no pickles), as a dict; errors as :func:`read_json`'s."""
    path = Path(path)
    if not path.exists():
        raise ArtifactError(f"missing {path}; it is written by {written_by} (run the pipeline up to it: "
                            f"dvc repro or snakemake)")
    try:
        with np.load(path, allow_pickle=False) as z:
            return {k: z[k] for k in z.files}
    except (OSError, ValueError) as exc:
        raise ArtifactError(f"{path} is unreadable ({exc}); rerun {written_by}") from None
