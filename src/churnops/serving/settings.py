"""The service's settings: where the model and the log live and how strict the service is.

One chain, resolved by pydantic-settings, first match wins: the values given to `Settings(...)`
(the command's options), then CHURNOPS_* environment variables, then the `serve` section of the
params file (CHURNOPS_PARAMS, else ./params.yaml), then the defaults below, the one place they
are defined. A bad value fails with the setting's name and the value received.
"""

from __future__ import annotations

import contextvars
import os
from pathlib import Path
from typing import Any, Literal

from pydantic import Field, ValidationError, model_validator
from pydantic.fields import FieldInfo
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict

from churnops.params import load_params


class Settings(BaseSettings):
    """Where the model and the log live and how strict the service is."""

    model_config = SettingsConfigDict(frozen=True, extra="forbid", protected_namespaces=())

    model_path: Path = Path("models/model.joblib")
    meta_path: Path = Path("models/model_meta.json")
    schema_path: Path = Path("data/prepared/schema.json")
    compiled_path: Path = Path("models/compiled")
    # auto: ONNX when it verified at compile time, else scikit-learn
    engine: Literal["auto", "onnx", "sklearn"] = "auto"
    # unseen categories / out-of-range values: reject the customer, or score and flag it
    policy: Literal["reject", "flag"] = "reject"
    max_batch: int = Field(1000, ge=1)  # customers per request
    max_body_bytes: int = Field(1 << 20, ge=1)  # request body limit
    log_path: Path = Path("logs/predictions.sqlite")
    # NORMAL survives a killed process, FULL also a power cut (an fsync per commit)
    log_sync: Literal["NORMAL", "FULL"] = "NORMAL"
    # the registry version (and stage) being served, when `churnops serve --stage/--version`
    registry_version: str | None = None
    registry_stage: str | None = None
    # an A/B experiment's resolved arms (`churnops serve --abtest` writes it); none: one model
    experiment_path: Path | None = None
    # worker processes of `churnops serve`; a reload reaches one, so it is refused above one
    workers: int = Field(1, ge=1)
    # bearer token of the admin routes (POST /admin/reload); none: those routes are disabled
    admin_token: str | None = Field(None, min_length=16, repr=False)
    # bearer token of the routes that change data (POST /feedback); none: open (loopback only,
    # unless `churnops serve --insecure`)
    api_token: str | None = Field(None, min_length=16, repr=False)
    # POST /predict needs the API token too
    predict_auth: bool = False
    # outcomes recorded per request id or record id (corrections included); more: 429
    max_outcomes_per_id: int = Field(20, ge=1)
    # params governance: record ids stored as their keyed HMAC, the key from this variable or
    # file (docs/governance.md)
    pseudonymize_ids: bool = False
    hmac_key_env: str = "CHURNOPS_HMAC_KEY"
    hmac_key_file: str | None = None
    # params governance: inputs scored but stored as null in the log
    pii_columns: list[str] = Field(default_factory=list)

    @model_validator(mode="after")
    def _predict_auth_needs_a_token(self) -> Settings:
        if self.predict_auth and self.api_token is None:
            raise ValueError(
                "predict_auth (CHURNOPS_PREDICT_AUTH) is on but no API token is set: set "
                "CHURNOPS_API_TOKEN (16 characters or more)"
            )
        return self

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        return init_settings, _Environment(settings_cls), _ParamsServe(settings_cls)


# the environment variable of each setting
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
    "registry_version": "CHURNOPS_REGISTRY_VERSION",
    "registry_stage": "CHURNOPS_REGISTRY_STAGE",
    "admin_token": "CHURNOPS_ADMIN_TOKEN",
    "api_token": "CHURNOPS_API_TOKEN",
    "predict_auth": "CHURNOPS_PREDICT_AUTH",
    "max_outcomes_per_id": "CHURNOPS_MAX_OUTCOMES",
    "workers": "CHURNOPS_WORKERS",
    "experiment_path": "CHURNOPS_EXPERIMENT",
}
# settings never shown in an error message
SECRETS = ("admin_token", "api_token")
# the params.yaml `serve` keys that are settings (the section's other keys are the pipeline's)
PARAMS_KEYS = ("policy", "max_batch", "max_body_bytes", "log_path")
# the settings that params `governance` gives (setting: its key there)
GOVERNANCE_KEYS = {
    "pseudonymize_ids": "pseudonymize_ids",
    "hmac_key_env": "key_env",
    "hmac_key_file": "key_file",
    "pii_columns": "pii_columns",
}

_params_file: contextvars.ContextVar[Path | None] = contextvars.ContextVar(
    "churnops_params_file", default=None
)


class _Environment(PydanticBaseSettingsSource):
    """CHURNOPS_* variables, by the names in ENV."""

    def get_field_value(self, field: FieldInfo, field_name: str) -> tuple[Any, str, bool]:
        variable = ENV[field_name]
        return os.environ.get(variable), variable, False

    def __call__(self) -> dict[str, Any]:
        return {f: os.environ[v] for f, v in ENV.items() if v in os.environ}


class _ParamsServe(PydanticBaseSettingsSource):
    """The settings that the params file's `serve` section gives."""

    def get_field_value(self, field: FieldInfo, field_name: str) -> tuple[Any, str, bool]:
        return self().get(field_name), field_name, False

    def __call__(self) -> dict[str, Any]:
        path = params_path(_params_file.get())
        if not path.is_file():
            return {}
        params = load_params(path)
        serve, governance = params.get("serve") or {}, params.get("governance") or {}
        given = {key: serve[key] for key in PARAMS_KEYS if key in serve}
        given.update(
            {name: governance[key] for name, key in GOVERNANCE_KEYS.items() if key in governance}
        )
        return given


def params_path(params_file: str | Path | None = None) -> Path:
    """The params file that settings come from: the one given, else CHURNOPS_PARAMS, else
    ./params.yaml."""
    return Path(params_file or os.environ.get("CHURNOPS_PARAMS", "params.yaml"))


def default(field: str) -> Any:
    """A setting's default (without reading the environment or params)."""
    return Settings.model_fields[field].default


def settings_from_env(params_file: str | Path | None = None, **options: Any) -> Settings:
    """The settings chain with `params_file` as the params file; ValueError naming the setting
    and the value when one does not fit."""
    token = _params_file.set(params_path(params_file))
    try:
        return Settings(**options)
    except ValidationError as error:
        problem = error.errors()[0]
        if not problem["loc"]:  # a rule across settings: its message names them
            raise ValueError(problem["msg"].removeprefix("Value error, ")) from None
        name = ".".join(str(part) for part in problem["loc"])
        sources = [ENV[name]] if name in ENV else []
        sources += [f"params serve.{name}"] if name in PARAMS_KEYS else []
        source = f" ({' or '.join(sources)})" if sources else ""
        value = problem.get("input")
        got = f"{len(str(value))} characters" if name in SECRETS else repr(value)
        raise ValueError(f"setting {name}{source}: {problem['msg']}, got {got}") from None
    finally:
        _params_file.reset(token)
