"""benchmarks/judge_fusion.py: the grouped network it times is the judge's function, not a
cheaper stand-in (otherwise its timing would say nothing about fusing the judge)."""

import pytest
import torch
import yaml

from conftest import ROOT, load_benchmark


@pytest.fixture(scope="module")
def fusion():
    return load_benchmark("judge_fusion")


def test_the_grouped_network_computes_the_birds_judges_outputs(fusion):
    params = yaml.safe_load((ROOT / "params.yaml").read_text())
    cfg = fusion.judge_config(params, "synth-birds")
    torch.manual_seed(1)
    sep = fusion.AttributeRegressor(cfg)
    assert len(sep.nets) == 3                          # the committed judge: three networks
    for m in sep.modules():                            # batch norm away from the identity
        if isinstance(m, torch.nn.BatchNorm2d):
            m.running_mean.uniform_(-0.5, 0.5)
            m.running_var.uniform_(0.5, 2.0)
            m.weight.data.uniform_(0.5, 1.5)
    grouped = fusion.GroupedRegressor(sep)
    sep.eval(), grouped.eval()
    x = torch.rand(4, 3, 64, 64)
    with torch.no_grad():
        want, got = sep(x), grouped(x)
    assert got.shape == want.shape == (4, cfg.n_attributes)
    assert want.abs().max() > 1e-3                     # not trivially zero
    torch.testing.assert_close(got, want, rtol=1e-4, atol=1e-5)
    # a network's block in the wrong place would be caught: swap two blocks and they differ
    grouped.keep.copy_(grouped.keep.roll(1))
    with torch.no_grad():
        assert not torch.allclose(grouped(x), want, atol=1e-3)
