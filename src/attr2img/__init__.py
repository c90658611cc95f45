"""attr2img: a reproducible pipeline for Attribute2Image (Yan et al., ECCV 2016).

Every pipeline stage is a subcommand of the ``attr2img`` CLI (see :mod:`attr2img.cli`);
``dvc.yaml`` and the ``Snakefile`` are thin front-ends over those commands.
"""

__version__ = "0.1.0"
