"""The ``attr2img`` command line: one subcommand per pipeline stage.

Every stage takes explicit input and output paths and reads its parameters from
params.yaml, which is validated against the schema before anything runs. dvc.yaml and the
Snakefile call exactly these commands. Stage -> module:

    check-params   attr2img.params            validate params.yaml
    fetch          attr2img.data.fetch        download, verify and extract a dataset's files (or one source)
    prepare        attr2img.data.prepare      build a processed dataset
    overview       attr2img.figures.overview  data-overview figure
    occluders      attr2img.figures.occluders picture of the completion occluders
    train          attr2img.train.loop        train vae, cvae, discvae or the regressor
    evaluate-recon attr2img.inference.reconstruct   Table 1 cells: reconstruction and completion
    evaluate-attributes attr2img.inference.attributes  Table 2 for one dataset
    tables         attr2img.inference.tables  Tables 1 and 2 as Markdown and CSV
    figure3/4/5    attr2img.figures.generation  generation, progression, disentangling figures
    figure6        attr2img.figures.completion  reconstruction and completion figure
    report         attr2img.report            results/report.md and .html
    sample         attr2img.generate          images for an attribute assignment (not a DAG stage)
    reconstruct, complete  attr2img.inference.api  posterior inference on your own images
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys

from attr2img.errors import ArtifactError, AttributeInputError, DatasetError, FetchError, ModelError
from attr2img.params import ParamsError, load_params

# The module that implements each DAG stage (its ``run`` function does the work).
STAGE_MODULES = {
    "fetch": "attr2img.data.fetch",
    "prepare": "attr2img.data.prepare",
    "overview": "attr2img.figures.overview",
    "occluders": "attr2img.figures.occluders",
    "train": "attr2img.train.loop",
    "evaluate-recon": "attr2img.inference.reconstruct",
    "evaluate-attributes": "attr2img.inference.attributes",
    "tables": "attr2img.inference.tables",
    "figure3": "attr2img.figures.generation",
    "figure4": "attr2img.figures.generation",
    "figure5": "attr2img.figures.generation",
    "figure6": "attr2img.figures.completion",
    "report": "attr2img.report",
}


def stage_module(stage: str):
    return importlib.import_module(STAGE_MODULES[stage])


def cmd_check_params(args) -> None:
    params = load_params(args.params)
    print(f"{args.params}: valid; datasets: {', '.join(params['datasets'])}")


def cmd_prepare(args) -> None:
    params = load_params(args.params)
    card = stage_module("prepare").run(args.dataset, params, args.out, args.fetched)
    print(f"{args.dataset}: wrote {args.out} ({card['counts']}, checksum {card['checksum'][:12]})")


def cmd_overview(args) -> None:
    params = load_params(args.params)
    cfg = params["figures"]["overview"]
    stage_module("overview").run(args.data, args.out, n_examples=cfg["n_examples"], seed=cfg["seed"])
    print(f"wrote {args.out}")


def cmd_occluders(args) -> None:
    params = load_params(args.params)
    p = params["inference"]
    stage_module("occluders").run(args.data, args.out, p["occluders"][args.dataset], seed=p["seed"])
    print(f"wrote {args.out}")


def cmd_train(args) -> None:
    params = load_params(args.params)
    card = stage_module("train").train(args.model, args.data, args.out, params, args.dataset, args.log,
                                       args.checkpoints, device_pref=args.device)
    if os.environ.get("RANK", "0") != "0":       # under torchrun, rank 0 speaks for all
        return
    final = card["final"]
    print(f"{args.dataset}/{args.model}: wrote {args.out} ({card['steps']} steps on {card['device']} in "
          f"{card['seconds']} s; val loss {final.get('val_loss', float('nan')):.4g})")


def cmd_evaluate_recon(args) -> None:
    params = load_params(args.params)
    m = stage_module("evaluate-recon").run(args.model_dir, args.data, args.dataset, params, args.metrics,
                                           args.examples, device_pref=args.device)
    print(f"wrote {args.metrics}: " + ", ".join(f"{k} {v['mean']:.2f}" for k, v in m.items() if isinstance(v, dict)
                                                and "mean" in v))


def cmd_evaluate_attributes(args) -> None:
    params = load_params(args.params)
    dirs = {"regressor": args.regressor, "cvae": args.cvae, "discvae": args.discvae}
    r = stage_module("evaluate-attributes").run(dirs, args.data, params, args.metrics, device_pref=args.device)
    print(f"wrote {args.metrics}: " + ", ".join(f"{k} cos {v['cosine']['mean']:.3f}" for k, v in r.items()
                                                if isinstance(v, dict)))


def cmd_tables(args) -> None:
    params = load_params(args.params)
    stage_module("tables").run(args.table1, args.table2, args.out, params)
    print(f"wrote {args.out}/table1.md, table1.csv, table2.md, table2.csv")


def cmd_figure(args) -> None:
    params = load_params(args.params)
    gen, seed = stage_module(args.stage), params["figures"]["seed"]
    if args.stage == "figure3":
        gen.figure3(args.data, args.cvae, args.discvae, args.out, seed=seed)
    elif args.stage == "figure4":
        gen.figure4(args.data, args.discvae, args.out, seed=seed)
    elif args.stage == "figure5":
        gen.figure5(args.data, args.discvae, args.out, seed=seed)
    else:
        gen.run(args.data, args.examples, args.out, ["recon"] + list(params["inference"]["occluders"][args.dataset]))
    print(f"wrote {args.out}")


def cmd_report(args) -> None:
    params = load_params(args.params)
    stage_module("report").run(args.params, params, args.tables, args.metrics, args.figures, args.out, args.html)
    print(f"wrote {args.out} and {args.html}")


def cmd_reconstruct(args) -> None:
    params = load_params(args.params)
    from attr2img.inference import api

    api.run_cli(args, params)


def cmd_sample(args) -> None:
    from attr2img.generate import sample_grid

    sample_grid(args.model, args.data, args.out, args.set, vector_file=args.vector, base=args.base,
                n=args.n, seed=args.seed, device=args.device or "cpu")
    print(f"wrote {args.out}")


def cmd_fetch(args) -> None:
    fetch = stage_module("fetch")
    if args.list:
        for src in fetch.SOURCES.values():
            print(f"{src.name}: {src.note}")
            for rf in src.files:
                print(f"  {rf.name}  {rf.checksum_text()}\n    " + "\n    ".join(rf.urls))
        return
    if not args.out or not (args.source or args.dataset):
        raise FetchError("fetch needs --dataset (or --source) and --out, or --list")
    policy = fetch.Policy(attempts=args.attempts, timeout=args.timeout)
    if args.dataset:
        rec = fetch.fetch_dataset(args.dataset, args.out, policy)
        missing = f"; missing, with a fallback: {', '.join(rec['missing'])}" if rec["missing"] else ""
        print(f"{args.dataset}: {len(rec['sources'])} source(s) verified in {args.out}{missing}")
        return
    card = fetch.run(args.source, args.out, policy)
    print(f"{args.source}: {len(card['files'])} file(s) verified in {args.out}")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="attr2img", description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="stage", required=True, metavar="STAGE")

    def stage(name, func, help, device=False):
        p = sub.add_parser(name, help=help, description=help)
        p.add_argument("--params", default="params.yaml", help="parameter file (default: params.yaml)")
        if device:
            p.add_argument("--device", choices=["auto", "cpu", "cuda"], help="override params train.device")
        p.set_defaults(func=func)
        return p

    stage("check-params", cmd_check_params, "validate params.yaml against the schema")
    p = sub.add_parser("fetch", help="download, verify and extract a dataset's files into resources/",
                       description="download, verify and extract every file of a dataset (the DAG stage) or of "
                                   "one source; a file put by hand where the error message says is verified "
                                   "and used")
    what = p.add_mutually_exclusive_group()
    what.add_argument("--dataset", help="synth-faces, synth-birds (nothing to fetch), lfw or cub: every source "
                                        "it needs, each into OUT/<source>/, recorded in OUT/fetched.json")
    what.add_argument("--source", help="one source: lfw-funneled, lfw-view1, lfw-attributes, lfw-part-labels, cub, "
                                       "cub-segmentations")
    p.add_argument("--out", help="target folder, e.g. resources/lfw")
    p.add_argument("--list", action="store_true", help="list every source with its files, checksums and URLs")
    p.add_argument("--attempts", type=int, default=3, help="tries per URL before the next one (default 3)")
    p.add_argument("--timeout", type=float, default=60.0, help="socket timeout in seconds (default 60)")
    p.set_defaults(func=cmd_fetch)
    p = stage("prepare", cmd_prepare, "build a processed dataset (images, masks, attributes, splits, card)")
    p.add_argument("--dataset", required=True, help="dataset name, e.g. synth-faces")
    p.add_argument("--fetched", help="the fetch stage's record, e.g. resources/lfw/fetched.json (the dataset's "
                                      "files lie beside it); needed for lfw and cub")
    p.add_argument("--out", required=True, help="output directory, e.g. data/processed/synth-faces")
    p = stage("overview", cmd_overview, "draw the data-overview figure of a processed dataset")
    p.add_argument("--data", required=True, help="processed dataset directory")
    p.add_argument("--out", required=True, help="output PNG")
    p = stage("occluders", cmd_occluders, "draw the completion occluders of a dataset on test images")
    p.add_argument("--dataset", required=True, help="dataset name (selects its occluders)")
    p.add_argument("--data", required=True, help="processed dataset directory")
    p.add_argument("--out", required=True, help="output PNG")
    p = stage("train", cmd_train, "train one model on one processed dataset (resumes from its checkpoint)", True)
    p.add_argument("--dataset", required=True, help="dataset name (selects its params)")
    p.add_argument("--model", required=True, choices=["vae", "cvae", "discvae", "regressor"])
    p.add_argument("--data", required=True, help="processed dataset directory")
    p.add_argument("--out", required=True, help="output model directory (model.safetensors + card.json)")
    p.add_argument("--log", required=True, help="training curve file (TSV, a DVC plot)")
    p.add_argument("--checkpoints", required=True, help="checkpoint directory (kept until training ends)")
    p = stage("evaluate-recon", cmd_evaluate_recon, "Table 1: reconstruction and completion errors of one generator",
              True)
    p.add_argument("--dataset", required=True, help="dataset name (selects its occluders)")
    p.add_argument("--model-dir", required=True, help="trained generator, e.g. models/synth-faces/cvae")
    p.add_argument("--data", required=True, help="processed dataset directory")
    p.add_argument("--metrics", required=True, help="output metrics JSON")
    p.add_argument("--examples", required=True, help="output npz of example inputs and outputs (Figure 6)")
    p = stage("evaluate-attributes", cmd_evaluate_attributes, "Table 2: generated samples judged by the regressor",
              True)
    p.add_argument("--dataset", required=True)
    p.add_argument("--data", required=True, help="processed dataset directory")
    p.add_argument("--regressor", required=True, help="trained attribute regressor")
    p.add_argument("--cvae", required=True, help="trained CVAE")
    p.add_argument("--discvae", required=True, help="trained disCVAE")
    p.add_argument("--metrics", required=True, help="output metrics JSON")
    p = stage("tables", cmd_tables, "assemble Tables 1 and 2 from the metrics")
    p.add_argument("--table1", required=True, help="directory of Table 1 metrics (<dataset>/<model>.json)")
    p.add_argument("--table2", required=True, help="directory of Table 2 metrics (<dataset>.json)")
    p.add_argument("--out", required=True, help="output directory for table1/2 .md and .csv")
    for name, what in (("figure3", "Figure 3: attribute-conditioned generation"),
                       ("figure4", "Figure 4: attribute progression"),
                       ("figure5", "Figure 5: disentangling foreground and background"),
                       ("figure6", "Figure 6: reconstruction and completion")):
        p = stage(name, cmd_figure, what)
        p.add_argument("--dataset", required=True)
        p.add_argument("--data", required=True, help="processed dataset directory")
        if name == "figure3":
            p.add_argument("--cvae", required=True, help="trained CVAE")
        if name in ("figure3", "figure4", "figure5"):
            p.add_argument("--discvae", required=True, help="trained disCVAE")
        if name == "figure6":
            p.add_argument("--examples", required=True, help="folder of evaluate-recon examples (<model>.npz)")
        p.add_argument("--out", required=True, help="output PNG")
    p = stage("report", cmd_report, "assemble results/report.md and .html")
    p.add_argument("--tables", required=True)
    p.add_argument("--metrics", required=True)
    p.add_argument("--figures", required=True)
    p.add_argument("--out", required=True, help="output Markdown")
    p.add_argument("--html", required=True, help="output HTML")
    for name, what in (("reconstruct", "reconstruct images by posterior inference"),
                       ("complete", "complete occluded images by posterior inference")):
        p = stage(name, cmd_reconstruct, what, True)
        p.set_defaults(task=name)
        p.add_argument("--model", required=True, help="trained generator folder")
        p.add_argument("--images", required=True, nargs="+", help="image files or folders (64x64 RGB; others are resized)")
        p.add_argument("--attributes", required=True,
                       help="attribute vectors: a .npy (N, A) or text file with one vector per line, in image order")
        if name == "complete":
            p.add_argument("--occluder", required=True, help="eyes, mouth, face, right_half, block8 or block16")
        p.add_argument("--out", required=True, help="output folder (one PNG per image, plus latents.npy)")
    p = sub.add_parser("sample", help="draw an image grid for an attribute assignment",
                       description="draw an image grid for an attribute assignment, e.g. "
                                   "--set Smiling=2 --set Male=-1 on top of the training mean")
    p.set_defaults(func=cmd_sample)
    p.add_argument("--model", required=True, help="trained model directory, e.g. models/synth-faces/cvae")
    p.add_argument("--data", required=True, help="its processed dataset (for --base)")
    p.add_argument("--set", action="append", default=[], metavar="NAME=VALUE", help="set one attribute (repeatable)")
    p.add_argument("--vector", help="a full attribute vector (.npy or text) instead of --base")
    p.add_argument("--base", default="mean", help="'mean' (training mean, default) or 'test:K'")
    p.add_argument("-n", type=int, default=8, help="number of samples (default 8)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--device", choices=["cpu", "cuda"])
    p.add_argument("--out", required=True, help="output PNG")
    return parser


def main(argv=None) -> int:
    args = build_parser().parse_args(argv)
    try:
        args.func(args)
    except (ParamsError, DatasetError, ModelError, AttributeInputError, ArtifactError, FetchError) as exc:
        print(f"attr2img {args.stage}: error: {exc}", file=sys.stderr)
        return 2
    return 0
