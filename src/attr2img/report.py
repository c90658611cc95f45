"""Stage ``report``: results/report.md and report.html from the tables, metrics and figures.

The reading against the paper is computed from the metrics (which model wins each row, and
whether the gap exceeds two standard errors), so the words stay true when the numbers change.
"""

from __future__ import annotations

import html
import re
from pathlib import Path

from attr2img.artifacts import read_json
from attr2img.atomic import atomic_path
from attr2img.catalog import CONDITIONAL, GENERATORS as GEN, LABELS
from attr2img.errors import ArtifactError
from attr2img.evidence import evidence_section
from attr2img.inference.claims import iter_claims
from attr2img.provenance import git_revision

LABEL = {**LABELS, "NN": "NN", "NNblur": "NNblur"}


def _separated(a: dict, b: dict) -> bool:
    return abs(a["mean"] - b["mean"]) > 2 * (a["sem"] ** 2 + b["sem"] ** 2) ** 0.5


def read_table1(metrics_dir: Path, dataset: str) -> list[str]:
    m = {g: read_json(metrics_dir / "table1" / dataset / f"{g}.json", "attr2img evaluate-recon") for g in GEN}
    rows = [k for k in m["vae"] if k.startswith(("recon_", "complete_"))]
    wins = {g: 0 for g in GEN}
    lines, clear = [], 0
    for row in rows:
        best = min(GEN, key=lambda g: m[g][row]["mean"])
        wins[best] += 1
        second = min((g for g in GEN if g != best), key=lambda g: m[g][row]["mean"])
        clear += _separated(m[best][row], m[second][row])
    lines.append(f"- **{dataset}, Table 1.** The paper finds the disCVAE best or tied for best on every row "
                 f"(and the CVAE no worse than the VAE). Here the lowest error is the disCVAE's on {wins['discvae']} of "
                 f"{len(rows)} rows, the CVAE's on {wins['cvae']} and the VAE's on {wins['vae']}; the winner "
                 f"is ahead of the runner-up by more than two standard errors on {clear} of {len(rows)} rows.")
    cv_vs_vae = sum(m["cvae"][r]["mean"] <= m["vae"][r]["mean"] for r in rows)
    lines.append(f"  The CVAE is no worse than the VAE on {cv_vs_vae} of {len(rows)} rows "
                 f"({'agrees' if cv_vs_vae == len(rows) else 'partly disagrees'} with the paper).")
    return lines


def judge_line(r: dict) -> str:
    """The regressor's own accuracy on real test images, beside its noise ceiling when known."""
    reg, ceiling = r["regressor_on_test_images"], r.get("noise_ceiling")
    text = f"The regressor's own cosine on real test images is {reg['cosine']['mean']:.3f}"
    if "auc" in reg:
        text += f", mean per-attribute AUC {reg['auc']:.3f}"
    if ceiling:
        text += (f"; the dataset's label noise caps any regressor at cosine {ceiling['cosine']['mean']:.3f}"
                 + (f", AUC {ceiling['auc']:.3f}" if "auc" in ceiling else ""))
    return text + " (paper, LFW: cosine 0.98)."


def read_table2(metrics_dir: Path, dataset: str) -> list[str]:
    r = read_json(metrics_dir / "table2" / f"{dataset}.json", "attr2img evaluate-attributes")
    cos = {k: r[k]["cosine"]["mean"] for k in ("NN", "NNblur", *CONDITIONAL)}
    order = sorted(cos, key=lambda k: -cos[k])
    beats_nn = [LABEL[g] for g in CONDITIONAL if cos[g] > cos["NN"]]
    return [f"- **{dataset}, Table 2.** The paper ranks disCVAE ≈ CVAE > NN > NNblur by cosine similarity. "
            f"Here: {' > '.join(f'{LABEL[k]} ({cos[k]:.3f})' for k in order)}; "
            f"{', '.join(beats_nn) if beats_nn else 'neither generator'} beat{'s' if len(beats_nn) == 1 else ''} the "
            f"nearest-neighbour baseline. " + judge_line(r) + nn_line(r)]


