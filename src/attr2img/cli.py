"""The ``attr2img`` command line: one subcommand per pipeline stage.

Every stage takes explicit input and output paths and reads its parameters from
params.yaml, which is validated against the schema before anything runs. dvc.yaml and the
Snakefile call exactly these commands. Stage -> module:

    check-params   attr2img.params            validate params.yaml
    prepare        attr2img.data.prepare      build a processed dataset
    overview       attr2img.figures.overview  data-overview figure
"""

from __future__ import annotations

import argparse
import importlib
import sys

from attr2img.data.fmt import DatasetError
from attr2img.params import ParamsError, load_params

# The module that implements each DAG stage (its ``run`` function does the work).
STAGE_MODULES = {
    "prepare": "attr2img.data.prepare",
    "overview": "attr2img.figures.overview",
}


def stage_module(stage: str):
    return importlib.import_module(STAGE_MODULES[stage])


def cmd_check_params(args) -> None:
    params = load_params(args.params)
    print(f"{args.params}: valid; datasets: {', '.join(params['datasets'])}")


def cmd_prepare(args) -> None:
    params = load_params(args.params)
    card = stage_module("prepare").run(args.dataset, params, args.out)
    print(f"{args.dataset}: wrote {args.out} ({card['counts']}, checksum {card['checksum'][:12]})")


def cmd_overview(args) -> None:
    params = load_params(args.params)
    cfg = params["figures"]["overview"]
    stage_module("overview").run(args.data, args.out, n_examples=cfg["n_examples"], seed=cfg["seed"])
    print(f"wrote {args.out}")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="attr2img", description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="stage", required=True, metavar="STAGE")

    def stage(name, func, help):
        p = sub.add_parser(name, help=help, description=help)
        p.add_argument("--params", default="params.yaml", help="parameter file (default: params.yaml)")
        p.set_defaults(func=func)
        return p

    stage("check-params", cmd_check_params, "validate params.yaml against the schema")
    p = stage("prepare", cmd_prepare, "build a processed dataset (images, masks, attributes, splits, card)")
    p.add_argument("--dataset", required=True, help="dataset name, e.g. synth-faces")
    p.add_argument("--out", required=True, help="output directory, e.g. data/processed/synth-faces")
    p = stage("overview", cmd_overview, "draw the data-overview figure of a processed dataset")
    p.add_argument("--data", required=True, help="processed dataset directory")
    p.add_argument("--out", required=True, help="output PNG")
    return parser


def main(argv=None) -> int:
    args = build_parser().parse_args(argv)
    try:
        args.func(args)
    except (ParamsError, DatasetError) as exc:
        print(f"attr2img {args.stage}: error: {exc}", file=sys.stderr)
        return 2
    return 0
