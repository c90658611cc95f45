"""Stage ``train``: fit one model on one processed dataset.

Adam (lr, betas 0.9/0.999, eps 1e-8, coupled L2 weight decay), batches of ``batch_size``,
augmentation on the device, each step a CUDA graph on CUDA (``train.step``), a validation loss every epoch, and a DVC plots file with one row
per epoch. Checkpoints (model, optimizer, epoch, step and every RNG state) go to
``checkpoint_dir`` every ``checkpoint_every`` epochs; rerunning a killed stage resumes from
the last one, and on the CPU a resumed run ends with weights bit-identical to an
uninterrupted one. A checkpoint whose fingerprint (configs, dataset checksum) differs is
ignored. The final weights and the model card are written atomically; the checkpoint is
removed once they are.
"""

from __future__ import annotations

import hashlib
import json
import pickle
import subprocess
import time
from pathlib import Path

import torch
from tqdm import tqdm

import attr2img
from attr2img.atomic import atomic_path
from attr2img.data.loader import MODEL_SIZE, ProcessedDataset
from attr2img.device import autocast, configure_threads, resolve_device
from attr2img.errors import ModelError
from attr2img.models import build_model
from attr2img.models.config import ModelConfig
from attr2img.models.store import save_model
from attr2img.train import distributed
from attr2img.train.augment import AugmentConfig
from attr2img.train.step import TrainStep, make_optimizer


def model_config(model: str, dataset: str, params: dict, card: dict) -> ModelConfig:
    """The ModelConfig for ``model`` on ``dataset`` from params.yaml and the dataset card."""
    p, latent = params["model"], params["model"]["latent"][dataset]
    return ModelConfig(model=model, n_attributes=len(card["attribute_names"]),
                       attribute_kind=card["attribute_kind"], image_size=MODEL_SIZE,
                       width=p["width"], z_dim=latent["z"], zf_dim=latent["z_fg"], zb_dim=latent["z_bg"],
                       dropout=p["dropout"], recon_loss=p["recon_loss"], kl_weight=p["kl_weight"],
                       gate_weight=p["gate_weight"])


def git_revision() -> str:
    try:
        rev = subprocess.run(["git", "rev-parse", "HEAD"], capture_output=True, text=True, check=True).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"],
                               capture_output=True, text=True, check=True).stdout.strip()
        return rev + ("-dirty" if dirty else "")
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


def _rng_state(gen: torch.Generator, device: torch.device) -> dict:
    state = {"generator": gen.get_state(), "torch": torch.get_rng_state()}
    if device.type == "cuda":
        state["cuda"] = torch.cuda.get_rng_state(device)
    return state


def _set_rng_state(state: dict, gen: torch.Generator, device: torch.device) -> None:
    gen.set_state(state["generator"])
    torch.set_rng_state(state["torch"])
    if device.type == "cuda" and "cuda" in state:
        torch.cuda.set_rng_state(state["cuda"], device)


def _write_log(path: Path, rows: list[dict]) -> None:
    """The DVC plots file: tab-separated, one row per epoch."""
    cols = list(rows[0])
    with atomic_path(path) as tmp:
        tmp.write_text("\t".join(cols) + "\n" + "".join(
            "\t".join(f"{r[c]:.6g}" if isinstance(r[c], float) else str(r[c]) for c in cols) + "\n" for r in rows))


@torch.no_grad()
def evaluate(model, data: ProcessedDataset, batch_size: int, device, seed: int) -> dict:
    """Mean of every loss part over a split, with fixed noise (independent of the training RNG)."""
    model.eval()
    sums, n = {}, 0
    with torch.random.fork_rng(devices=[device] if device.type == "cuda" else []):
        torch.manual_seed(seed)
        for x, m, y in data.batches(batch_size, device=device):
            with autocast(device):
                loss, parts = model.loss(x, m, y)
            for k, v in {"loss": loss, **parts}.items():
                sums[k] = sums.get(k, 0.0) + float(v) * len(x)
            n += len(x)
    return {k: v / n for k, v in sums.items()}