def nn_line(r: dict) -> str:
    """Why NN may be out of reach: its own labels against the query's, beside the label noise."""
    if "NN_label_distance" not in r:
        return ""
    d = r["NN_label_distance"]["mse"]["mean"]
    noise = r.get("noise_ceiling", {}).get("mse", {}).get("mean")
    text = f" The nearest training image's own labels differ from the query's by MSE {d:.3f}"
    if noise is not None:
        text += (f", against a label noise of MSE {noise:.3f}: NN's image carries the queried attributes "
                 f"{'about as exactly as the labels themselves do' if d <= 2 * noise else 'only approximately'}")
    return text + "."


SYNTHETIC = {"synth-faces": "LFW", "synth-birds": "CUB-200-2011"}


def describe_dataset(card: dict) -> str:
    """One paragraph from a processed dataset's card: what the data is and what preparation did."""
    name, counts = card["name"], card["counts"]
    size = f"{counts['train']:,} train / {counts['val']:,} validation / {counts['test']:,} test images"
    if name in SYNTHETIC:
        return (f"- **{name}**: a synthetic stand-in for {SYNTHETIC[name]}, rendered offline by the prepare stage "
                f"(seed {card['generator']['seed']}); {size}, {len(card['attribute_names'])} "
                f"{card['attribute_kind']} attributes.")
    prep, fetched = card.get("preparation", {}), card.get("fetched", {})
    parts = [f"- **{name}**: the real dataset; {size}, {len(card['attribute_names'])} {card['attribute_kind']} "
             f"attributes."]
    if "split" in prep:
        parts.append(f"Split: {prep['split']}; validation: {prep['validation']}.")
    elif "validation" in prep:
        parts.append(f"Validation: {prep['validation']}.")
    if isinstance(prep.get("masks"), dict):
        parts.append(f"Masks: {prep['masks']['method']}.")
    skipped = {k: v for k, v in prep.get("counts", {}).items() if v}
    if skipped:
        parts.append("Preparation counted: " + "; ".join(f"{k}: {v:,}" for k, v in skipped.items()) + ".")
    lines = {k: v["lines"] for k, v in prep.get("attribute_label_lines_skipped", {}).items()}
    if lines:
        parts.append("Attribute label lines skipped: " + "; ".join(f"{k}: {v}" for k, v in lines.items()) + ".")
    for source, fallback in fetched.get("fallbacks", {}).items():
        parts.append(f"{source} was not fetched; used instead: {fallback}.")
    if fetched.get("non_reference_copies"):
        parts.append("**Non-reference copies were used** (accepted in params fetch.accept, their checksums differ "
                     "from the published files): " + ", ".join(fetched["non_reference_copies"]) + ".")
    return " ".join(parts)


def profile_note(params: dict, cards: list[dict]) -> str:
    """How this run's recipe and data compare with the paper's, from the parameters and the cards."""
    width, synthetic = params["model"]["width"], [c["name"] for c in cards if c["name"] in SYNTHETIC]
    notes = []
    if width < 1.0:
        notes.append(f"networks at width {width} of the paper's")
    if params["inference"]["iterations"] < 1000:
        notes.append(f"{params['inference']['iterations']} posterior-inference iterations (the paper: 1,000)")
    if synthetic:
        notes.append("synthetic stand-ins (" + ", ".join(synthetic) + ") rather than LFW and CUB")
    if not notes:
        return ("This run uses the paper's network width and inference schedule on the real datasets; "
                "the comparison below is about the orderings the paper reports.")
    return ("This run differs from the paper: " + "; ".join(notes) + ". Absolute numbers are therefore not "
            "comparable with the paper's; the comparison below is about the orderings the paper reports.")


GROUP_NAMES = {"table1": "Table 1", "table2": "Table 2", "figure4": "Figure 4", "figure5": "Figure 5"}


