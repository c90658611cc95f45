"""The real datasets: fetching and verifying LFW and CUB-200-2011, and preparing them.

``fetch`` downloads, verifies and extracts the published files; ``lfw`` and ``cub`` turn
them into processed datasets (:mod:`attr2img.data.fmt`); ``partlabels`` and ``readimg``
serve them.
"""
