"""Where does Figure 5's "outside" change under z_F come from? (issue 12, Figure 5)

The Figure 5 measure (``evaluate-edits``) weighs each pixel's change across z draws by the
gate averaged over those draws: a pixel the gate covers in some draws and not in others counts
partly inside and partly outside. Varying z_F moves the foreground's outline, so the change on
that moving edge lands partly "outside". This probe, on the trained disCVAE of a dataset, for
z_F varied with z_B and y fixed (as in the stage; its own draws, not the stage's):

- the ratio inside/outside as the stage measures it;
- the same ratio on confident pixels only (mean gate < 0.1 inside, > 0.9 outside);
- the share of the frame where the gate itself moves (its sd over the draws > 0.2), and the
  share of the gate-weighted outside change that lies there.

    python benchmarks/figure5_boundary.py --dataset synth-faces [--n 32] [--k 8]

Reads ``models/<dataset>/discvae`` and the prepared test split; writes nothing.
"""

from __future__ import annotations

import argparse

import torch

from attr2img.data.loader import ProcessedDataset
from attr2img.device import configure_threads
from attr2img.inference.evaluate_edits import varied_layers, weighted_mean
from attr2img.models.store import load_model


def weighted_ratio(change: torch.Tensor, w_in: torch.Tensor, w_out: torch.Tensor) -> float:
    """Mean over base draws of the weighted mean change inside, over that outside."""
    return float(weighted_mean(change, w_in).mean() / weighted_mean(change, w_out).mean().clamp_min(1e-12))


@torch.no_grad()
def boundary_report(model, y: torch.Tensor, n: int, k: int, gen: torch.Generator) -> dict:
    """z_F varied ``k`` times around each of ``n`` fixed (z_B, y): the measures listed above."""
    zf_dim, zb_dim = model.cfg.latent.z_fg, model.cfg.latent.z_bg
    zb = torch.randn(n, 1, zb_dim, generator=gen).expand(-1, k, -1).reshape(n * k, zb_dim)
    zf = torch.randn(n * k, zf_dim, generator=gen)
    change, gates = varied_layers(model, zf, zb, y.repeat_interleave(k, 0), n, k)
    g = gates.mean(1)
    moving = (gates.std(1) > 0.2).float()
    sure_in, sure_out = (g < 0.1).float(), (g > 0.9).float()
    return {"ratio_as_measured": weighted_ratio(change, 1.0 - g, g),
            "ratio_confident_pixels": weighted_ratio(change, sure_in, sure_out),
            "frame_share_inside_outside_band": (float(sure_in.mean()), float(sure_out.mean()),
                                                float(1.0 - sure_in.mean() - sure_out.mean())),
            "frame_share_gate_moves": float(moving.mean()),
            "outside_change_share_where_gate_moves": float((change * g * moving).sum() / (change * g).sum())}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--dataset", default="synth-faces")
    ap.add_argument("--n", type=int, default=32, help="base draws (test attribute vectors)")
    ap.add_argument("--k", type=int, default=8, help="z_F draws per base")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--threads", type=int, default=0)
    args = ap.parse_args()
    configure_threads(args.threads)
    model = load_model(f"models/{args.dataset}/discvae", "cpu")[0].eval()
    test = ProcessedDataset(f"data/processed/{args.dataset}", "test")
    gen = torch.Generator().manual_seed(args.seed)
    y = test.attributes[torch.randint(len(test), (args.n,), generator=gen)]
    r = boundary_report(model, y, args.n, args.k, gen)
    print(f"{args.dataset}, disCVAE, z_F varied {args.k} times around {args.n} bases:")
    print(f"  inside/outside as the stage measures it: {r['ratio_as_measured']:.2f}")
    print(f"  on confident pixels only (gate < 0.1 / > 0.9): {r['ratio_confident_pixels']:.2f} "
          "(frame share inside / outside / band: %.2f / %.2f / %.2f)" % r["frame_share_inside_outside_band"])
    print(f"  the gate moves (sd > 0.2) on {r['frame_share_gate_moves']:.2f} of the frame, which holds "
          f"{r['outside_change_share_where_gate_moves']:.2f} of the outside change")


if __name__ == "__main__":
    main()