def read_noise_floor(path) -> dict:
    """docs/noise_floor.json, as benchmarks/noise_floor.py --write saves it (a measurement kept in
    git, not a stage's output)."""
    how = ("it is the seed-to-seed noise floor that benchmarks/noise_floor.py --write saves after the seed "
           "experiments of docs/benchmarks.md, \"Seed-to-seed noise floor\"")
    if not Path(path).exists():
        raise ArtifactError(f"missing {path}; {how}")
    floor = read_json(Path(path), "python benchmarks/noise_floor.py SEED-EXPERIMENTS --write docs/noise_floor.json")
    missing = [k for k in ("measured_on", "table1", "table2_generator_cosine", "verdicts") if k not in floor]
    if missing:
        raise ArtifactError(f"{path} lacks {', '.join(missing)}; {how}")
    return floor


def read_oracle(path) -> dict:
    """docs/oracle_generator.json, as benchmarks/oracle_generator.py --write saves it: its
    ``datasets`` ({dataset: result}). A measurement kept in git, like the noise floor."""
    how = "it is written by benchmarks/oracle_generator.py --write after `dvc repro`"
    if not Path(path).exists():
        raise ArtifactError(f"missing {path}; {how}")
    oracle = read_json(Path(path), "python benchmarks/oracle_generator.py --write docs/oracle_generator.json")
    if "datasets" not in oracle or "measured_on" not in oracle:
        raise ArtifactError(f"{path} lacks its datasets or measured_on; {how}")
    return oracle["datasets"]


def noise_note(floor: dict, datasets) -> str:
    """What a `dvc metrics diff` must exceed, and which verdicts the training seed flips, from the
    measured noise floor (docs/noise_floor.json), so the report cannot drift from the measurement.
    A run on other datasets than the measurement's is told so, without their cell names."""
    t1, t2, v, on = floor["table1"], floor["table2_generator_cosine"], floor["verdicts"], floor["measured_on"]
    n, here = on["seeds"], set(on["datasets"]) <= set(datasets)
    by_group: dict[str, list[str]] = {}
    for claim in v["flipped"]:                       # <dataset>/<group>/<row>[/<claim>]
        dataset, group, row = claim.split("/")[:3]
        by_group.setdefault(GROUP_NAMES.get(group, group), []).append(f"{dataset} {row.replace('_', ' ')}")
    flipped = "; ".join(
        f"{len(rows)} {group} " + ("row" if group == "Figure 4" else "claim") + ("s" if len(rows) > 1 else "")
        + (": " + ", ".join(rows) if group == "Figure 4" and here else "")
        for group, rows in sorted(by_group.items(), reverse=True))
    where = (f"over {n} seeds on the {on['machine'].split(',')[0]}" if here else
             f"measured over {n} seeds on the datasets of the default run, not on this run's")
    largest = f" in {t1['largest_cell']}" if here else ""
    return (f"where a claim's paired difference is far from zero. A table cell moves between training seeds and "
            f"between CPUs (docs/benchmarks.md, \"Seed-to-seed noise floor\": {where}, a median standard deviation "
            f"of {t1['median_sd']:.2g} in a Table 1 cell, up to {t1['largest_sd']:.2g}{largest}, and "
            f"{t2['median_sd']:.2g} in a generator's Table 2 cosine, up to {t2['largest_sd']:.2g}), so a `dvc "
            f"metrics diff` means something only beyond about twice that: {t1['threshold']:g} in a Table 1 cell, "
            f"{t2['threshold']:g} in a generator's Table 2 cosine. An interval here covers the test items of one "
            f"trained model, not its training: over the {n} seeds {v['same_in_every_run']} of the {v['claims']} "
            f"verdicts stayed the same, and {len(v['flipped'])} flipped ({flipped}), so a flip of one of those is "
            f"within the noise.")


