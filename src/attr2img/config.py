"""Typed, frozen configs built from params.yaml sections.

Each section of params.yaml is owned by the module that uses it, which declares a frozen
dataclass whose fields are the section's keys, spelt as in the YAML (``TrainConfig`` in
:mod:`attr2img.train.config`, ``ModelConfig`` in :mod:`attr2img.models.config`, ...).
:func:`from_mapping` builds one from a mapping: a field typed as another config dataclass is
built from the nested mapping. The values were validated against the schema before any
stage runs (:mod:`attr2img.params`), so no config repeats the schema's checks; a key that no
field names, or a field with no key and no default, is a programming error and raises.
"""

from __future__ import annotations

import dataclasses
import typing


def from_mapping(cls, mapping: dict, *, only_fields: bool = False, **extra):
    """``cls(**mapping, **extra)``, nested configs built recursively.

    ``only_fields=True`` takes from ``mapping`` only the keys that are fields of ``cls`` (for
    a config that owns part of a section, e.g. the posterior optimiser's keys of ``inference``).
    """
    hints = typing.get_type_hints(cls)
    names = {f.name for f in dataclasses.fields(cls)}
    unknown = set(mapping) - names
    if unknown and not only_fields:
        raise TypeError(f"{cls.__name__}: unknown key(s) {sorted(unknown)}")
    values = {}
    for key, value in {**{k: v for k, v in mapping.items() if k in names}, **extra}.items():
        kind = hints.get(key)
        values[key] = from_mapping(kind, value) if dataclasses.is_dataclass(kind) and isinstance(value, dict) \
            else value
    return cls(**values)


def to_mapping(cfg) -> dict:
    """The inverse of :func:`from_mapping`: plain dicts, as in params.yaml or a model card."""
    return dataclasses.asdict(cfg)
