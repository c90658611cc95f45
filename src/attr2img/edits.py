"""Attribute edits: the progressions of paper Figure 4, as attribute vectors.

A progression moves one attribute (or a pair, e.g. black to blond hair) linearly from one
value to another while every other attribute keeps its base value:
y_a = (1 - a) * y_from + a * y_to. Values are numbers or "min"/"max" over the training set.
Figure 4 draws them; ``evaluate-edits`` measures them with the attribute regressor.
"""

from __future__ import annotations

import torch

# (label, {attribute: (from, to)})
PROGRESSIONS = [
    ("gender: female → male", {"Male": ("min", "max")}),
    ("age: young → senior", {"Youth": ("max", "min"), "Senior": ("min", "max")}),
    ("expression: frowning → smiling", {"Frowning": ("max", "min"), "Smiling": ("min", "max")}),
    ("eyewear: none → eyeglasses", {"Eyeglasses": ("min", "max")}),
    ("hair colour: black → blond", {"Black Hair": ("max", "min"), "Blond Hair": ("min", "max")}),
    ("primary colour: blue → yellow", {"has_primary_color::blue": (1.0, 0.0), "has_primary_color::yellow": (0.0, 1.0)}),
    ("primary colour: red → black", {"has_primary_color::red": (1.0, 0.0), "has_primary_color::black": (0.0, 1.0)}),
    ("wing pattern: solid → striped", {"has_wing_pattern::solid": (1.0, 0.0), "has_wing_pattern::striped": (0.0, 1.0)}),
]


def progressions_for(names) -> list[tuple[str, dict]]:
    """The progressions whose attributes a dataset has; an error if it has none."""
    rows = [(label, spec) for label, spec in PROGRESSIONS if all(n in names for n in spec)]
    if not rows:
        raise ValueError(f"no attribute progression is defined for the attributes {list(names)[:5]}...")
    return rows


def training_ranges(attributes: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Per attribute over the training set: its minimum and maximum (the "min"/"max" ends of a
    progression) and its standard deviation (the unit an edit's effect is read in; at least 1e-6,
    so that a constant attribute divides safely)."""
    return attributes.min(0).values, attributes.max(0).values, attributes.std(0).clamp_min(1e-6)


def base_vector(attributes: torch.Tensor, kind: str) -> torch.Tensor:
    """The typical attribute vector the progressions start from: the training median
    (continuous scores) or the majority label (binary)."""
    return attributes.median(0).values if kind == "continuous" else (attributes.mean(0) > 0.5).float()


def progression_vectors(base: torch.Tensor, names: list[str], spec: dict, lo: torch.Tensor, hi: torch.Tensor,
                        steps: int) -> torch.Tensor:
    """(steps, A): base with the attributes of ``spec`` moved linearly from their 'from' to 'to' values."""
    ends = []
    for which in (0, 1):
        y = base.clone()
        for name, pair in spec.items():
            j = names.index(name)
            v = pair[which]
            y[j] = lo[j] if v == "min" else hi[j] if v == "max" else float(v)
        ends.append(y)
    a = torch.linspace(0, 1, steps)[:, None]
    return (1 - a) * ends[0][None] + a * ends[1][None]


def direction(names: list[str], spec: dict, lo: torch.Tensor, hi: torch.Tensor, base: torch.Tensor) -> torch.Tensor:
    """(A,): +1 / −1 where the progression raises / lowers an attribute, 0 elsewhere."""
    ys = progression_vectors(base, names, spec, lo, hi, 2)
    d = torch.zeros(len(names))
    for name in spec:
        j = names.index(name)
        d[j] = torch.sign(ys[1, j] - ys[0, j])
    return d
