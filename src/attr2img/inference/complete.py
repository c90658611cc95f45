"""``attr2img complete``: fill occluded pixels of your own images by posterior inference
(the API: :mod:`attr2img.inference.api`)."""

from __future__ import annotations

from attr2img.inference import api

main = api.main


def add_arguments(p) -> None:
    api.add_arguments(p, occluder=True)
