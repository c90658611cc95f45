"""The typed configuration paired with every model (one frozen dataclass, saved in the model card).

Its fields are params.yaml's ``model`` keys, spelt as there (``latent`` is the dataset's entry
of ``model.latent``), plus what the dataset decides: the model name, the attribute count and
kind, and the image size. The regressor's ``networks`` are the dataset's entry of
``regressor.networks`` (attribute-name prefixes), resolved to attribute columns.

Not every model reads every field (the VAE has no gate, the disCVAE no single z). A model's card
keeps only the fields it reads (``READS``), so a key that a model does not read cannot change
its card, and the stage that trains it depends on the params keys of those fields only
(dvc.yaml and workflow/rules/train.smk; tests/test_dag.py checks both against ``READS``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from attr2img.catalog import MODELS
from attr2img.config import from_mapping, to_mapping
from attr2img.errors import UsageError


@dataclass(frozen=True)
class Latent:
    z: int = 256                     # VAE and CVAE latent size
    z_fg: int = 192                  # disCVAE foreground latent size
    z_bg: int = 64                   # disCVAE background latent size


# The fields every model reads, and those only some read ("latent.z": one field of Latent).
SHARED = ("model", "n_attributes", "attribute_kind", "image_size", "width", "dropout")
READS = {
    "vae": ("recon_loss", "kl_weight", "latent.z"),
    "cvae": ("recon_loss", "kl_weight", "latent.z"),
    "discvae": ("recon_loss", "kl_weight", "gate_weight", "latent.z_fg", "latent.z_bg"),
    "regressor": ("networks",),
}


@dataclass(frozen=True)
class ModelConfig:
    """Everything needed to rebuild a network; ``width`` scales every channel count.

    At ``width=1.0`` the networks are the paper's (faces: z 256 for VAE/CVAE, z_F 192 +
    z_B 64 for the disCVAE; birds: z_F 128 + z_B 128).
    """

    model: str                       # vae | cvae | discvae | regressor
    n_attributes: int                # A, the attribute-vector length
    attribute_kind: str = "continuous"   # continuous | binary (the regressor's loss)
    image_size: int = 64
    width: float = 1.0
    dropout: float = 0.5             # on the encoders' image stream only
    recon_loss: str = "smoothl1"     # smoothl1 (authors' code) | l2 (paper's text)
    kl_weight: float = 1.0
    gate_weight: float = 0.3         # lambda_g
    latent: Latent = field(default_factory=Latent)
    networks: tuple[tuple[int, ...], ...] = ()   # regressor: attribute columns of each network; () = one

    def __post_init__(self):
        # what params.yaml's schema cannot check: the name and size come from the stage and
        # the dataset, and a model card may have been edited by hand
        if self.model not in MODELS:
            raise ValueError(f"unknown model {self.model!r}; choose one of {', '.join(MODELS)}")
        if self.image_size != 64:
            raise ValueError(f"the paper's networks are built for 64x64 images, got {self.image_size}")
        networks = tuple(tuple(int(c) for c in cols) for cols in self.networks)   # a card's JSON lists
        object.__setattr__(self, "networks", networks)
        if networks and self.model != "regressor":
            raise ValueError(f"networks split the regressor's attributes; {self.model} has one network")
        if networks and sorted(c for cols in networks for c in cols) != list(range(self.n_attributes)):
            raise ValueError(f"the regressor's networks {[list(n) for n in networks]} must share out the "
                             f"attribute columns 0..{self.n_attributes - 1}, each exactly once")

    @property
    def conditional(self) -> bool:
        return self.model != "vae"

    def ch(self, c: int) -> int:
        """A paper channel count scaled by the width multiplier."""
        return max(4, int(round(c * self.width)))

    def to_dict(self) -> dict:
        """As in a model card's JSON (lists, not tuples): the fields this model reads (``READS``)."""
        full = {**to_mapping(self), "networks": [list(cols) for cols in self.networks]}
        out = {k: full[k] for k in SHARED}
        for key in READS[self.model]:
            section, _, sub = key.partition(".")
            if sub:
                out.setdefault(section, {})[sub] = _lookup(full, key)
            else:
                out[key] = _lookup(full, key)
        return out

    @classmethod
    def from_dict(cls, d: dict) -> "ModelConfig":
        """From a model card's config; a field it does not keep (one its model does not read, or
        every field in the cards written before ``READS``) takes its default. A field that its
        model reads must be there."""
        missing = [key for key in SHARED + READS.get(d.get("model"), ()) if _lookup(d, key) is None]
        if missing:
            raise ValueError(f"the {d.get('model')!r} config lacks {', '.join(missing)}, which the model reads")
        return from_mapping(cls, d)

    @classmethod
    def from_params(cls, section: dict, *, model: str, dataset: str, attribute_names: Sequence[str],
                    attribute_kind: str, image_size: int) -> "ModelConfig":
        """params.yaml's ``model`` section for ``dataset``, with what the dataset decides: its
        attributes (their number, and the regressor's ``networks`` resolved against their names),
        their kind and the image size."""
        keys = {k: v for k, v in section.items() if k not in ("latent", "networks")}
        prefixes = section.get("networks", {}).get(dataset, [])
        networks = network_columns(prefixes, attribute_names) if prefixes else ()
        latent = section["latent"][dataset] if "latent" in section else {}    # the regressor has none
        return from_mapping(cls, keys, latent=latent, model=model,
                            n_attributes=len(attribute_names), attribute_kind=attribute_kind,
                            image_size=image_size, networks=networks)


def _lookup(d: dict, key: str):
    """A field of a card's config by its ``READS`` name ("latent.z": ``d["latent"]["z"]``); None
    where it is absent."""
    section, _, sub = key.partition(".")
    value = d.get(section)
    return (value or {}).get(sub) if sub else value


def network_columns(prefixes: Sequence[Sequence[str]], names: Sequence[str]) -> tuple[tuple[int, ...], ...]:
    """The attribute columns of each network: those whose name starts with one of its prefixes.
    The attributes that no network names form one more network, after the others."""
    taken: dict[int, int] = {}
    networks = []
    for k, group in enumerate(prefixes):
        cols = []
        for prefix in group:
            hits = [i for i, name in enumerate(names) if name.startswith(prefix)]
            if not hits:
                shown = ", ".join(names[:6]) + (", ..." if len(names) > 6 else "")
                raise UsageError(f"params.yaml regressor.networks: network {k}: no attribute name "
                                 f"starts with {prefix!r} (the dataset has {len(names)}: {shown})")
            for i in hits:
                if i in taken:
                    raise UsageError(f"params.yaml regressor.networks: attribute {names[i]!r} is in "
                                     f"networks {taken[i]} and {k}")
                taken[i] = k
            cols += hits
        networks.append(tuple(sorted(cols)))
    rest = tuple(i for i in range(len(names)) if i not in taken)
    return tuple(networks) + ((rest,) if rest else ())
