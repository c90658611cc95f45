"""The ``attr2img`` command line: a dispatcher over one module per stage.

Each stage module owns its command line: ``add_arguments(parser)`` declares its options and
``main(args, params)`` does the work, with ``params`` the validated params.yaml (``None``
for the few commands that read no parameters: their module sets ``PARAMS = False``). This
file only knows the table below, so editing a stage's options or behaviour touches that
stage's module alone, and the stage's DVC and Snakemake dependencies are its own modules.

Exit status: 0 success, 1 an unexpected error (a traceback), 2 a usage error (an option or a
parameter), 3 a data error (an input missing, corrupt or wrong); see :mod:`attr2img.errors`.

The front door (this dispatcher, :mod:`attr2img.params` and the schema) validates and
dispatches; it computes nothing a stage's outputs depend on, and is not a stage dependency.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from typing import NamedTuple

from attr2img.errors import USER_ERRORS
from attr2img.params import ParamsError, load_params


class Stage(NamedTuple):
    module: str
    help: str
    dag: bool = True        # a stage of dvc.yaml and the Snakefile (the others are tools)


STAGES = {
    "check-params": Stage("attr2img.params", "validate params.yaml against the schema", dag=False),
    "fetch": Stage("attr2img.data.real.fetch", "download, verify and extract a dataset's files into resources/"),
    "prepare": Stage("attr2img.data.prepare", "build a processed dataset (images, masks, attributes, splits, card)"),
    "overview": Stage("attr2img.figures.overview", "draw the data-overview figure of a processed dataset"),
    "occluders": Stage("attr2img.figures.occluders", "draw the completion occluders of a dataset on test images"),
    "train": Stage("attr2img.train.loop", "train one model on one processed dataset (resumes from its checkpoint)"),
    "evaluate-recon": Stage("attr2img.inference.evaluate_recon",
                            "Table 1: reconstruction and completion errors of one generator"),
    "evaluate-attributes": Stage("attr2img.inference.evaluate_attributes",
                                 "Table 2: generated samples judged by the regressor"),
    "evaluate-edits": Stage("attr2img.inference.evaluate_edits",
                            "Figures 4 and 5 measured: attribute edits read by the regressor, layer changes"),
    "tables": Stage("attr2img.inference.tables", "assemble Tables 1 and 2 from the metrics"),
    "claims": Stage("attr2img.inference.claims", "the paper's claims, each with a verdict from a paired interval"),
    "figure3": Stage("attr2img.figures.figure3", "Figure 3: attribute-conditioned generation"),
    "figure4": Stage("attr2img.figures.figure4", "Figure 4: attribute progression"),
    "figure5": Stage("attr2img.figures.figure5", "Figure 5: disentangling foreground and background"),
    "figure6": Stage("attr2img.figures.figure6", "Figure 6: reconstruction and completion"),
    "report": Stage("attr2img.report", "assemble results/report.md and .html"),
    "sample": Stage("attr2img.generate", "draw an image grid for an attribute assignment", dag=False),
    "reconstruct": Stage("attr2img.inference.reconstruct", "reconstruct images by posterior inference", dag=False),
    "edit": Stage("attr2img.editing", "edit the attributes of photos (attributes predicted when not given)",
                  dag=False),
    "serve": Stage("attr2img.explorer", "a local web page to explore trained models with attribute sliders",
                   dag=False),
    "complete": Stage("attr2img.inference.complete", "complete occluded images by posterior inference", dag=False),
}
DAG_STAGES = {name: s.module for name, s in STAGES.items() if s.dag}


def stage_module(stage: str):
    return importlib.import_module(STAGES[stage].module)


def _add_stage(sub, name: str) -> None:
    stage = STAGES[name]
    p = sub.add_parser(name, help=stage.help, description=stage.help)
    module = stage_module(name)
    module.add_arguments(p)
    reads_params = getattr(module, "PARAMS", True)
    if reads_params:
        p.add_argument("--params", default="params.yaml", help="parameter file (default: params.yaml)")
    p.set_defaults(func=module.main, reads_params=reads_params)


def build_parser(stage: str | None = None) -> argparse.ArgumentParser:
    """The parser with every stage's options, or, given ``stage``, only that one's (imports one module)."""
    parser = argparse.ArgumentParser(prog="attr2img", description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="stage", required=True, metavar="STAGE")
    for name, s in STAGES.items():
        if stage is None or name == stage:
            _add_stage(sub, name)
        else:
            sub.add_parser(name, help=s.help, add_help=False)
    return parser


def main(argv=None) -> int:
    argv = sys.argv[1:] if argv is None else list(argv)
    stage = next((a for a in argv if not a.startswith("-")), None)
    args = build_parser(stage if stage in STAGES else None).parse_args(argv)
    try:
        args.func(args, load_params(args.params) if args.reads_params else None)
    except (ParamsError, *USER_ERRORS) as exc:
        print(f"attr2img {args.stage}: error: {exc}", file=sys.stderr)
        return exc.exit_code
    return 0
