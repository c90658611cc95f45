"""Which attributes do the trained generators draw? (issue 12, Figure 4 and Table 2)

The judge reads an attribute on generated images only if the generator draws it. For each
conditional generator of a dataset, on the first ``--n`` *validation* images (the test split
chooses nothing):

- ``real``: how well the judge reads each attribute on the real images (Pearson r for
  continuous scores, AUC for binary labels), its ceiling here;
- ``recon``: the same on the generator's reconstructions: z is the recognition model's mean
  for (x, y) (the disCVAE's foreground encoder sees x times the true mask), decoded with the
  same y;
- ``edit``: how far the judge's reading of the attribute moves, in training standard
  deviations, when only that attribute of y is moved from its training minimum to its maximum
  (z kept): near 0 when the decoder ignores it.

    python benchmarks/attributes_drawn.py --dataset synth-faces [--models cvae discvae] [--n 200]

Reads the trained models (``models/<dataset>/``) and the prepared data; writes nothing. A
``--models`` entry with a slash is a model directory instead, e.g. one trained longer by
``attr2img train --out /tmp/cvae20 ...`` (docs/fidelity.md, "More epochs at width 0.25").
"""

from __future__ import annotations

import argparse

import numpy as np
import torch

from attr2img.data.loader import ProcessedDataset
from attr2img.device import configure_threads
from attr2img.edits import training_ranges
from attr2img.inference.evaluate_attributes import predict
from attr2img.models.store import load_model
from attr2img.scores import column_agreement


@torch.no_grad()
def attributes_drawn(model, regressor, x: torch.Tensor, m: torch.Tensor, y: torch.Tensor, lo, hi, std,
                     binary: bool) -> dict:
    """Per attribute: the judge's agreement with y on reconstructions, and its edit response."""
    z = model.posterior_mean(x, y, m)
    recon = predict(regressor, model.decode(z, y).float().clamp(-1, 1))
    edit = np.zeros(y.shape[1])
    for j in range(y.shape[1]):
        ends = []
        for v in (lo[j], hi[j]):
            yj = y.clone()
            yj[:, j] = v
            ends.append(predict(regressor, model.decode(z, yj).float().clamp(-1, 1))[:, j])
        edit[j] = float(((ends[1] - ends[0]) / std[j]).mean())
    return {"recon": column_agreement(recon, y, binary), "edit": edit}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--dataset", default="synth-faces")
    ap.add_argument("--models", nargs="+", default=["cvae", "discvae"])
    ap.add_argument("--n", type=int, default=200, help="validation images")
    ap.add_argument("--threads", type=int, default=0)
    args = ap.parse_args()
    configure_threads(args.threads)
    data = f"data/processed/{args.dataset}"
    train, val = ProcessedDataset(data, "train"), ProcessedDataset(data, "val").head(args.n)
    binary = train.attribute_kind == "binary"
    ya = train.attributes
    lo, hi, std = training_ranges(ya)
    x, mask, y = val.tensors("cpu")
    regressor, _ = load_model(f"models/{args.dataset}/regressor", "cpu")
    real = column_agreement(predict(regressor, x), y, binary)
    rows = {m: attributes_drawn(load_model(m if "/" in m else f"models/{args.dataset}/{m}", "cpu")[0].eval(),
                                regressor, x, mask, y, lo, hi, std, binary) for m in args.models}
    measure = "AUC" if binary else "r"
    print(f"{args.dataset}, {len(x)} validation images; judge {measure} on real images and on each generator's "
          f"reconstructions; edit: the judge's change (training sd) when only that attribute moves min -> max")
    head = f"{'attribute':28s} {'real':>6s}" + "".join(f" {m + ' recon':>14s} {m + ' edit':>13s}" for m in args.models)
    print(head)
    for j, name in enumerate(train.attribute_names):
        print(f"{name[:28]:28s} {real[j]:6.3f}"
              + "".join(f" {rows[m]['recon'][j]:14.3f} {rows[m]['edit'][j]:+13.2f}" for m in args.models))


if __name__ == "__main__":
    main()
