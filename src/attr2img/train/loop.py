"""Stage ``train``: fit one model on one processed dataset.

Adam (lr on a ``lr_schedule``, betas 0.9/0.999, eps 1e-8, coupled L2 weight decay), batches of ``batch_size``,
augmentation on the device, each step a CUDA graph on CUDA (``train.step``), a validation
loss every epoch, and a DVC plots file with one row per epoch. Every ``checkpoint_every``
epochs the state goes to a :class:`~attr2img.train.checkpoint.Checkpoint`; rerunning a
killed stage resumes from it, and on the CPU a resumed run ends with weights bit-identical to
an uninterrupted one. The weights and the model card (deterministic: no times, hosts or
revisions) are written atomically, the checkpoint is removed, and the run record (seconds,
device, git revision, host) goes beside the outputs. Before the weights are written, every
batch norm's running statistics are recomputed over the training images
(``recalibrate_batchnorm``), and the card's ``final`` gives the validation losses after it.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Callable, Sequence

import torch
from tqdm import tqdm

from attr2img.atomic import atomic_path
from attr2img.catalog import MODELS
from attr2img.config import from_mapping, to_mapping
from attr2img.data.loader import MODEL_SIZE, ProcessedDataset
from attr2img.device import add_device_argument, autocast, configure_threads, resolve_device
from attr2img.errors import UsageError
from attr2img.models import build_model
from attr2img.models.config import ModelConfig
from attr2img.models.store import model_card, save_model, write_run_record
from attr2img.sources import code_hash
from attr2img.train import distributed
from attr2img.train.augment import AugmentConfig
from attr2img.train.checkpoint import Checkpoint, fingerprint, rng_state, set_rng_state
from attr2img.train.config import TrainConfig
from attr2img.train.step import TrainStep, kl_scale, make_optimizer, scheduled_lr, set_kl_scale, set_lr

EpochCallback = Callable[[int, dict], None]     # (epochs done, that epoch's log row), after its checkpoint


def _write_log(path: Path, rows: list[dict]) -> None:
    """The DVC plots file: tab-separated, one row per epoch."""
    cols = list(rows[0])
    with atomic_path(path) as tmp:
        tmp.write_text("\t".join(cols) + "\n" + "".join(
            "\t".join(f"{r[c]:.6g}" if isinstance(r[c], float) else str(r[c]) for c in cols) + "\n" for r in rows))


@torch.no_grad()
def evaluate(model, data: ProcessedDataset, batch_size: int, device, seed: int, cpu_precision: str = "fp32") -> dict:
    """Mean of every loss part over a split, with fixed noise (independent of the training RNG)."""
    model.eval()
    sums, n = {}, 0
    with torch.random.fork_rng(devices=[device] if device.type == "cuda" else []):
        torch.manual_seed(seed)
        for x, m, y in data.batches(batch_size, device=device):
            with autocast(device, cpu_precision):
                loss, parts = model.loss(x, m, y)
            for k, v in {"loss": loss, **parts}.items():
                sums[k] = sums.get(k, 0.0) + float(v) * len(x)
            n += len(x)
    return {k: v / n for k, v in sums.items()}


@torch.no_grad()
def recalibrate_batchnorm(model, data: ProcessedDataset, batch_size: int, device, seed: int,
                          cpu_precision: str = "fp32") -> int:
    """Replace every batch norm's running statistics by their exact average over ``data`` (the
    training images, not augmented) under the final weights; returns the layers recalibrated.

    During training the running averages (momentum 0.1) trail weights that keep moving, and in
    evaluation mode the models use them: on the disCVAE, whose gate loss reacts most, this left
    the validation loss of the final weights at up to 2.9 times its value with batch statistics
    (synth-faces: 2,679 against 920 after recalibration; docs/fidelity.md). One forward pass
    over the split in training mode with a cumulative average (momentum None) fixes them, as
    ``torch.optim.swa_utils.update_bn`` does; the weights are untouched. Every model gets it."""
    layers = [m for m in model.modules() if isinstance(m, torch.nn.modules.batchnorm._BatchNorm)]
    if not layers:
        return 0
    momenta = [bn.momentum for bn in layers]
    for bn in layers:
        bn.reset_running_stats()
        bn.momentum = None
    model.train()
    with torch.random.fork_rng(devices=[device] if device.type == "cuda" else []):
        torch.manual_seed(seed)                          # the posterior samples of the pass
        for x, m, y in data.batches(batch_size, device=device):
            with autocast(device, cpu_precision):
                model.loss(x, m, y)           # batches come channels-last
    for bn, momentum in zip(layers, momenta):
        bn.momentum = momentum
    model.eval()
    return len(layers)


def recipe(params: dict, model_name: str) -> tuple[dict, dict]:
    """The ``train`` and ``model`` sections a model trains with: the generators' as written, the
    regressor's with params.yaml's ``regressor`` section in place of the optimiser's, batch's,
    network's and augmentation's keys (it is the judge of Table 2, not a model under comparison,
    so it has a recipe of its own, ``cpu_precision`` included), and no KL warm-up (it has no KL term)."""
    train, model = params["train"], params["model"]
    if model_name != "regressor":
        return train, model
    r = params["regressor"]
    train = {**train, **{k: r[k] for k in ("lr", "lr_schedule", "weight_decay", "batch_size", "cpu_precision")},
             "kl_warmup": 0.0,
             "augment": {d: r["augment"] for d in train["augment"]}}
    model = {"width": r["width"], "dropout": r["dropout"], "networks": r["networks"]}
    return train, model


def train(model_name: str, data_dir, out, params: dict, dataset: str, log_path, checkpoint_dir,
          device_pref: str | None = None, run_record=None, callbacks: Sequence[EpochCallback] = ()) -> dict:
    """Train and write ``out`` (weights + card), ``log_path`` and ``run_record``; returns the card."""
    # -- the run: processes, device, data, configs ----------------------------------------------
    train_section, model_section = recipe(params, model_name)
    tc = from_mapping(TrainConfig, train_section)
    ranks = distributed.from_env()                     # several processes under torchrun
    distributed.check_batch(ranks, tc.batch_size)
    device = distributed.setup(ranks, resolve_device(device_pref or tc.device))
    configure_threads(tc.threads)
    train_set, val_set = ProcessedDataset(data_dir, "train"), ProcessedDataset(data_dir, "val")
    cfg = ModelConfig.from_params(model_section, model=model_name, dataset=dataset,
                                  attribute_names=train_set.attribute_names,
                                  attribute_kind=train_set.attribute_kind, image_size=MODEL_SIZE)
    aug = from_mapping(AugmentConfig, tc.augment[dataset])
    epochs = int(tc.epochs[dataset][model_name])
    if len(train_set) < tc.batch_size:                 # every batch is full: no step would run
        key = "regressor.batch_size" if model_name == "regressor" else "train.batch_size"
        raise UsageError(f"{model_name} on {dataset}: batch size {tc.batch_size} ({key}) is larger than the "
                         f"{len(train_set)} training images, so no training step would run")
    run_params = {**to_mapping(tc), "epochs": epochs, "augment": to_mapping(aug)}     # this run's keys only
    # the code is part of the run: a checkpoint made by other sources is not resumed
    ckpt = Checkpoint(checkpoint_dir, fingerprint(cfg.to_dict(), run_params, train_set.card["checksum"],
                                                  torch.__version__, code_hash(__name__)))

    # -- model, optimizer, random streams ------------------------------------------------------
    torch.manual_seed(tc.seed)
    gen = torch.Generator().manual_seed(tc.seed)       # shared by all ranks: shuffle, augmentation
    model = build_model(cfg).to(device).to(memory_format=torch.channels_last)
    loss_fn = distributed.wrap(model, ranks, device)   # DDP broadcasts rank 0's initial weights
    torch.manual_seed(tc.seed + ranks.rank)            # dropout and noise: one stream per rank
    opt = make_optimizer(model.parameters(), tc.lr, tc.weight_decay, device)
    start_epoch, step, rows, elapsed = 0, 0, [], 0.0

    # -- resume --------------------------------------------------------------------------------
    state = ckpt.load()
    if state is not None:
        model.load_state_dict(state["model"])
        opt.load_state_dict(state["optimizer"])
        start_epoch, step, rows, elapsed = state["epoch"], state["step"], state["log"], state["elapsed"]
        rngs = state["rng"]
        set_rng_state(rngs[ranks.rank] if len(rngs) == ranks.world else rngs[0], gen, device)
        tqdm.write(f"resuming {model_name} on {dataset} from {ckpt.path} (epoch {start_epoch}/{epochs})")

    # -- the epochs ----------------------------------------------------------------------------
    # (a CUDA graph does not capture DDP's gradient all-reduce: distributed steps run eagerly)
    train_step = TrainStep(model, opt, aug, device, loss_fn=loss_fn, shard=(ranks.rank, ranks.world),
                           cuda_graph=tc.cuda_graph and not ranks.enabled, cpu_precision=tc.cpu_precision)
    t0 = time.perf_counter() - elapsed
    steps_per_epoch = len(train_set) // tc.batch_size
    for epoch in range(start_epoch, epochs):
        model.train()
        sums = {}
        bar = tqdm(train_set.batches(tc.batch_size, shuffle=True, generator=gen, device=device, drop_last=True,
                                     shard=(ranks.rank, ranks.world)),
                   total=steps_per_epoch, desc=f"{dataset}/{model_name} epoch {epoch + 1}/{epochs}",
                   leave=False, disable=None if ranks.main else True)
        for i, (x, m, y) in enumerate(bar):
            set_lr(opt, scheduled_lr(tc.lr, tc.lr_schedule, step, epochs * steps_per_epoch))
            set_kl_scale(model, kl_scale(tc.kl_warmup, step, epochs * steps_per_epoch))
            loss, parts = train_step(x, m, y, gen)
            step += 1
            for k, v in {"loss": loss, **parts}.items():      # summed on the device: no sync per step
                sums[k] = sums.get(k, 0.0) + v.detach().double()
            if i % 10 == 0 and ranks.main:
                bar.set_postfix(loss=f"{float(loss.detach()):.4g}")
        sums = distributed.mean_over_ranks(sums, ranks)
        set_kl_scale(model, 1.0)                       # validation losses are the full ELBO
        row = {"epoch": epoch + 1, "step": step}
        row.update({f"train_{k}": float(v) / max(1, steps_per_epoch) for k, v in sums.items()})
        if ranks.main:
            row.update({f"val_{k}": v for k, v in
                        evaluate(model, val_set, tc.batch_size, device, tc.seed, tc.cpu_precision).items()})
            _write_log(Path(log_path), rows + [row])
            tqdm.write(f"{dataset}/{model_name} epoch {epoch + 1}/{epochs}: train loss {row['train_loss']:.4g}, "
                       f"val loss {row['val_loss']:.4g}")
        rows.append(row)
        rngs = distributed.gather(rng_state(gen, device), ranks)
        if (epoch + 1) % tc.checkpoint_every == 0 and epoch + 1 < epochs and ranks.main:
            ckpt.save(model=model.state_dict(), optimizer=opt.state_dict(), epoch=epoch + 1, step=step, log=rows,
                      rng=rngs, elapsed=time.perf_counter() - t0)
        distributed.barrier(ranks)
        for callback in callbacks:
            callback(epoch + 1, row)

    # -- outputs -------------------------------------------------------------------------------
    final = dict(rows[-1]) if rows else {}
    if ranks.main and recalibrate_batchnorm(model, train_set, tc.batch_size, device, tc.seed, tc.cpu_precision):
        # the card describes the saved weights: their validation losses after recalibration
        final.update({f"val_{k}": v for k, v in
                      evaluate(model, val_set, tc.batch_size, device, tc.seed, tc.cpu_precision).items()})
        final["batchnorm"] = "recalibrated on the training images"
    card = model_card(model, dataset=dataset, data_card=train_set.card, attribute_mean=train_set.attributes.mean(0),
                      train_params=run_params,
                      epochs=epochs, steps=step, final=final, processes=ranks.world)
    if ranks.main:
        save_model(out, model, card)
        if run_record is not None:
            write_run_record(run_record, seconds=time.perf_counter() - t0, device=device)
        ckpt.remove()
    distributed.barrier(ranks)
    distributed.teardown(ranks)
    return card


def add_arguments(p) -> None:
    p.add_argument("--dataset", required=True, help="dataset name (selects its params)")
    p.add_argument("--model", required=True, choices=MODELS)
    p.add_argument("--data", required=True, help="processed dataset directory")
    p.add_argument("--out", required=True, help="output model directory (model.safetensors + card.json)")
    p.add_argument("--log", required=True, help="training curve file (TSV, a DVC plot)")
    p.add_argument("--checkpoints", required=True, help="checkpoint directory (kept until training ends)")
    p.add_argument("--run-record", help="where to write the run record (seconds, device, git revision, host), "
                                        "e.g. results/runs/synth-faces/cvae.json")
    add_device_argument(p)


def main(args, params: dict) -> None:
    t0 = time.perf_counter()
    card = train(args.model, args.data, args.out, params, args.dataset, args.log, args.checkpoints,
                 device_pref=args.device, run_record=args.run_record)
    if distributed.from_env().main:                    # under torchrun, rank 0 speaks for all
        print(f"{args.dataset}/{args.model}: wrote {args.out} ({card['steps']} steps in "
              f"{time.perf_counter() - t0:.1f} s; val loss {card['final'].get('val_loss', float('nan')):.4g})")