def train(model_name: str, data_dir, out, params: dict, dataset: str, log_path, checkpoint_dir,
          device_pref: str | None = None, _stop_after_epoch: int | None = None) -> dict:
    """Train and write ``out`` (weights + card) and ``log_path``; returns the model card."""
    tp = params["train"]
    ranks = distributed.from_env()                     # several processes under torchrun
    distributed.check_batch(ranks, tp["batch_size"])
    device = distributed.setup(ranks, resolve_device(device_pref or tp["device"]))
    configure_threads(tp["threads"])
    train_set = ProcessedDataset(data_dir, "train")
    val_set = ProcessedDataset(data_dir, "val")
    cfg = model_config(model_name, dataset, params, train_set.card)
    aug = AugmentConfig(**tp["augment"][dataset])
    epochs = int(tp["epochs"][dataset][model_name])
    fingerprint = hashlib.sha256(json.dumps(
        [cfg.to_dict(), tp, train_set.card["checksum"], torch.__version__], sort_keys=True, default=str).encode()
    ).hexdigest()

    torch.manual_seed(tp["seed"])
    gen = torch.Generator().manual_seed(tp["seed"])       # shared by all ranks: shuffle, augmentation
    model = build_model(cfg).to(device).to(memory_format=torch.channels_last)
    loss_fn = distributed.wrap(model, ranks, device)      # DDP broadcasts rank 0's initial weights
    torch.manual_seed(tp["seed"] + ranks.rank)            # dropout and noise: one stream per rank
    opt = make_optimizer(model.parameters(), tp["lr"], tp["weight_decay"], device)
    start_epoch, step, rows, elapsed = 0, 0, [], 0.0

    ckpt_path = Path(checkpoint_dir) / "last.pt"
    if ckpt_path.exists():
        try:
            ckpt = torch.load(ckpt_path, map_location="cpu", weights_only=True)   # no arbitrary unpickling
        except pickle.UnpicklingError as exc:
            raise ModelError(f"refusing to load {ckpt_path}: it holds objects other than tensors and plain "
                             f"values ({str(exc).splitlines()[0]}); delete it to train from scratch") from None
        if ckpt.get("fingerprint") == fingerprint:
            model.load_state_dict(ckpt["model"])
            opt.load_state_dict(ckpt["optimizer"])
            start_epoch, step, rows, elapsed = ckpt["epoch"], ckpt["step"], ckpt["log"], ckpt["elapsed"]
            rngs = ckpt["rng"]
            _set_rng_state(rngs[ranks.rank] if len(rngs) == ranks.world else rngs[0], gen, device)
            tqdm.write(f"resuming {model_name} on {dataset} from {ckpt_path} (epoch {start_epoch}/{epochs})")
        else:
            tqdm.write(f"ignoring {ckpt_path}: it belongs to other parameters or data")

    # (a CUDA graph does not capture DDP's gradient all-reduce: distributed steps run eagerly)
    train_step = TrainStep(model, opt, aug, device, loss_fn=loss_fn, shard=(ranks.rank, ranks.world),
                           cuda_graph=tp["cuda_graph"] and not ranks.enabled)
    t0 = time.perf_counter() - elapsed
    steps_per_epoch = len(train_set) // tp["batch_size"]
    for epoch in range(start_epoch, epochs):
        model.train()
        sums = {}
        bar = tqdm(train_set.batches(tp["batch_size"], shuffle=True, generator=gen, device=device, drop_last=True,
                                     shard=(ranks.rank, ranks.world)),
                   total=steps_per_epoch, desc=f"{dataset}/{model_name} epoch {epoch + 1}/{epochs}",
                   leave=False, disable=None if ranks.main else True)
        for i, (x, m, y) in enumerate(bar):
            loss, parts = train_step(x, m, y, gen)
            step += 1
            for k, v in {"loss": loss, **parts}.items():      # summed on the device: no sync per step
                sums[k] = sums.get(k, 0.0) + v.detach().double()
            if i % 10 == 0 and ranks.main:
                bar.set_postfix(loss=f"{float(loss.detach()):.4g}")
        sums = distributed.mean_over_ranks(sums, ranks)
        row = {"epoch": epoch + 1, "step": step}
        row.update({f"train_{k}": float(v) / max(1, steps_per_epoch) for k, v in sums.items()})
        if ranks.main:
            val = evaluate(model, val_set, tp["batch_size"], device, seed=tp["seed"])
            row.update({f"val_{k}": v for k, v in val.items()})
            _write_log(Path(log_path), rows + [row])
            tqdm.write(f"{dataset}/{model_name} epoch {epoch + 1}/{epochs}: train loss {row['train_loss']:.4g}, "
                       f"val loss {row['val_loss']:.4g}")
        rows.append(row)
        rngs = distributed.gather(_rng_state(gen, device), ranks)
        if (epoch + 1) % tp["checkpoint_every"] == 0 and epoch + 1 < epochs and ranks.main:
            ckpt_path.parent.mkdir(parents=True, exist_ok=True)
            with atomic_path(ckpt_path) as tmp:
                torch.save({"fingerprint": fingerprint, "model": model.state_dict(), "optimizer": opt.state_dict(),
                            "epoch": epoch + 1, "step": step, "log": rows, "rng": rngs,
                            "elapsed": time.perf_counter() - t0}, tmp)
        distributed.barrier(ranks)
        if _stop_after_epoch is not None and epoch + 1 == _stop_after_epoch:
            raise KeyboardInterrupt(f"stopped after epoch {epoch + 1} (test hook)")

    card = {
        "model": model_name, "dataset": dataset, "attribute_names": train_set.attribute_names,
        "dataset_checksum": train_set.card["checksum"], "train_params": tp, "epochs": epochs, "steps": step,
        "final": rows[-1] if rows else {}, "device": str(device), "processes": ranks.world,
        "seconds": round(time.perf_counter() - t0, 1),
        "git_revision": git_revision(), "attr2img": attr2img.__version__, "torch": torch.__version__,
        "parameters": sum(p.numel() for p in model.parameters()),
    }
    if ranks.main:
        save_model(out, model, card)
        ckpt_path.unlink(missing_ok=True)
    distributed.barrier(ranks)
    distributed.teardown(ranks)
    return card