def claims_section(ledger: dict, datasets, floor: dict) -> list[str]:
    """The claims ledger: each of the paper's orderings with its paired 95 % interval and verdict."""
    s = ledger["summary"]
    md = ["## Claims ledger", "",
          f"Each claim compares two measurements on the same items (paired differences A − B, mean and 95 % "
          f"bootstrap interval): Table 1 in MSE ×10³ per test image; Table 2 in cosine per test vector; Figure 4 "
          f"as the moved attribute's change minus the others' (regressor readings, in training standard "
          f"deviations) per latent draw, with Spearman ≥ 0.9 of the row's trend also required; Figure 5 as pixel "
          f"change outside minus inside the gate (z_B) or inside minus outside (z_F) per base draw. **holds**: the "
          f"interval lies on the paper's side of zero; **fails**: on the other side (or, for Figure 4, the trend "
          f"is not monotonic); **inconclusive**: it contains zero. Here: {s['holds']} hold, {s['fails']} fail, "
          f"{s['inconclusive']} inconclusive. The verdicts are the robust signal {noise_note(floor, datasets)} Why the "
          f"failing claims fail is the next section, from this run's outputs (docs/fidelity.md has the longer "
          f"discussion); the Table 2 readings above give the judge's ceiling and how close NN's own labels are "
          f"to the queries.", "",
          "| dataset | claim | mean A − B | 95 % interval | verdict |", "|---|---|---|---|---|"]
    for d in datasets:
        for c in iter_claims(ledger[d]):
            extra = []
            if "spearman" in c:
                extra.append(f"Spearman {c['spearman']:.2f}")
            if c.get("off_over_on") is not None:
                extra.append(f"others/moved {c['off_over_on']:.2f}")
            if "ratio" in c:
                extra.append(f"ratio {c['ratio']:.2f}")
            extra = "; ".join(extra)
            md.append(f"| {d} | {c['claim']} | {c['mean_diff']:+.4g} | [{c['ci_low']:+.4g}, {c['ci_high']:+.4g}] | "
                      f"**{c['verdict']}**{f' ({extra})' if extra else ''} |")
    return md + [""]


def build(params: dict, tables_dir: Path, metrics_dir: Path, figures: list[str], params_text: str,
          cards: list[dict], plots_dir: Path, data_dir: Path, floor: dict, oracle: dict | None = None) -> str:
    datasets = params["datasets"]
    md = ["# attr2img results report", "",
          f"Produced by git revision `{git_revision()}` with the parameters at the end of this report. "
          f"Datasets: {', '.join(datasets)}. Networks at width {params['model']['width']} (the paper's: 1.0).", ""]
    md += ["## Data", ""] + [describe_dataset(c) for c in cards] + [""]
    md += ["## Reading against the paper", "", profile_note(params, cards), ""]
    for d in datasets:
        md += read_table1(metrics_dir, d) + read_table2(metrics_dir, d)
    md.append("")
    ledger = read_json(metrics_dir / "claims.json", "attr2img claims")
    md += claims_section(ledger, datasets, floor)
    md += evidence_section(ledger, metrics_dir, plots_dir, data_dir, datasets, oracle)
    for name in ("table1.md", "table2.md"):
        text = (tables_dir / name).read_text()
        md += [re.sub(r"^(#+) ", r"#\1 ", line) for line in text.splitlines()] + [""]
    md += ["## Figures", ""]
    for f in figures:
        md += [f"![{Path(f).stem}]({f})", ""]
    md += ["## Parameters", "", "```yaml", params_text.rstrip(), "```", ""]
    return "\n".join(md)


