"""How well predicted attributes match target attributes: the measures of Table 2 and the
regressor's own accuracy, on torch tensors or numpy arrays of shape (N, A).

- ``cosine``, ``mse``: per row (one value per image or attribute vector).
- ``mean_auc``: for binary labels, the ROC AUC of each attribute column (scores against 0/1
  labels, ties counted half; ``column_auc``), averaged over the columns that have both classes.
- ``column_agreement``: per attribute column, that AUC (binary labels) or Pearson's r.
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


def _columns(scores, labels) -> tuple[np.ndarray, np.ndarray]:
    s = np.asarray(torch.as_tensor(scores).double().cpu())
    y = np.asarray(torch.as_tensor(labels).double().cpu())
    if s.shape != y.shape or s.ndim != 2:
        raise ValueError(f"scores {s.shape} and labels {y.shape} must be the same (N, A) shape")
    return s, y


def column_auc(scores, labels) -> np.ndarray:
    """The ROC AUC of each attribute column of ``scores`` for the 0/1 ``labels``; NaN for a
    column whose labels are all one class."""
    s, y = _columns(scores, labels)
    y = y > 0.5
    ranks = rankdata(s, axis=0)                       # average ranks: a tie counts half
    n_pos = y.sum(0)
    n_neg = len(y) - n_pos
    with np.errstate(invalid="ignore", divide="ignore"):
        return ((ranks * y).sum(0) - n_pos * (n_pos + 1) / 2) / (n_pos * n_neg)


def mean_auc(scores, labels) -> float:
    """Mean over attribute columns of the ROC AUC of ``scores`` for the 0/1 ``labels``.

    A column whose labels are all one class has no AUC and is left out; NaN if every column is.
    """
    auc = column_auc(scores, labels)
    auc = auc[np.isfinite(auc)]
    return float(auc.mean()) if len(auc) else float("nan")


def column_correlation(scores, labels) -> np.ndarray:
    """Pearson's r between each attribute column of ``scores`` and of ``labels``; NaN for a
    constant column."""
    s, y = _columns(scores, labels)
    s, y = s - s.mean(0), y - y.mean(0)
    with np.errstate(invalid="ignore", divide="ignore"):
        return (s * y).sum(0) / np.sqrt((s * s).sum(0) * (y * y).sum(0))


def finite_mean(values) -> float | None:
    """The mean of the finite values, or None when there are none (a JSON null, not NaN)."""
    v = np.asarray(values, dtype=float)
    v = v[np.isfinite(v)]
    return float(v.mean()) if len(v) else None


def column_agreement(scores, labels, binary: bool) -> np.ndarray:
    """How well each attribute column is read: its AUC for binary labels, else Pearson's r."""
    return column_auc(scores, labels) if binary else column_correlation(scores, labels)


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
