"""dvc.yaml and the Snakefile describe the same DAG (commands, inputs, outputs and params keys),
and each stage's source deps are honest."""

import json
import os
import re
import shlex
import subprocess
import sys

import pytest
import yaml

from attr2img.cli import DAG_STAGES
from attr2img.sources import module_sources
from conftest import GENERATORS, MODELS, ROOT, make_workspace
from dagtools import dvc_jobs, snakemake_jobs, snakemake_resources, strip_names


@pytest.fixture(scope="module")
def default_dags():
    return dvc_jobs(ROOT), snakemake_jobs(ROOT)


def test_same_dag_on_default_params(default_dags):
    dvc, smk = default_dags
    assert dvc, "dvc.yaml has no stages"
    assert strip_names(dvc) == strip_names(smk)


def _cli_stage(cmd: str) -> str:
    """The CLI stage a dvc.yaml command runs: "attr2img train ..." -> "train"."""
    assert cmd.startswith("attr2img "), cmd
    return cmd.split()[1]


def test_every_stage_of_the_cli_is_in_the_dag(default_dags, default_params):
    dvc, _ = default_dags
    assert {_cli_stage(cmd) for cmd in dvc} == set(DAG_STAGES)
    # one job per dataset for the data and figure stages, per dataset and model for training
    n_data = len(default_params["datasets"])
    per_stage = {name.split("@")[0]: 0 for name, *_ in dvc.values()}
    for name, *_ in dvc.values():
        per_stage[name.split("@")[0]] += 1
    assert per_stage == {"fetch": n_data, "prepare": n_data, "overview": n_data, "occluders": n_data, "train": n_data * (len(GENERATORS) - 1), "train-discvae": n_data, "train-regressor": n_data,
                         "evaluate-recon": n_data * len(GENERATORS), "evaluate-attributes": n_data, "evaluate-edits": n_data, "tables": 1, "claims": 1,
                         "figure3": n_data, "figure4": n_data, "figure5": n_data, "figure6": n_data, "report": 1}


@pytest.mark.parametrize("datasets", [["synth-birds"], ["lfw", "cub"]])
def test_dag_follows_the_dataset_list(tmp_path, default_params, datasets):
    params = dict(default_params, datasets=datasets)
    ws = make_workspace(tmp_path / "ws", params)
    dvc, smk = dvc_jobs(ws), snakemake_jobs(ws)
    assert strip_names(dvc) == strip_names(smk)
    others = {"synth-faces", "synth-birds", "lfw", "cub"} - set(datasets)
    assert all(f"--dataset {d} " not in cmd for cmd in dvc for d in others)
    assert {f"attr2img fetch --params params.yaml --dataset {d} --out resources/{d}" for d in datasets} <= set(dvc)
    # Snakemake's documented override selects the same jobs as editing params.yaml
    ws_default = make_workspace(tmp_path / "ws2", default_params)
    assert strip_names(snakemake_jobs(ws_default, config={"datasets": datasets})) == strip_names(dvc)


def test_the_readme_command_reruns_one_datasets_fetch_alone(tmp_path, default_params):
    readme = " ".join((ROOT / "README.md").read_text().split())
    cmd = re.search(r"`(snakemake resources/lfw/fetched.json [^`]*)`", readme).group(1)
    ws = make_workspace(tmp_path / "ws", default_params)
    for d in ("lfw", "cub"):                          # as if both had been fetched before
        (ws / "resources" / d).mkdir(parents=True)
        (ws / "resources" / d / "fetched.json").write_text("{}")
    env = dict(os.environ, PATH=f"{os.path.dirname(sys.executable)}{os.pathsep}{os.environ['PATH']}")
    out = subprocess.run([sys.executable, "-m", *shlex.split(cmd), "-n"], cwd=ws, env=env, capture_output=True,
                         text=True)
    assert out.returncode == 0, out.stderr[-2000:]
    jobs = [line.split()[1] for line in out.stdout.split("Job stats:")[1].split("total")[0].splitlines()
            if len(line.split()) == 2 and line.split()[1].isdigit()]
    assert "fetch" in out.stdout and jobs == ["1"], out.stdout
    assert "resources/lfw/fetched.json" in out.stdout and "resources/cub/fetched.json" not in out.stdout


