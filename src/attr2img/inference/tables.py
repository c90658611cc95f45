"""Stage ``tables``: assemble Tables 1 and 2 (Markdown and CSV) from the metrics JSONs.

Our unit for Table 1 is per-pixel MSE with pixels on [0, 1], times 10^3, over the named
region. The paper's numbers are shown beside ours, labelled as the paper's: the paper does
not state its pixel scale or normalisation, so they are a reference, not the same unit.
synth-faces is compared with the paper's LFW column and synth-birds with CUB.
"""

from __future__ import annotations

import csv
import io
from pathlib import Path

from attr2img.artifacts import read_json
from attr2img.atomic import atomic_path
from attr2img.catalog import CONDITIONAL, GENERATORS

# Paper Table 1 (VAE, CVAE, disCVAE), all +-0.1 (half +-0.2)
PAPER_T1 = {
    "faces": {"recon_full": (11.8, 11.8, 10.0), "recon_fg": (9.4, 9.3, 7.9), "complete_eyes": (13.0, 12.0, 10.3),
              "complete_mouth": (12.1, 12.0, 10.3), "complete_face": (13.1, 12.3, 10.9),
              "complete_right_half": (21.3, 20.3, 18.8)},
    "birds": {"recon_full": (14.5, 14.3, 12.9), "recon_fg": (11.7, 11.5, 10.2), "complete_block8": (1.8, 1.8, 1.8),
              "complete_block16": (4.6, 4.4, 4.4)},
}
PAPER_T2 = {"NN": (0.8719, 21.88), "NNblur": (0.8291, 28.24), "cvae": (0.9054, 17.20), "discvae": (0.9057, 16.71),
            "regressor_on_test_images": (0.98, 14.51)}
PAPER_FAMILY = {"synth-faces": "faces", "lfw": "faces", "synth-birds": "birds", "cub": "birds"}
ROW_NAMES = {"recon_full": "reconstruction, full image", "recon_fg": "reconstruction, foreground",
             "complete_eyes": "completion, eyes", "complete_mouth": "completion, mouth",
             "complete_face": "completion, face", "complete_right_half": "completion, right half",
             "complete_block8": "completion, 8x8 block", "complete_block16": "completion, 16x16 block"}
T2_ROWS = ("NN", "NNblur", *CONDITIONAL, "regressor_on_test_images", "noise_ceiling")
T2_NAMES = {"NN": "NN", "NNblur": "NNblur", "cvae": "CVAE", "discvae": "disCVAE",
            "regressor_on_test_images": "regressor on real test images (reference)",
            "noise_ceiling": "label-noise ceiling: the noise-free attributes (the best any regressor can do)"}


def _cell(m: dict) -> str:
    return f"{m['mean']:.2f} ± {m['sem']:.2f}"


def table1(metrics_dir: Path, datasets, models=GENERATORS) -> tuple[str, list[list]]:
    md = ["# Table 1: reconstruction and completion error\n",
          "Per-pixel MSE with pixels on [0, 1], ×10³, mean ± standard error over the test images "
          "(lower is better). Paper values: Yan et al. 2016, Table 1 (LFW for faces, CUB for birds; "
          "unit not stated in the paper, so a reference only).\n"]
    rows = [["dataset", "task", "model", "mean", "sem", "n_images", "paper"]]
    for d in datasets:
        family = PAPER_FAMILY.get(d)
        per_model = {m: read_json(metrics_dir / d / f"{m}.json", "attr2img evaluate-recon") for m in models}
        present = [k for k in per_model[models[0]] if k.startswith(("recon_", "complete_"))]
        tasks = [k for k in ROW_NAMES if k in present] + sorted(k for k in present if k not in ROW_NAMES)
        n = per_model[models[0]]["n_images"]
        md.append(f"\n## {d} ({n} test images)\n")
        md.append("| task | " + " | ".join(models) + " | paper (" + ", ".join(models) + ") |")
        md.append("|---" * (len(models) + 2) + "|")
        for t in tasks:
            paper = PAPER_T1.get(family, {}).get(t)
            paper_txt = " / ".join(str(paper[GENERATORS.index(m)]) for m in models) if paper else "—"
            md.append(f"| {ROW_NAMES.get(t, t)} | " + " | ".join(_cell(per_model[m][t]) for m in models)
                      + f" | {paper_txt} |")
            for m in models:
                rows.append([d, t, m, per_model[m][t]["mean"], per_model[m][t]["sem"], n,
                             paper[GENERATORS.index(m)] if paper else ""])
    return "\n".join(md) + "\n", rows


def table2(metrics_dir: Path, datasets) -> tuple[str, list[list]]:
    md = ["# Table 2: attribute-conditioned generation, judged by the attribute regressor\n",
          "For each test attribute vector, the best of the samples by cosine similarity between the "
          "regressor's prediction and the vector; mean ± standard error. Higher cosine and lower MSE "
          "are better. The mean AUC (binary attributes) is the regressor's per-attribute ROC AUC on the real test "
          "images, averaged. Paper values: Yan et al. 2016, Table 2 (LFW only).\n"]
    rows = [["dataset", "method", "cosine_mean", "cosine_sem", "mse_mean", "mse_sem", "auc", "paper_cosine",
             "paper_mse"]]
    for d in datasets:
        r = read_json(metrics_dir / f"{d}.json", "attr2img evaluate-attributes")
        faces = PAPER_FAMILY.get(d) == "faces"
        md.append(f"\n## {d} ({r['n_test']} test vectors, best of {r['n_samples']} samples)\n")
        md.append("| method | cosine similarity | MSE | mean AUC | paper cosine | paper MSE |")
        md.append("|---|---|---|---|---|---|")
        for key in T2_ROWS:
            if key not in r:
                continue
            paper = PAPER_T2.get(key) if faces else None
            auc = r[key].get("auc", "")
            md.append(f"| {T2_NAMES[key]} | {_cell(r[key]['cosine'])} | {_cell(r[key]['mse'])} | "
                      f"{f'{auc:.3f}' if auc != '' else '—'} | {paper[0] if paper else '—'} | "
                      f"{paper[1] if paper else '—'} |")
            rows.append([d, key, r[key]["cosine"]["mean"], r[key]["cosine"]["sem"], r[key]["mse"]["mean"],
                         r[key]["mse"]["sem"], auc, paper[0] if paper else "", paper[1] if paper else ""])
    return "\n".join(md) + "\n", rows


def _write(path: Path, text: str) -> None:
    with atomic_path(path) as tmp:
        tmp.write_text(text)


def _csv(rows) -> str:
    buf = io.StringIO()
    csv.writer(buf, lineterminator="\n").writerows(rows)
    return buf.getvalue()


def write_tables(table1_dir, table2_dir, out_dir, datasets) -> None:
    out = Path(out_dir)
    md1, rows1 = table1(Path(table1_dir), datasets)
    md2, rows2 = table2(Path(table2_dir), datasets)
    _write(out / "table1.md", md1)
    _write(out / "table1.csv", _csv(rows1))
    _write(out / "table2.md", md2)
    _write(out / "table2.csv", _csv(rows2))


def add_arguments(p) -> None:
    p.add_argument("--table1", required=True, help="directory of Table 1 metrics (<dataset>/<model>.json)")
    p.add_argument("--table2", required=True, help="directory of Table 2 metrics (<dataset>.json)")
    p.add_argument("--out", required=True, help="output directory for table1/2 .md and .csv")


def main(args, params: dict) -> None:
    write_tables(args.table1, args.table2, args.out, params["datasets"])
    print(f"wrote {args.out}/table1.md, table1.csv, table2.md, table2.csv")
