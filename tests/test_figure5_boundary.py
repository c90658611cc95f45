"""benchmarks/figure5_boundary.py on a layered decoder with a known answer."""

from types import SimpleNamespace

import pytest
import torch

from conftest import load_benchmark


class Layered(torch.nn.Module):
    """8x8 images. z_F[0] sets the right half (the foreground: gate 0) with amplitude 0.4 and the
    left half (background: gate 1) with amplitude 0.04, so the change is 10 times larger inside.
    With ``moving_edge``, column 4 belongs to the foreground exactly when z_F[1] > 0."""

    def __init__(self, moving_edge: bool):
        super().__init__()
        self.cfg = SimpleNamespace(latent=SimpleNamespace(z_fg=2, z_bg=1))
        self.moving_edge = moving_edge

    def decode_layers(self, zf, zb, y):
        n = len(zf)
        gate = torch.ones(n, 3, 8, 8)
        gate[..., 4:] = 0.0
        if self.moving_edge:
            gate[..., 3] = (zf[:, 1] <= 0).float()[:, None, None]
        amp = (1.0 - gate[:, :1]) * 0.4 + gate[:, :1] * 0.04
        x = (amp * zf[:, :1, None, None]).expand(-1, 3, -1, -1).clamp(-1, 1)
        return {"x": x, "gate": gate}


def test_a_fixed_gate_gives_the_amplitude_ratio_and_no_moving_edge():
    probe = load_benchmark("figure5_boundary")
    r = probe.boundary_report(Layered(False), torch.zeros(16, 3), 16, 8, torch.Generator().manual_seed(0))
    assert r["ratio_as_measured"] == pytest.approx(10.0, rel=0.02)
    assert r["ratio_confident_pixels"] == pytest.approx(10.0, rel=0.02)
    assert r["frame_share_gate_moves"] == 0.0 and r["outside_change_share_where_gate_moves"] == 0.0
    assert r["frame_share_inside_outside_band"] == pytest.approx((0.5, 0.5, 0.0))


def test_a_moving_edge_lowers_the_measured_ratio_but_not_the_confident_one():
    probe = load_benchmark("figure5_boundary")
    r = probe.boundary_report(Layered(True), torch.zeros(64, 3), 64, 8, torch.Generator().manual_seed(0))
    assert r["frame_share_gate_moves"] == pytest.approx(1 / 8, abs=0.01)         # column 3, almost every base
    assert r["ratio_as_measured"] < 0.9 * r["ratio_confident_pixels"]
    assert r["ratio_confident_pixels"] == pytest.approx(10.0, rel=0.02)
    assert r["outside_change_share_where_gate_moves"] > 0.2
