"""benchmarks/attributes_drawn.py on a generator with a known answer: it draws attribute 0
(as the brightness of the red channel) and ignores attribute 1."""

import numpy as np
import torch

from conftest import load_benchmark


def load_probe():
    return load_benchmark("attributes_drawn")


class DrawsFirstAttribute(torch.nn.Module):
    """x = y[0] / 3 in the red channel, 0 elsewhere; z and y[1] are ignored."""

    def posterior_mean(self, x, y, mask=None):
        return torch.zeros(len(x), 4)

    def decode(self, z, y):
        x = torch.zeros(len(y), 3, 8, 8)
        x[:, 0] = (y[:, :1, None] / 3).expand(-1, 8, 8)
        return x


class ReadsChannelMeans:
    """The judge: attribute k is read as 3 times the mean of channel k."""

    def predict(self, x):
        return 3 * x.float().mean((2, 3))[:, :2]


def test_an_ignored_attribute_has_no_edit_response_and_a_drawn_one_reads_back():
    probe = load_probe()
    gen = torch.Generator().manual_seed(0)
    y = torch.randn(50, 2, generator=gen)
    lo, hi, std = y.min(0).values, y.max(0).values, y.std(0)
    out = probe.attributes_drawn(DrawsFirstAttribute(), ReadsChannelMeans(), torch.zeros(50, 3, 8, 8),
                                 torch.ones(50, 1, 8, 8), y, lo, hi, std, binary=False)
    assert out["recon"][0] > 0.999                       # drawn: the reconstruction reads back y[0]
    assert not np.isfinite(out["recon"][1])              # ignored: a constant reading has no correlation
    assert abs(out["edit"][0] - float((hi[0] - lo[0]) / std[0])) < 1e-4   # min -> max, in training sds
    assert out["edit"][1] == 0.0
