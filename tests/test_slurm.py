"""Snakemake on a real Slurm: a single-node cluster started on this machine (munged, slurmctld
and slurmd on loopback, no accounting database) runs the tiny profile with `--executor slurm`
and the project's Slurm workflow profile. Skips, with the reason, where Slurm cannot run
(not installed, not root, daemons that do not come up)."""

import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml

from conftest import MODELS, ROOT, make_workspace, tiny

pytestmark = pytest.mark.slow
SBIN = ("/usr/sbin", "/usr/local/sbin")
NEEDED = ("munged", "slurmctld", "slurmd", "sbatch", "srun", "squeue", "sinfo", "scontrol")


def _which(exe):
    return shutil.which(exe) or next((str(Path(d, exe)) for d in SBIN if Path(d, exe).exists()), None)


def _why_not() -> str | None:
    if sys.platform != "linux":
        return "Slurm runs on Linux only"
    if os.geteuid() != 0:
        return "slurmd must run as root to start jobs"
    missing = [exe for exe in NEEDED if not _which(exe)]
    if missing:
        return f"{', '.join(missing)} not installed (Debian: apt-get install slurm-wlm munge)"
    try:
        import snakemake_executor_plugin_slurm  # noqa: F401
    except ImportError:
        return "snakemake-executor-plugin-slurm is not installed"
    return None


def _free_ports(n):
    socks = [socket.socket() for _ in range(n)]
    for s in socks:
        s.bind(("127.0.0.1", 0))
    ports = [s.getsockname()[1] for s in socks]
    for s in socks:
        s.close()
    return ports


def _slurm_conf(root: Path, host: str) -> str:
    ctld, slurmd = _free_ports(2)
    mem_mb = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") // 2**20 - 1024
    return "\n".join([
        "ClusterName=attr2imgtest",
        f"SlurmctldHost={host}(127.0.0.1)",
        f"SlurmctldPort={ctld}",
        f"SlurmdPort={slurmd}",
        "AuthType=auth/munge",
        "CredType=cred/munge",
        f"AuthInfo=socket={root}/munge/munge.sock",
        "SlurmUser=root",
        "SlurmdUser=root",
        f"StateSaveLocation={root}/state",
        f"SlurmdSpoolDir={root}/spool",
        f"SlurmctldPidFile={root}/slurmctld.pid",
        f"SlurmdPidFile={root}/slurmd.pid",
        f"SlurmctldLogFile={root}/slurmctld.log",
        f"SlurmdLogFile={root}/slurmd.log",
        "SlurmctldDebug=info",
        "ProctrackType=proctrack/linuxproc",
        "TaskPlugin=task/none",
        "MpiDefault=none",
        "SelectType=select/cons_tres",
        "SelectTypeParameters=CR_CPU_Memory",
        "JobAcctGatherType=jobacct_gather/none",
        "AccountingStorageType=accounting_storage/none",
        "ReturnToService=2",
        "MinJobAge=600",            # finished jobs stay visible to squeue, which the plugin polls
        f"NodeName={host} NodeAddr=127.0.0.1 CPUs={os.cpu_count()} RealMemory={mem_mb} State=UNKNOWN",
        "PartitionName=debug Nodes=ALL Default=YES MaxTime=INFINITE State=UP",
    ]) + "\n"


@pytest.fixture(scope="module")
def slurm(tmp_path_factory):
    reason = _why_not()
    if reason:
        pytest.skip(reason)
    root = tmp_path_factory.mktemp("slurm")
    for d in ("munge", "state", "spool"):
        (root / d).mkdir()
    (root / "munge").chmod(0o700)
    key = root / "munge" / "munge.key"
    key.write_bytes(os.urandom(1024))
    key.chmod(0o600)
    host = socket.gethostname()
    conf = root / "slurm.conf"
    conf.write_text(_slurm_conf(root, host))
    # The config lives here, not at Slurm's default path (which the test leaves alone), and is
    # found through SLURM_CONF. The plugin's job step strips every SLURM_* variable before its
    # nested `srun`, so an `srun` first on PATH puts SLURM_CONF back for it.
    wrappers = root / "bin"
    wrappers.mkdir()
    (wrappers / "srun").write_text(f'#!/bin/sh\nexport SLURM_CONF="{conf}"\nexec "{_which("srun")}" "$@"\n')
    (wrappers / "srun").chmod(0o755)
    env = dict(os.environ, SLURM_CONF=str(conf),
               PATH=os.pathsep.join([str(wrappers), str(Path(sys.executable).parent), *SBIN, os.environ["PATH"]]))
    m = root / "munge"
    daemons = [subprocess.Popen([_which("munged"), "--foreground", "--force", f"--socket={m}/munge.sock",
                                 f"--key-file={key}", f"--log-file={m}/munged.log", f"--pid-file={m}/munged.pid",
                                 f"--seed-file={m}/seed"], env=env,
                                stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)]
    time.sleep(1)
    daemons.append(subprocess.Popen([_which("slurmctld"), "-D", "-c", "-f", str(conf)], env=env,
                                    stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT))
    daemons.append(subprocess.Popen([_which("slurmd"), "-D", "-f", str(conf), "-N", host], env=env,
                                    stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT))
    try:
        state = ""
        for _ in range(60):
            res = subprocess.run(["sinfo", "-h", "-o", "%t"], env=env, capture_output=True, text=True)
            state = res.stdout.strip()
            if state == "idle":
                break
            time.sleep(0.5)
        else:
            logs = "".join(p.read_text()[-1500:] for p in (root / "slurmctld.log", root / "slurmd.log") if p.exists())
            pytest.skip(f"the single-node Slurm did not come up (sinfo: {state!r} {res.stderr.strip()!r}):\n{logs}")
        yield env, root
    finally:
        for p in reversed(daemons):
            p.send_signal(signal.SIGTERM)
        for p in daemons:
            try:
                p.wait(timeout=20)
            except subprocess.TimeoutExpired:
                p.kill()


