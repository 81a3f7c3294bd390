"""The models of the params sections, one per section (and their parts)."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from churnops.compute.engine import SCHEDULER

Fraction = Field(gt=0, lt=1)


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=False)


class Base(_Section):
    seed: int = Field(ge=0)
    target: str
    positive_label: str | int
    negative_label: str | int
    id_column: str | None
    n_jobs: int = Field(ge=-1)
    scheduler: str
    n_workers: int = Field(ge=1)

    @field_validator("scheduler")
    @classmethod
    def _scheduler(cls, value: str) -> str:
        if not SCHEDULER.match(value):
            raise ValueError(
                "must be 'local', 'dask-local' or a scheduler address such as tcp://host:8786"
            )
        return value


class Bound(_Section):
    min: float | None = None
    max: float | None = None


class Csv(_Section):
    sep: str = Field(min_length=1, max_length=1)
    decimal: Literal[".", ","]
    encoding: str = Field(min_length=1)


class HighCardinality(_Section):
    max_share: float = Field(gt=0, le=1)
    top_k: int = Field(ge=1)


class Prepare(_Section):
    raw_path: str
    csv: Csv
    sha256: str | None = Field(pattern=r"^[0-9a-f]{64}$")
    test_size: float = Fraction
    strict_schema: bool
    coerce_tolerance: float = Field(ge=0, lt=1)
    range_tolerance: float = Field(ge=0)
    range_limit: float = Field(ge=0)
    bounds: dict[str, Bound] | None
    high_cardinality: HighCardinality
    leakage: Literal["warn", "error", "off"]
    leakage_max_auc: float = Field(gt=0.5, le=1)
    columns: dict[str, Literal["numeric", "categorical"]] = Field(min_length=1)


class Eda(_Section):
    top_k: int = Field(ge=1)
    alpha: float = Fraction
    histogram_bins: int = Field(ge=2)


class Featurize(_Section):
    recipes: list[dict[str, Any]]  # each recipe's keys are checked by features.check_recipes
    polynomial_degree: int = Field(ge=1)
    numeric_impute: Literal["median", "mean"]
    categorical_fill: str
    scale: Literal["standard", "minmax", "none"]


class Candidate(_Section):
    type: str
    complexity: float
    params: dict[str, Any]
    grid: dict[str, list[Any]]
    members: list[str] | None = None
    inner_folds: int | None = Field(None, ge=2)  # svm calibration, stacking: required there


class Train(_Section):
    cv_folds: int = Field(ge=2)
    scoring: str
    selection: Literal["one_standard_error", "best"]
    search: Literal["grid", "random"]
    search_iterations: int = Field(ge=1)
    candidates: dict[str, Candidate] = Field(min_length=1)


class LearningCurve(_Section):
    train_sizes: list[float] = Field(min_length=1)
    high_variance_gap: float = Field(ge=0)
    high_bias_below: float = Field(gt=0, le=1)


class Evaluate(_Section):
    threshold: float = Fraction
    bootstrap_samples: int = Field(ge=1)
    confidence: float = Fraction
    calibration_bins: int = Field(ge=2)
    permutation_repeats: int = Field(ge=1)
    learning_curve: LearningCurve


class Simulate(_Section):
    model_config = ConfigDict(extra="forbid")
    scenario: Literal[
        "none", "price_increase", "mix_shift", "new_category", "missing_spike", "concept_drift"
    ]
    rows: int | None = Field(ge=1)
    # quoted ISO date: DVC takes no YAML date in params
    start: str = Field("2026-01-05", pattern=r"^\d{4}-\d{2}-\d{2}$")
    days: int = Field(14, ge=1)
    # each scenario's settings are checked by simulate.settings_for
    price_increase: dict[str, Any]
    mix_shift: dict[str, Any]
    new_category: dict[str, Any]
    missing_spike: dict[str, Any]
    concept_drift: dict[str, Any]


class MinEffect(_Section):
    numeric: float = Field(ge=0)
    categorical: float = Field(ge=0)


class Rule(_Section):
    name: str
    metric: str
    op: Literal[">", ">=", "<", "<="]
    value: float
    level: Literal["info", "warning", "critical"]


class Webhook(_Section):
    url: str | None
    format: Literal["json", "slack"]
    min_level: Literal["info", "warning", "critical"]
    timeout_seconds: float = Field(gt=0)
    retries: int = Field(ge=0, le=10)


class Monitor(_Section):
    current_path: str
    window: Literal["day", "hour"] = "day"
    alpha: float = Fraction
    min_effect: MinEffect
    drift_share: float = Field(ge=0, le=1)
    evidently_sample_rows: int = Field(ge=100)
    latency_column: str | None
    min_new_labels: int = Field(ge=1)
    model_trained_on: str | None
    as_of: str | None
    max_age_days: int | None = Field(ge=1)
    fail_on: Literal["none", "warning", "critical"]
    webhook: Webhook
    rules: list[Rule]
    rule_triggers: dict[str, str]


class Thresholds(_Section):
    start: float = Field(ge=0, le=1)
    stop: float = Field(ge=0, le=1)
    step: float = Fraction


class Business(_Section):
    offer_cost: float = Field(ge=0)
    retained_value: float = Field(ge=0)
    offer_success_rate: float = Field(ge=0, le=1)
    thresholds: Thresholds


class Fairness(_Section):
    groups: list[str]
    max_demographic_parity_difference: float = Field(ge=0, le=1)
    max_equalized_odds_difference: float = Field(ge=0, le=1)


class Serve(_Section):
    compile: bool
    parity_tolerance: float = Field(gt=0)
    policy: Literal["reject", "flag"]
    max_batch: int = Field(ge=1)
    max_body_bytes: int = Field(ge=1)
    log_path: str


class Problem(_Section):
    """Why the model exists, quoted in the model card, and the words for the data (see
    `churnops.data.words`); every key optional."""

    entity: str | None = None
    entities: str | None = None
    outcome: str | None = None
    verb: str | None = None
    positives: str | None = None
    statement: str | None = None
    ml_task: str | None = None
    current_rate: float | None = Field(None, ge=0, le=1)
    target_rate: float | None = Field(None, ge=0, le=1)
    revenue_at_stake: str | None = None
    success_metrics: list[str] | None = None
    intended_use: str | None = None
    out_of_scope: str | None = None


class GateHoldout(_Section):
    path: str
    sha256: str = Field(pattern=r"^[0-9a-f]{64}$")


class Gate(_Section):
    champion: str | None = Field(pattern=r"^v\d+\.\d+\.\d+$")
    holdout: GateHoldout | None
    min_roc_auc: float = Field(ge=0, le=1)
    max_auc_drop: float = Field(ge=0, le=1)
    max_brier_increase: float = Field(ge=0)
    max_value_drop_share: float = Field(ge=0)
    max_fairness_gap_increase: float = Field(ge=0, le=1)
    max_latency_ratio: float = Field(ge=1)


class Governance(_Section):
    pseudonymize_ids: bool
    key_env: str = Field(pattern=r"^[A-Z_][A-Z0-9_]*$")
    key_file: str | None
    retention_days: int | None = Field(ge=1)
    pii_columns: list[str]


class Retrain(_Section):
    holdout_share: float = Field(ge=0, lt=1)
    min_new_rows: int = Field(ge=1)
    max_refused_share: float = Field(ge=0, le=1)


class AbtestArm(_Section):
    name: str = Field(min_length=1)
    stage: Literal["staging", "prod"] | None = None
    version: str | None = Field(None, pattern=r"^v\d+\.\d+\.\d+$")
    share: float = Field(gt=0, le=1)

    @model_validator(mode="after")
    def _one_model(self) -> AbtestArm:
        if (self.stage is None) == (self.version is None):
            raise ValueError(f"arm {self.name!r}: give a registry stage or a version, not both")
        return self


class AbtestGuardrails(_Section):
    max_offer_rate_increase: float = Field(ge=0, le=1)
    max_latency_ratio: float = Field(ge=1)
    max_error_rate_increase: float = Field(ge=0, le=1)


class Abtest(_Section):
    name: str | None
    salt: str | None
    start: str | None
    arms: list[AbtestArm] = Field(min_length=2)
    better: Literal["lower", "higher"]
    mde: float
    alpha: float = Fraction
    power: float = Fraction
    guardrails: AbtestGuardrails

    @model_validator(mode="after")
    def _arms(self) -> Abtest:
        names = [a.name for a in self.arms]
        if len(set(names)) != len(names):
            raise ValueError(f"arm names must differ, got {names}")
        if abs(sum(a.share for a in self.arms) - 1) > 1e-9:
            raise ValueError(f"the arms' shares must sum to 1, got {[a.share for a in self.arms]}")
        return self
