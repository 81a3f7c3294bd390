"""Load `params.yaml` and read its values with errors that name the missing or bad key."""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml


class ParamsError(ValueError):
    """A params value is missing or invalid; the message names the dotted key and the value."""


_MISSING = object()
_BOOL = "tag:yaml.org,2002:bool"


class _Yaml12Loader(yaml.SafeLoader):
    """PyYAML's safe loader with YAML 1.2 booleans: only true/false, not yes/no/on/off.

    DVC rewrites params.yaml in YAML 1.2 (e.g. after `dvc exp run -S`), leaving labels such as
    Yes/No unquoted; YAML 1.1 would read them back as booleans.
    """


_Yaml12Loader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag != _BOOL]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
_Yaml12Loader.add_implicit_resolver(
    _BOOL, re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"), list("tTfF")
)


def load_params(path: str | Path = "params.yaml") -> dict[str, Any]:
    """Read a params file into a dict.

    Raises:
        ParamsError: the file is missing, is not YAML, or is not a mapping at the top.
    """
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ParamsError(f"cannot read params file {path}: {exc.strerror}") from exc
    try:
        params = yaml.load(text, Loader=_Yaml12Loader)  # a SafeLoader subclass
    except yaml.YAMLError as exc:
        raise ParamsError(f"params file {path} is not valid YAML: {exc}") from exc
    if not isinstance(params, dict):
        raise ParamsError(f"params file {path} must hold a mapping, got {type(params).__name__}")
    return params


def get(params: Mapping[str, Any], key: str, default: Any = _MISSING) -> Any:
    """Return the value at dotted `key` (e.g. "train.cv_folds").

    Args:
        params: the loaded params.
        key: dotted path into nested mappings.
        default: returned when the key is absent; without it an absent key raises ParamsError.
    """
    node: Any = params
    walked = []
    for part in key.split("."):
        walked.append(part)
        if not isinstance(node, Mapping) or part not in node:
            if default is not _MISSING:
                return default
            raise ParamsError(f"params key '{'.'.join(walked)}' is missing (needed: '{key}')")
        node = node[part]
    return node


def get_number(
    params: Mapping[str, Any],
    key: str,
    *,
    low: float | None = None,
    high: float | None = None,
    integer: bool = False,
    low_inclusive: bool = True,
    high_inclusive: bool = True,
) -> float | int:
    """Return a numeric params value, checked against its allowed range.

    Raises:
        ParamsError: naming the key and the value received when it is not a number in range.
    """
    value = get(params, key)
    kind = "an integer" if integer else "a number"
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ParamsError(f"params key '{key}' must be {kind}, got {value!r}")
    if integer and not isinstance(value, int):
        raise ParamsError(f"params key '{key}' must be {kind}, got {value!r}")
    too_low = low is not None and (value < low if low_inclusive else value <= low)
    too_high = high is not None and (value > high if high_inclusive else value >= high)
    if too_low or too_high:
        lo = "" if low is None else f"{'[' if low_inclusive else '('}{low}"
        hi = "" if high is None else f"{high}{']' if high_inclusive else ')'}"
        raise ParamsError(
            f"params key '{key}' must be in {lo or '(-inf'}, {hi or 'inf)'}, got {value!r}"
        )
    return value


def get_choice(params: Mapping[str, Any], key: str, choices: tuple[str, ...]) -> str:
    """Return a params value that must be one of `choices`."""
    value = get(params, key)
    if value not in choices:
        raise ParamsError(f"params key '{key}' must be one of {list(choices)}, got {value!r}")
    return value
