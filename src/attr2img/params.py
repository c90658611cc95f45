"""params.yaml: the single source of parameters, validated against a JSON schema.

``load_params`` is the only way a stage reads parameters, so nothing runs on a file the
schema rejects. Errors name the offending key (as a dotted path) and what is allowed.
"""

from __future__ import annotations

import os
from importlib import resources
from pathlib import Path
from typing import Any

import jsonschema
import yaml


class ParamsError(ValueError):
    """params.yaml does not match the schema (or cannot be read): a usage error (exit status 2)."""

    exit_code = 2


def schema() -> dict:
    text = resources.files("attr2img").joinpath("schemas/params.schema.yaml").read_text()
    return yaml.safe_load(text)


def _key(path) -> str:
    out = ""
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out or "<top level>"


def _subschema(root: dict, schema_path) -> dict:
    node = root
    for part in schema_path:
        node = node[part]
        while isinstance(node, dict) and "$ref" in node:
            node = root["$defs"][node["$ref"].rsplit("/", 1)[-1]]
    return node


def _describe(error: jsonschema.ValidationError, root: dict) -> str:
    key = _key(error.absolute_path)
    sub = _subschema(root, list(error.absolute_schema_path)[:-1])
    if error.validator == "additionalProperties":
        allowed = sorted(sub.get("properties", {}))
        unknown = sorted(set(error.instance) - set(allowed))
        where = f" in '{key}'" if error.absolute_path else ""
        return (f"unknown key(s) {', '.join(repr(u) for u in unknown)}{where}; "
                f"allowed keys: {', '.join(allowed)}")
    if error.validator == "required":
        return f"'{key}': {error.message}"
    if error.validator == "enum":
        return f"'{key}': {error.instance!r} is not allowed; allowed values: {', '.join(map(str, error.validator_value))}"
    if error.validator == "type":
        return f"'{key}': expected {error.validator_value}, got {type(error.instance).__name__} {error.instance!r}"
    if error.validator in ("minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum"):
        lo, hi = sub.get("minimum"), sub.get("maximum")
        rng = f"[{'-inf' if lo is None else lo}, {'inf' if hi is None else hi}]"
        return f"'{key}': {error.instance!r} is out of range; allowed: {rng}"
    return f"'{key}': {error.message}"


# The sections with one entry per dataset: each dataset in `datasets` must have its entry.
PER_DATASET = ("data", "model.latent", "train.epochs", "train.augment", "inference.occluders",
               "regressor.networks")


def _missing_dataset_entries(params: dict) -> list[str]:
    out = []
    for section in PER_DATASET:
        node = params
        for part in section.split("."):
            node = node[part]
        out += [f"'{section}': no entry for dataset {d!r} (listed in datasets)"
                for d in params["datasets"] if d not in node]
    return out


def validate(params: Any) -> dict:
    """Validate a parameter mapping; raise :class:`ParamsError` listing every problem."""
    root = schema()
    validator = jsonschema.Draft202012Validator(root)
    errors = sorted(validator.iter_errors(params), key=lambda e: (list(map(str, e.absolute_path)), e.validator))
    problems = [_describe(e, root) for e in errors] or _missing_dataset_entries(params)
    if problems:
        lines = "\n".join(f"  - {p}" for p in problems)
        raise ParamsError(f"invalid parameters:\n{lines}")
    return params


# How a front-end that overrides `datasets` (Snakemake's --config) tells its jobs: a comma-separated
# list in this environment variable replaces params.yaml's, so no stage reads a stale list.
DATASETS_ENV = "ATTR2IMG_DATASETS"


def load_params(path: str | Path = "params.yaml") -> dict:
    """Read and validate ``path`` (with ``$ATTR2IMG_DATASETS``, when set, as ``datasets``); the
    returned dict is safe to index without checks."""
    path = Path(path)
    try:
        params = yaml.safe_load(path.read_text())
    except FileNotFoundError:
        raise ParamsError(f"parameter file not found: {path}") from None
    except yaml.YAMLError as exc:
        raise ParamsError(f"{path} is not valid YAML: {exc}") from None
    override = os.environ.get(DATASETS_ENV)
    if override and isinstance(params, dict):
        params["datasets"] = [d.strip() for d in override.split(",") if d.strip()]
    try:
        return validate(params)
    except ParamsError as exc:
        where = f" (datasets from ${DATASETS_ENV}={override})" if override else ""
        raise ParamsError(f"{path}{where}: {exc}") from None


SNAKEMAKE_OVERRIDABLE = ("datasets", "resources")


def check_snakemake_config(config: dict, path: str | Path = "params.yaml") -> dict:
    """Validate Snakemake's ``config``, make sure it agrees with ``path``, and pass its datasets on.

    The stages read their parameters from params.yaml, so a ``--config`` override can only
    select which datasets run (passed to every job through ``$ATTR2IMG_DATASETS``, which
    :func:`load_params` applies) and what the jobs ask a scheduler for (keys no stage reads);
    any other override would silently not reach the stages, so it is refused with a message
    saying where to change it instead.
    """
    validate(config)
    os.environ.pop(DATASETS_ENV, None)
    on_disk = load_params(path)
    differing = sorted(k for k in set(config) | set(on_disk)
                       if k not in SNAKEMAKE_OVERRIDABLE and config.get(k) != on_disk.get(k))
    if differing:
        raise ParamsError(f"--config may only override {', '.join(repr(k) for k in SNAKEMAKE_OVERRIDABLE)}; "
                          f"change {', '.join(differing)} in {path} instead (the stages read their "
                          f"parameters from it)")
    os.environ[DATASETS_ENV] = ",".join(config["datasets"])     # inherited by every job's shell
    return config


# -- the check-params command ------------------------------------------------------------------
def add_arguments(parser) -> None:
    """``attr2img check-params`` has only the dispatcher's --params."""


def main(args, params: dict) -> None:
    print(f"{args.params}: valid; datasets: {', '.join(params['datasets'])}")