def test_snakemake_lint_finds_only_the_documented_conda_lint():
    out = subprocess.run([sys.executable, "-m", "snakemake", "--lint", "-d", str(ROOT), "-s", str(ROOT / "Snakefile")],
                         capture_output=True, text=True, cwd=ROOT)
    text = out.stdout + out.stderr
    lints = [line.strip() for line in text.splitlines() if line.strip().startswith("* ")]
    rules = [line for line in text.splitlines() if line.startswith("Lints for rule ")]
    assert rules and len(lints) == len(rules), text[-3000:]
    assert all(lint.startswith("* Specify a conda environment or container for each rule") for lint in lints), lints


def test_a_stage_in_one_front_end_only_is_detected(tmp_path, default_params):
    ws = make_workspace(tmp_path / "ws", default_params)
    dvc_yaml = yaml.safe_load((ws / "dvc.yaml").read_text())
    dvc_yaml["stages"]["extra"] = {"cmd": "attr2img check-params --params params.yaml", "deps": ["params.yaml"]}
    (ws / "dvc.yaml").write_text(yaml.safe_dump(dvc_yaml))
    assert strip_names(dvc_jobs(ws)) != strip_names(snakemake_jobs(ws))


def test_a_changed_dependency_in_one_front_end_is_detected(tmp_path, default_params):
    ws = make_workspace(tmp_path / "ws", default_params)
    dvc = ws / "dvc.yaml"
    dvc.write_text(dvc.read_text().replace("        - src/attr2img/figures/figure5.py\n", "", 1))
    assert strip_names(dvc_jobs(ws)) != strip_names(snakemake_jobs(ws))


def test_a_params_key_in_one_front_end_only_is_detected(tmp_path, default_params):
    ws = make_workspace(tmp_path / "ws", default_params)
    smk = ws / "workflow" / "rules" / "train.smk"
    smk.write_text(smk.read_text().replace('"train.lr", ', ""))
    dvc, snake = dvc_jobs(ws), snakemake_jobs(ws)
    cmd = next(c for c, (name, *_) in dvc.items() if name.startswith("train@"))
    assert "train.lr" in dvc[cmd][3] and "train.lr" not in snake[cmd][3]
    assert strip_names(dvc) != strip_names(snake)


def test_the_model_matrices_are_the_catalog(default_dags):
    stages = yaml.safe_load((ROOT / "dvc.yaml").read_text())["stages"]
    # the disCVAE: train-discvae; the regressor: train-regressor
    assert tuple(stages["train"]["matrix"]["model"]) + ("discvae",) == GENERATORS
    assert "--model discvae" in stages["train-discvae"]["do"]["cmd"]
    assert set(MODELS) - set(GENERATORS) == {"regressor"} and "--model regressor" in stages["train-regressor"]["do"]["cmd"]
    assert tuple(stages["evaluate-recon"]["matrix"]["model"]) == GENERATORS


def _loaded_sources(module: str) -> set:
    """The package files Python really runs when it imports ``module`` alone."""
    code = ("import importlib, json, sys; importlib.import_module(%r); "
            "print(json.dumps([m.__file__ for n, m in sys.modules.items() if n.split('.')[0] == 'attr2img']))"
            % module)
    out = subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, text=True).stdout
    return {os.path.relpath(f, ROOT) for f in json.loads(out)}


@pytest.mark.parametrize("stage", sorted(DAG_STAGES))
def test_source_deps_are_exactly_what_the_stage_imports(stage, default_dags):
    dvc, _ = default_dags
    wanted = set(module_sources(DAG_STAGES[stage], ROOT / "src"))
    wanted = {os.path.relpath(f, ROOT) for f in wanted}
    # the static reading finds at least every file that the import really runs (lazy imports too)
    assert _loaded_sources(DAG_STAGES[stage]) <= wanted
    # and the front door is no stage's dependency: editing the CLI or the schema reruns nothing
    assert not wanted & {"src/attr2img/cli.py", "src/attr2img/params.py", "src/attr2img/schemas/params.schema.yaml"}
    for cmd, (name, deps, *_) in dvc.items():
        if _cli_stage(cmd) == stage:
            src_deps = {d for d in deps if d.startswith("src/")}
            assert src_deps == wanted, f"{name}: missing {wanted - src_deps}, stale {src_deps - wanted}"