@pytest.fixture(scope="module")
def slurm_run(slurm, tmp_path_factory):
    env, root = slurm
    params = tiny(yaml.safe_load((ROOT / "params.yaml").read_text()))
    params["train"]["device"] = "cpu"
    params["datasets"] = ["synth-faces"]        # the whole DAG of one dataset, to keep the test short
    ws = make_workspace(tmp_path_factory.mktemp("ws"), params)
    cmd = [sys.executable, "-m", "snakemake", "--workflow-profile", "workflow/profiles/slurm", "--jobs", "4",
           "--slurm-no-account", "--slurm-status-command", "squeue",
           "--slurm-init-seconds-before-status-checks", "2", "--default-resources", "slurm_partition=debug",
           "--latency-wait", "5", "--retries", "0", "--slurm-keep-successful-logs"]
    res = subprocess.run(cmd, cwd=ws, env=env, capture_output=True, text=True, timeout=1500)
    log = res.stdout + res.stderr
    assert res.returncode == 0, f"snakemake --executor slurm failed:\n{log[-6000:]}"
    return params, ws, log, root


def test_the_tiny_profile_completes_through_slurm(slurm_run):
    params, ws, log, _ = slurm_run
    for d in params["datasets"]:
        for m in MODELS:
            assert (ws / "models" / d / m / "model.safetensors").exists()
        assert (ws / "results/figures" / f"figure6-{d}.png").exists()
    for f in ("results/tables/table1.md", "results/tables/table2.md", "results/report.md"):
        assert (ws / f).stat().st_size > 0, f


def test_every_job_went_through_slurm(slurm_run, slurm):
    env, _ = slurm
    _, ws, log, root = slurm_run

    submitted = set(re.findall(r"submitted with SLURM jobid (\d+)", log))
    n_jobs = int(re.search(r"total\s+(\d+)", log).group(1)) - 1          # all but the target rule `all`
    assert len(submitted) == n_jobs, log[-3000:]
    out = subprocess.run(["scontrol", "-o", "show", "job"], env=env, capture_output=True, text=True).stdout
    state = dict(re.findall(r"JobId=(\d+) .*?JobState=(\w+)", out))
    assert {j: state.get(j) for j in submitted} == {j: "COMPLETED" for j in submitted}, out[-3000:]
    job_logs = list((ws / ".snakemake" / "slurm_logs").rglob("*.log"))
    assert {p.stem for p in job_logs} >= submitted, "a Slurm log per job, named by its job id"
    # each stage's own log, per the rules' log directive
    assert (ws / "logs/train/synth-faces/discvae.log").exists()


def test_jobs_asked_for_the_params_resources(slurm_run, slurm):
    env, _ = slurm
    params, ws, log, root = slurm_run

    jobids = re.findall(r"rule train.*?\n.*?submitted with SLURM jobid (\d+)", log, flags=re.S)
    assert jobids
    out = subprocess.run(["scontrol", "show", "job", jobids[0]], env=env, capture_output=True, text=True).stdout
    r = params["resources"]["train"]
    assert f"MinMemoryNode={r['mem_mb']}M" in out and f"TimeLimit=00:{r['runtime']:02d}:00" in out, out
    assert f"NumCPUs={r['threads']}" in out or f"cpus-per-task={r['threads']}" in out.lower(), out
