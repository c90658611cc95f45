"""How well predicted attributes match target attributes: the measures of Table 2 and the
regressor's own accuracy, on torch tensors or numpy arrays of shape (N, A).

- ``cosine``, ``mse``: per row (one value per image or attribute vector).
- ``mean_auc``: for binary labels, the ROC AUC of each attribute column (scores against 0/1
  labels, ties counted half), averaged over the columns that have both classes.
- ``agreement``: the summary a report row needs, with the AUC when the labels are binary.
- ``others_over_moved``: Figure 4's selectivity, the other attributes' mean change over the moved one's.
"""

from __future__ import annotations

import numpy as np
import torch
from scipy.stats import rankdata
from torch.nn import functional as F


def cosine(a, b) -> torch.Tensor:
    return F.cosine_similarity(torch.as_tensor(a).float(), torch.as_tensor(b).float(), dim=-1, eps=1e-8)


def mse(a, b) -> torch.Tensor:
    return ((torch.as_tensor(a).float() - torch.as_tensor(b).float()) ** 2).mean(-1)


def mean_auc(scores, labels) -> float:
    """Mean over attribute columns of the ROC AUC of ``scores`` for the 0/1 ``labels``.

    A column whose labels are all one class has no AUC and is left out; NaN if every column is.
    """
    s = np.asarray(torch.as_tensor(scores).double().cpu())
    y = np.asarray(torch.as_tensor(labels).cpu()) > 0.5
    if s.shape != y.shape or s.ndim != 2:
        raise ValueError(f"scores {s.shape} and labels {y.shape} must be the same (N, A) shape")
    ranks = rankdata(s, axis=0)                       # average ranks: a tie counts half
    n_pos = y.sum(0)
    n_neg = len(y) - n_pos
    ok = (n_pos > 0) & (n_neg > 0)
    if not ok.any():
        return float("nan")
    rank_sum = (ranks * y).sum(0)
    auc = (rank_sum[ok] - n_pos[ok] * (n_pos[ok] + 1) / 2) / (n_pos[ok] * n_neg[ok])
    return float(auc.mean())


def mean_sem(v) -> dict:
    v = torch.as_tensor(v).double()
    sem = float(v.std() / np.sqrt(len(v))) if len(v) > 1 else 0.0
    return {"mean": round(float(v.mean()), 4), "sem": round(sem, 4)}


def agreement(pred, target, binary: bool) -> dict:
    """Cosine and MSE (mean and standard error over rows), plus the mean AUC for binary labels."""
    out = {"cosine": mean_sem(cosine(pred, target)), "mse": mean_sem(mse(pred, target))}
    if binary:
        out["auc"] = round(mean_auc(pred, target), 4)
    return out


# below this mean change (in training standard deviations) the moved attribute did not move
MIN_MOVE = 0.01


def others_over_moved(on, off) -> float | None:
    """Mean change of the other attributes over the moved attribute's (Figure 4, per row), or
    None where the moved attribute rose by less than MIN_MOVE: the ratio then says nothing
    (it reached 1e8 for a row whose attribute did not move at all)."""
    moved = float(np.mean(on))
    return round(float(np.mean(off)) / moved, 4) if moved >= MIN_MOVE else None