def test_the_static_reading_follows_lazy_and_package_imports(tmp_path):
    pkg = tmp_path / "attr2img"
    (pkg / "sub").mkdir(parents=True)
    (pkg / "__init__.py").write_text("")
    (pkg / "sub" / "__init__.py").write_text("")
    (pkg / "a.py").write_text("from attr2img.sub import b\n\ndef f():\n    import attr2img.c\n")
    (pkg / "sub" / "b.py").write_text("from attr2img.d import NAME\n")
    for name in ("c", "d", "unused"):
        (pkg / f"{name}.py").write_text("NAME = 1\n")
    got = {os.path.relpath(f, tmp_path) for f in module_sources("attr2img.a", tmp_path)}
    assert got == {"attr2img/__init__.py", "attr2img/a.py", "attr2img/sub/__init__.py", "attr2img/sub/b.py",
                   "attr2img/c.py", "attr2img/d.py"}


@pytest.mark.parametrize("profile", ["params.yaml", "workflow/params/paper.yaml", "workflow/params/paper-real.yaml"])
def test_rules_ask_for_the_resources_of_their_kind(tmp_path, profile):
    params = yaml.safe_load((ROOT / profile).read_text())
    ws = make_workspace(tmp_path / "ws", params)
    kind = {"train": "train", "train_discvae": "train", "train_regressor": "train", "evaluate_recon": "inference", "evaluate_attributes": "inference",
            "evaluate_edits": "inference"}
    for cores in (64, 2):
        jobs = snakemake_resources(ws, cores)
        assert set(jobs) >= {"prepare", "train", "evaluate_recon", "figure6", "report"}
        for rule, asks in jobs.items():
            r = params["resources"][kind.get(rule, "default")]
            want = (min(r["threads"], cores), {k: r[k] for k in ("mem_mb", "runtime", "gpu")})
            assert all(a == want for a in asks), (rule, asks, want)


def test_the_judge_depends_on_no_key_of_the_generators_recipe(default_dags, default_params):
    """The regressor reads its own recipe (params.yaml ``regressor``) in place of the generators':
    a key that it does not read must not be its stage's dependency (changing the generators'
    batch size retrained both judges for nothing), and every such key is truly unread."""
    import copy

    from attr2img.train.loop import recipe

    dvc, _ = default_dags
    judge_keys = {keys for cmd, (name, _, _, keys) in dvc.items() if name.startswith("train-regressor@")}
    assert judge_keys, "no train-regressor stage"
    replaced = {("train", "lr"): 0.123, ("train", "lr_schedule"): "cosine", ("train", "weight_decay"): 0.5,
                ("train", "kl_warmup"): 0.5,
                ("train", "batch_size"): 7, ("model", "width"): 3.0, ("model", "dropout"): 0.9}
    for (section, key), value in replaced.items():
        assert all(f"{section}.{key}" not in keys for keys in judge_keys), f"{section}.{key}"
        changed = copy.deepcopy(default_params)
        changed[section][key] = value
        assert recipe(changed, "regressor") == recipe(default_params, "regressor"), f"{section}.{key} is read"
    # and what the judge does read is a dependency: its own section
    assert all("regressor" in keys for keys in judge_keys)


def test_each_generator_depends_on_the_model_keys_it_reads_and_no_other(default_dags, default_params):
    """A generator's train stage lists exactly the ``model`` keys of the fields its model reads
    (READS: the VAE no gate, the disCVAE no single z), and its model card keeps exactly those
    fields, so a key that the model does not read neither retrains it nor changes its card."""
    from attr2img.models.config import READS, SHARED, ModelConfig

    dvc, smk = default_dags
    params_key = {"width": "model.width", "dropout": "model.dropout"}
    for cmd, (name, _, _, keys) in dvc.items():
        if not name.startswith("train"):
            continue
        model, dataset = cmd.split("--model ")[1].split()[0], cmd.split("--dataset ")[1].split()[0]
        if model == "regressor":
            assert not any(k.startswith("model.") for k in keys), keys      # its own section: `regressor`
            continue
        want = set(params_key.values()) | {f"model.{k}".replace("latent.", f"latent.{dataset}.") for k in READS[model]}
        assert {k for k in keys if k.startswith("model.")} == want, (name, sorted(keys))
        assert smk[cmd][3] == keys                                    # the Snakefile's rule alike
        cfg = ModelConfig.from_params(default_params["model"], model=model, dataset=dataset,
                                      attribute_names=["a", "b"], attribute_kind="continuous", image_size=64)
        card = cfg.to_dict()
        fields = set(SHARED) | {k.split(".")[0] for k in READS[model]}
        assert set(card) == fields, (model, sorted(card))
        latent = {k.split(".")[1] for k in READS[model] if k.startswith("latent.")}
        assert set(card["latent"]) == latent
        assert ModelConfig.from_dict(card).to_dict() == card
