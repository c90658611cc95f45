"""The README's quick start is what CI runs, and the documented commands exist."""

import re

import yaml

from attr2img.cli import DAG_STAGES, build_parser
from conftest import ROOT


def quick_start() -> list[str]:
    text = (ROOT / "README.md").read_text()
    section = text.split("## Quick start", 1)[1]
    block = re.search(r"```bash\n(.*?)```", section, re.S).group(1)
    return [line for line in block.splitlines() if line.strip()]


def test_quick_start_is_two_commands_and_ci_runs_them_verbatim():
    commands = quick_start()
    assert len(commands) == 2
    ci = (ROOT / ".ci/run").read_text().splitlines()
    for cmd in commands:
        assert cmd in ci, f"README command not in .ci/run: {cmd}"
    assert "pytest" in commands[1] and "dvc repro" in commands[0]


def test_readme_stage_commands_parse():
    text = (ROOT / "README.md").read_text()
    parser = build_parser()
    lines = [l.strip() for l in text.splitlines() if l.strip().startswith("attr2img ") and "--help" not in l]
    assert lines
    for line in lines:
        args = parser.parse_args(line.split()[1:])     # an unknown stage or option exits here
        assert callable(args.func)
    documented = {line.split()[1] for line in lines}
    assert {"prepare", "overview", "train", "check-params", "sample", "reconstruct", "complete", "edit", "serve"} <= documented
    assert documented - {"check-params", "sample", "reconstruct", "complete", "fetch", "edit", "serve"} <= set(DAG_STAGES)


def test_readme_docs_and_report_quote_the_measured_noise_floor():
    """The thresholds the README gives for a meaningful `dvc metrics diff` are those of the
    measured noise floor (docs/noise_floor.json, which benchmarks/noise_floor.py --write saves),
    docs/benchmarks.md's noise-floor section gives the same, and the report's note is rendered
    from the same file."""
    import json

    from attr2img.report import noise_note
    floor = json.loads((ROOT / "docs" / "noise_floor.json").read_text())
    thresholds = [floor["table1"]["threshold"], floor["table2_generator_cosine"]["threshold"]]
    readme = (ROOT / "README.md").read_text()
    bench = (ROOT / "docs" / "benchmarks.md").read_text()
    section = bench[bench.index("## Seed-to-seed noise floor"):]
    section = section[:section.index("\n## ", 3)]
    assert "Measured" in section and re.search(r"noise_floor\.py \S+ \S+ --write docs/noise_floor\.json", section)
    quoted = re.findall(r"\*\*([0-9.]+)\*\*", readme[readme.index("three training seeds"):][:400])
    assert [float(q) for q in quoted[:2]] == thresholds, "the README's thresholds are not docs/noise_floor.json's"
    for value in quoted[:2]:
        assert f"**{value}**" in section, f"README's {value} is not in docs/benchmarks.md's noise-floor section"
    n_same, n_claims = floor["verdicts"]["same_in_every_run"], floor["verdicts"]["claims"]
    assert f"{n_same} of the {n_claims} verdicts" in readme
    note = noise_note(floor, yaml.safe_load((ROOT / "params.yaml").read_text())["datasets"])
    assert "Seed-to-seed noise floor" in note
    report = (ROOT / "results" / "report.md").read_text()
    assert note in report, "results/report.md's noise note is not docs/noise_floor.json's: rerun the report stage"


def test_readme_and_fidelity_quote_the_committed_ledger():
    """The claim counts the README's status and docs/fidelity.md give are the committed run's
    (results/metrics/claims.json as committed), so a regenerated run cannot leave them stale. The
    committed file, not the working copy's: a `dvc repro` on another CPU rewrites the working copy
    with a ledger of its own (docs/benchmarks.md, "Across CPUs, measured"), as CI's does."""
    import json
    import subprocess

    import pytest

    shown = subprocess.run(["git", "show", "HEAD:results/metrics/claims.json"], cwd=ROOT, capture_output=True,
                           text=True)
    if shown.returncode != 0:
        pytest.skip(f"not a git checkout with a committed ledger: {shown.stderr.strip()}")
    s = json.loads(shown.stdout)["summary"]
    total = s["holds"] + s["fails"] + s["inconclusive"]
    readme = " ".join((ROOT / "README.md").read_text().split())
    fidelity = " ".join((ROOT / "docs" / "fidelity.md").read_text().split())
    assert (f"{s['holds']} of its {total} claims hold, {s['fails']} fail and {s['inconclusive']} are "
            f"inconclusive") in readme
    assert (f"**{s['holds']} hold, {s['fails']} fail, {s['inconclusive']} inconclusive** ({total} claims)"
            in fidelity)
