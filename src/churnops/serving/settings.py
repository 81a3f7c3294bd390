"""The service's settings: where the model and the log live and how strict the service is; from
the `serve` section of params.yaml, then CHURNOPS_* environment variables, then the command's
options (which `churnops serve` passes as variables)."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from churnops.params import load_params


@dataclass(frozen=True)
class Settings:
    """Where the model and the log live and how strict the service is."""

    model_path: Path = Path("models/model.joblib")
    meta_path: Path = Path("models/model_meta.json")
    schema_path: Path = Path("data/prepared/schema.json")
    compiled_path: Path = Path("models/compiled")
    engine: str = "auto"  # auto (ONNX when verified, else scikit-learn), onnx, sklearn
    policy: str = "reject"  # unseen categories / out-of-range values: reject or flag
    max_batch: int = 1000  # customers per request
    max_body_bytes: int = 1 << 20  # request body limit
    log_path: Path = Path("logs/predictions.sqlite")
    log_sync: str = "NORMAL"  # NORMAL survives a killed process, FULL also a power cut


ENV = {
    "model_path": "CHURNOPS_MODEL",
    "meta_path": "CHURNOPS_META",
    "schema_path": "CHURNOPS_SCHEMA",
    "compiled_path": "CHURNOPS_COMPILED",
    "engine": "CHURNOPS_ENGINE",
    "policy": "CHURNOPS_POLICY",
    "max_batch": "CHURNOPS_MAX_BATCH",
    "max_body_bytes": "CHURNOPS_MAX_BODY_BYTES",
    "log_path": "CHURNOPS_LOG",
    "log_sync": "CHURNOPS_LOG_SYNC",
}
# params.yaml `serve` keys that set a default
PARAMS = {
    "policy": "policy",
    "max_batch": "max_batch",
    "max_body_bytes": "max_body_bytes",
    "log_path": "log_path",
}


def settings_from_env(params_file: str | Path | None = None) -> Settings:
    """Settings from the `serve` section of params.yaml (`params_file`, else CHURNOPS_PARAMS,
    else ./params.yaml), then CHURNOPS_* environment variables, the defaults above for the rest
    (the one place they are defined; the CLI's options override them)."""
    values: dict[str, Any] = {}
    params_file = Path(params_file or os.environ.get("CHURNOPS_PARAMS", "params.yaml"))
    if params_file.is_file():
        serve = load_params(params_file).get("serve") or {}
        values.update({f: serve[k] for f, k in PARAMS.items() if k in serve})
    for field, variable in ENV.items():
        if variable in os.environ:
            values[field] = os.environ[variable]
    return Settings(**{f: _typed(f, v) for f, v in values.items()})


def _typed(field: str, value: Any) -> Any:
    """A setting's value in its type; ValueError naming the setting when it does not fit."""
    try:
        if field.startswith("max_"):
            number = int(value)
            if isinstance(value, bool) or number < 1:
                raise ValueError
            return number
        if field.endswith("_path"):
            return Path(str(value))
    except (TypeError, ValueError):
        raise ValueError(f"setting {field} must be a positive integer, got {value!r}") from None
    return str(value)
