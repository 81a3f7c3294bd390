"""The shape of `params.yaml`: one pydantic model per section, checked once when a stage loads
the file, so that a typo or an impossible value fails the first stage that runs with one line
naming the key path and the value (`train.candidats: unknown key (did you mean 'candidates'?)`,
`evaluate.threshold: must be < 1, got 1.5`). The values themselves live in `params.yaml` only;
these models say what is allowed, not what to use.
"""

from __future__ import annotations

import difflib
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError

from churnops.config.sections import (
    Abtest,
    Base,
    Business,
    Eda,
    Evaluate,
    Fairness,
    Featurize,
    Gate,
    Governance,
    Monitor,
    Prepare,
    Problem,
    Retrain,
    Serve,
    Simulate,
    Train,
    _Section,
)
from churnops.params import ParamsError
from churnops.params import load_params as _read


class Params(_Section):
    base: Base
    prepare: Prepare
    eda: Eda
    featurize: Featurize
    train: Train
    evaluate: Evaluate
    simulate: Simulate
    monitor: Monitor
    problem: Problem | None
    business: Business | None
    fairness: Fairness
    serve: Serve
    gate: Gate
    retrain: Retrain
    abtest: Abtest
    governance: Governance


def validate(params: dict[str, Any], *, source: str = "params.yaml") -> dict[str, Any]:
    """Check the whole params document; return it unchanged.

    Raises:
        ParamsError: one line naming the first bad key path and the value received (and how
            many other problems there are).
    """
    try:
        Params.model_validate(params)
    except ValidationError as exc:
        # an unknown key first; a typo also makes the key it meant look missing: one problem
        problems = sorted(exc.errors(), key=lambda p: p["type"] != "extra_forbidden")
        meant = {
            (*p["loc"][:-1], hint)
            for p in problems
            if p["type"] == "extra_forbidden"
            for hint in difflib.get_close_matches(
                str(p["loc"][-1]), _model_fields([str(x) for x in p["loc"][:-1]]), n=1
            )
        }
        problems = [p for p in problems if not (p["type"] == "missing" and p["loc"] in meant)]
        first = _describe(problems[0])
        more = f" (and {len(problems) - 1} more problem(s))" if len(problems) > 1 else ""
        raise ParamsError(f"{source}: {first}{more}") from None
    _check_across(params, source)
    return params


def _check_across(params: dict[str, Any], source: str) -> None:
    """The checks that read more than one section."""
    withheld = params["governance"]["pii_columns"]
    inputs = set(params["prepare"]["columns"]) - {params["base"]["target"]}
    unknown = [c for c in withheld if c not in inputs]
    if unknown:
        raise ParamsError(
            f"{source}: governance.pii_columns: {unknown} are not input columns of "
            f"prepare.columns (the id column is pseudonymised by governance.pseudonymize_ids), "
            f"got {withheld}"
        )


def load_params(path: str | Path = "params.yaml") -> dict[str, Any]:
    """Read and check a params file (see `validate`)."""
    return validate(_read(path), source=str(path))


def _describe(problem: dict[str, Any]) -> str:
    loc = [str(p) for p in problem["loc"]]
    key = "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in problem["loc"])[1:]
    kind = problem["type"]
    if kind == "extra_forbidden":
        siblings = _model_fields(loc[:-1])
        close = difflib.get_close_matches(loc[-1], siblings, n=1)
        hint = f" (did you mean '{close[0]}'?)" if close else ""
        return f"{key}: unknown key{hint}"
    if kind == "missing":
        return f"{key}: missing"
    message = problem["msg"]
    for prefix in ("Input should be ", "Value error, "):
        message = message.removeprefix(prefix)
    message = {
        "greater_than": f"must be > {problem.get('ctx', {}).get('gt')}",
        "greater_than_equal": f"must be >= {problem.get('ctx', {}).get('ge')}",
        "less_than": f"must be < {problem.get('ctx', {}).get('lt')}",
        "less_than_equal": f"must be <= {problem.get('ctx', {}).get('le')}",
    }.get(kind, f"must be {message}" if problem["msg"].startswith("Input should") else message)
    return f"{key}: {message}, got {problem.get('input')!r}"


def _model_fields(path: list[str]) -> list[str]:
    """The allowed keys at a path of the params model (empty where the path is free-form)."""
    model: Any = Params
    skip = False  # the next part is a mapping's key or a list's index, not a field
    for part in path:
        if skip:
            skip = False
            continue
        field = getattr(model, "model_fields", {}).get(part)
        if field is None:
            return []
        annotation = field.annotation
        options = [annotation, *getattr(annotation, "__args__", ())]
        skip = any(getattr(o, "__origin__", None) in (dict, list) for o in options)
        inner = [a for o in options for a in (o, *getattr(o, "__args__", ()))]
        model = next((c for c in inner if isinstance(c, type) and issubclass(c, BaseModel)), None)
        if model is None:
            return []
    return list(getattr(model, "model_fields", {}))
