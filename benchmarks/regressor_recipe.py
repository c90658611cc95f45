"""The attribute regressor's recipe sweep (issue 12, item 1): train the regressor alone with
changed ``regressor`` keys, and score it on the *validation* split (the test split chooses
nothing). Cheaper than a DVC experiment, which would also rerun every stage the judge feeds.

Each variant is NAME:JSON, the JSON's keys replacing params.yaml's ``regressor`` keys
(``augment`` is merged into the augmentation; ``epochs`` sets the regressor's epochs):

    python benchmarks/regressor_recipe.py --dataset synth-faces \\
        base:{} shift4:'{"augment": {"shift": 4}}' w05:'{"width": 0.5}' \\
        s4d5:'{"augment": {"shift": 4}, "dropout": 0.5}'

Prints one line per variant: training seconds, validation cosine and MSE (and mean AUC for
binary attributes, with the mean AUC of each attribute group ``has_X::``). Needs the prepared
data (``dvc repro prepare``).
"""

from __future__ import annotations

import argparse
import copy
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import yaml

from attr2img.data.loader import ProcessedDataset
from attr2img.inference.evaluate_attributes import predict
from attr2img.models.store import load_model
from attr2img.scores import agreement, mean_auc
from judge_tasks import groups


def variant_params(params: dict, dataset: str, changes: dict, threads: int) -> dict:
    p = copy.deepcopy(params)
    p["train"]["threads"] = threads
    changes = dict(changes)
    if "epochs" in changes:
        p["train"]["epochs"][dataset]["regressor"] = changes.pop("epochs")
    p["regressor"]["augment"].update(changes.pop("augment", {}))
    p["regressor"].update(changes)
    return p


def auc_by_group(pred, labels, names: list[str]) -> dict:
    return {g: round(mean_auc(pred[:, cols], labels[:, cols]), 4) for g, cols in groups(names).items()}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("variants", nargs="+", help="NAME:JSON")
    ap.add_argument("--dataset", default="synth-faces")
    ap.add_argument("--params", default="params.yaml")
    ap.add_argument("--threads", type=int, default=0)
    args = ap.parse_args()
    params = yaml.safe_load(Path(args.params).read_text())
    data = Path("data/processed") / args.dataset
    val = ProcessedDataset(data, "val")
    x_val = val.tensors()[0]
    for spec in args.variants:
        name, _, js = spec.partition(":")
        with tempfile.TemporaryDirectory() as tmp:
            tmp = Path(tmp)
            (tmp / "params.yaml").write_text(yaml.safe_dump(
                variant_params(params, args.dataset, json.loads(js or "{}"), args.threads)))
            t = time.perf_counter()
            subprocess.run([sys.executable, "-m", "attr2img", "train", "--params", str(tmp / "params.yaml"),
                            "--dataset", args.dataset, "--model", "regressor", "--data", str(data),
                            "--out", str(tmp / "model"), "--log", str(tmp / "log.tsv"),
                            "--checkpoints", str(tmp / "ck"), "--run-record", str(tmp / "run.json")],
                           check=True, stdout=subprocess.DEVNULL)
            seconds = time.perf_counter() - t
            regressor, _ = load_model(tmp / "model", "cpu")
            pred = predict(regressor, x_val)
            score = agreement(pred, val.attributes, val.attribute_kind == "binary")
            if val.attribute_kind == "binary":
                score["auc_by_group"] = auc_by_group(pred, val.attributes, val.attribute_names)
        print(json.dumps({"variant": name, "dataset": args.dataset, "train_seconds": round(seconds), **score}),
              flush=True)


if __name__ == "__main__":
    main()
