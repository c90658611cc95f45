"""``attr2img reconstruct``: posterior inference on your own images (the API: :mod:`attr2img.inference.api`)."""

from __future__ import annotations

from attr2img.inference import api

main = api.main


def add_arguments(p) -> None:
    api.add_arguments(p)