def to_html(md: str) -> str:
    """A small Markdown-to-HTML converter for exactly what ``build`` writes."""
    out, lines, i = [], md.splitlines(), 0

    def inline(s):
        s = html.escape(s)
        s = re.sub(r"\*\*(.+?)\*\*", r"<strong>\1</strong>", s)
        return re.sub(r"`(.+?)`", r"<code>\1</code>", s)

    while i < len(lines):
        line = lines[i]
        if line.startswith("```"):
            j = i + 1
            while j < len(lines) and not lines[j].startswith("```"):
                j += 1
            out.append("<pre>" + html.escape("\n".join(lines[i + 1:j])) + "</pre>")
            i = j + 1
            continue
        if line.startswith("|"):
            rows = []
            while i < len(lines) and lines[i].startswith("|"):
                if not re.match(r"^\|(\s*-+\s*\|)+$", lines[i].replace("---", "-")):
                    rows.append([c.strip() for c in lines[i].strip("|").split("|")])
                i += 1
            head, body = rows[0], rows[1:]
            out.append("<table><tr>" + "".join(f"<th>{inline(c)}</th>" for c in head) + "</tr>" + "".join(
                "<tr>" + "".join(f"<td>{inline(c)}</td>" for c in r) + "</tr>" for r in body) + "</table>")
            continue
        m = re.match(r"^(#+) (.*)", line)
        img = re.match(r"^!\[(.*)\]\((.*)\)$", line)
        if m:
            out.append(f"<h{len(m.group(1))}>{inline(m.group(2))}</h{len(m.group(1))}>")
        elif img:
            out.append(f'<p><img alt="{html.escape(img.group(1))}" src="{html.escape(img.group(2))}" '
                       f'style="max-width:100%"></p>')
        elif line.startswith("- ") or line.startswith("  "):
            out.append(f"<p>{inline(line.lstrip('- '))}</p>")
        elif line.strip():
            out.append(f"<p>{inline(line)}</p>")
        i += 1
    return ("<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>attr2img results</title>"
            "<style>body{font-family:sans-serif;max-width:70em;margin:auto}table{border-collapse:collapse}"
            "td,th{border:1px solid #999;padding:2px 6px}</style></head><body>\n" + "\n".join(out) + "\n</body></html>\n")


def write_report(params_path, params: dict, tables_dir, metrics_dir, figures_dir, data_dir, plots_dir,
                 noise_floor, out_md, out_html, oracle=None) -> None:
    """``oracle``: docs/oracle_generator.json, or None (the Table 2 evidence then has no
    perfect-generator reading)."""
    out_md = Path(out_md)
    floor = read_noise_floor(noise_floor)
    oracle = read_oracle(oracle) if oracle is not None else None
    cards = [read_json(Path(data_dir) / d / "card.json", f"attr2img prepare --dataset {d}") for d in params["datasets"]]
    figs = []
    for d in params["datasets"]:
        for stem in ("overview", "occluders", "figure3", "figure4", "figure5", "figure6"):
            path = Path(figures_dir) / f"{stem}-{d}.png"
            if not path.exists():
                raise ArtifactError(f"missing {path}; it is written by the {stem} stage (attr2img {stem})")
            figs.append(str(path.relative_to(out_md.parent) if path.is_relative_to(out_md.parent) else path))
    md = build(params, Path(tables_dir), Path(metrics_dir), figs, Path(params_path).read_text(), cards,
               Path(plots_dir), Path(data_dir), floor, oracle)
    with atomic_path(out_md) as tmp:
        tmp.write_text(md)
    with atomic_path(out_html) as tmp:
        tmp.write_text(to_html(md))


def add_arguments(p) -> None:
    for name, what in (("tables", "folder of table1/2 .md (the tables stage's output)"),
                       ("metrics", "folder of the Table 1 and 2 metrics"), ("figures", "folder of the figures"),
                       ("data", "folder of the processed datasets (their cards describe the data)"),
                       ("plots", "folder of the training curves (<dataset>/<model>.tsv), for the evidence"),
                       ("noise-floor", "the measured seed-to-seed noise floor (docs/noise_floor.json, written by "
                                       "benchmarks/noise_floor.py --write)"),
                       ("out", "output Markdown"), ("html", "output HTML")):
        p.add_argument(f"--{name}", required=True, help=what)
    p.add_argument("--oracle", help="what a perfect generator scores in Table 2 (docs/oracle_generator.json, written "
                                    "by benchmarks/oracle_generator.py --write); without it the Table 2 evidence "
                                    "has no such reading")


def main(args, params: dict) -> None:
    write_report(args.params, params, args.tables, args.metrics, args.figures, args.data, args.plots,
                 args.noise_floor, args.out, args.html, args.oracle)
    print(f"wrote {args.out} and {args.html}")
