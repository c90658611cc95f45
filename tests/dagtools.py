"""Read the DAG that each front-end would run, as comparable data.

A job is (command, inputs, outputs, params); stage names differ between the engines (DVC's
``prepare@synth-faces`` vs Snakemake's rule ``prepare`` with a wildcard) but commands,
inputs, outputs and the params.yaml keys each job reads must be identical. A params key is
dotted (``train.epochs.synth-faces.cvae``); ``*`` is the whole of params.yaml.
"""

from __future__ import annotations

import os
import contextlib
from pathlib import Path


@contextlib.contextmanager
def _cwd(path):
    old = os.getcwd()
    os.chdir(path)
    try:
        yield
    finally:
        os.chdir(old)


def _norm(paths) -> tuple:
    return tuple(sorted(os.path.normpath(str(p)).rstrip("/") for p in paths))


def dvc_jobs(root: str | Path) -> dict:
    """command -> (stage name, deps, outs, params keys) for every stage of dvc.yaml in ``root``."""
    from dvc.dependency.param import ParamsDependency
    from dvc.repo import Repo

    stages = []
    with Repo(str(root)) as repo:
        for stage in repo.index.stages:
            deps = [os.path.relpath(d.fs_path, root) for d in stage.deps if not isinstance(d, ParamsDependency)]
            outs = [os.path.relpath(o.fs_path, root) for o in stage.outs]
            keys = [k for d in stage.deps if isinstance(d, ParamsDependency) for k in (d.params or ["*"])]
            stages.append((stage.cmd.strip(), stage.name, _norm(deps), _norm(outs), tuple(sorted(keys))))
    # A dependency on a directory that holds other stages' outputs (e.g. the tables stage on
    # results/metrics/table1) stands for every output under it, which Snakemake lists one by one.
    all_outs = {o for *_, outs, _ in stages for o in outs}

    def expand(dep):
        under = {o for o in all_outs if o.startswith(dep + "/")}
        return under if under and dep not in all_outs else {dep}

    return {cmd: (name, _norm(set().union(*[expand(d) for d in deps])), outs, keys)
            for cmd, name, deps, outs, keys in stages}


def _snakemake_dag(root: Path, config: dict | None, cores: int) -> list:
    """The jobs Snakemake would run from scratch in ``root`` on ``cores`` cores (rule ``all`` left out)."""
    from snakemake.api import SnakemakeApi
    from snakemake.settings.types import ConfigSettings, DAGSettings, OutputSettings, ResourceSettings

    with _cwd(root), SnakemakeApi(OutputSettings(quiet={"all"})) as api:
        wf = api.workflow(resource_settings=ResourceSettings(cores=cores),
                          config_settings=ConfigSettings(config=config or {}),
                          snakefile=root / "Snakefile", workdir=root)
        # The DAG is built through Snakemake's internal workflow object (no public API returns
        # jobs); pyproject pins snakemake's major version for this reason.
        workflow = wf.dag(dag_settings=DAGSettings(forceall=True)).workflow_api._workflow
        workflow._prepare_dag(forceall=True, ignore_incomplete=True, lock_warn_only=True, nolock=True)
        workflow._build_dag()
        return [job for job in workflow.dag.jobs if job.shellcmd is not None]


def snakemake_jobs(root: str | Path, config: dict | None = None) -> dict:
    """command -> (rule name, inputs, outputs, params keys) for every job Snakemake would run from scratch."""
    jobs = {}
    for job in _snakemake_dag(Path(root).resolve(), config, cores=1):
        # Snakemake sends each stage's stderr to its log file (DVC shows it on the terminal)
        log = f" 2> {job.log[0]}" if job.log else ""
        cmd = job.shellcmd.strip()
        assert log and cmd.endswith(log), f"rule {job.rule.name} must end its command with '2> {{log[0]}}'"
        keys = tuple(sorted(name.format(**job.wildcards) for name in job.params._names))
        jobs[cmd[: -len(log)]] = (job.rule.name, _norm(job.input), _norm(job.output), keys)
    return jobs


def snakemake_resources(root: str | Path, cores: int) -> dict:
    """rule name -> [(threads, {mem_mb, runtime, gpu})] of its jobs when Snakemake has ``cores`` cores."""
    out = {}
    for job in _snakemake_dag(Path(root).resolve(), None, cores):
        out.setdefault(job.rule.name, []).append(
            (job.threads, {k: job.resources[k] for k in ("mem_mb", "runtime", "gpu")}))
    return out


def strip_names(jobs: dict) -> dict:
    return {cmd: rest for cmd, (_, *rest) in jobs.items()}
