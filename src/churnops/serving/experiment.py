"""An A/B experiment inside the service: every arm's model loaded and verified at start, each
with its own micro-batcher writing to the shared prediction log, and the sticky assignment of a
customer id to an arm (`churnops.abtest.assignment`).

The experiment file is what `churnops serve --abtest` resolves from params `abtest` and the
registry: the experiment's name and salt, and per arm (control first) its name, traffic share,
registry version and bundle files.
"""

from __future__ import annotations

import json
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from churnops.abtest.assignment import Splitter
from churnops.serving import artifact
from churnops.serving.microbatch import MicroBatcher, Pending, ScoreError
from churnops.serving.prediction_log import PredictionLog

FILES = ("model", "meta", "schema", "compiled")


@dataclass
class Arm:
    """One arm: its model and the batcher that scores and logs for it."""

    name: str
    share: float
    registry_version: str | None
    model: artifact.LoadedModel
    batcher: MicroBatcher


@dataclass
class Experiment:
    """The running experiment; `arms` in order, control first."""

    name: str
    splitter: Splitter
    arms: dict[str, Arm]

    @property
    def control(self) -> Arm:
        return next(iter(self.arms.values()))

    def arm_of(self, record_id: str | None) -> Arm:
        """The arm of a customer id; control for a request without one."""
        if record_id is None:
            return self.control
        return self.arms[self.splitter.arm(record_id)]

    def describe(self) -> dict[str, Any]:
        """What /model says of the experiment."""
        return {
            "name": self.name,
            "arms": [
                {
                    "name": a.name,
                    "share": a.share,
                    "model_version": a.model.version,
                    "registry_version": a.registry_version,
                    "engine": a.model.engine,
                }
                for a in self.arms.values()
            ],
        }


def score_split(
    experiment: Experiment,
    log: PredictionLog,
    groups: list[tuple[str, Pending]],
    received_at: float,
) -> list[tuple[np.ndarray, artifact.LoadedModel]]:
    """A request whose customers meet several arms: each arm's model scores its records, then
    every prediction is logged in one transaction, so the request is logged whole or not at all,
    as a one-model request is (blocking: run it off the event loop).

    Raises:
        ScoreError: some scores are not finite, with their positions in the request (nothing
            is logged).
        what the log's commit raised.
    """
    scored, broken = [], []
    for arm, request in groups:
        model = experiment.arms[arm].batcher.model
        try:
            probabilities = model.probabilities(list(request.records))
        except (ValueError, FloatingPointError, OverflowError):
            broken += list(request.items or [])
            continue
        broken += [request.items[j] for j in np.flatnonzero(~np.isfinite(probabilities))]
        scored.append((probabilities, model))
    if broken:
        raise ScoreError(sorted(broken))
    latency_ms = (time.perf_counter() - received_at) * 1000
    rows = [
        row
        for (arm, request), (probabilities, model) in zip(groups, scored, strict=True)
        for row in experiment.arms[arm].batcher.rows(
            request, probabilities, model, latency_ms=latency_ms
        )
    ]
    log.record(rows)
    return scored


def write(path: Path, name: str, salt: str, arms: list[Mapping[str, Any]]) -> None:
    """Write an experiment file (each arm: name, share, registry_version, and FILES paths)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({"name": name, "salt": salt, "arms": arms}, indent=2))


def load(path: Path, log: PredictionLog, *, engine: str) -> Experiment:
    """Load and verify every arm's model.

    Raises:
        ValueError: the file is not an experiment, or the arms' models take different features.
        artifact.ModelIntegrityError: an arm's file does not match its recorded sha256.
    """
    try:
        spec = json.loads(Path(path).read_text())
        arms_spec = spec["arms"]
        splitter = Splitter(
            spec["salt"], [a["name"] for a in arms_spec], [a["share"] for a in arms_spec]
        )
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise ValueError(f"experiment file {path} cannot be used: {exc}") from None
    arms: dict[str, Arm] = {}
    for a in arms_spec:
        paths = {k: Path(a[k]) for k in FILES}
        model = artifact.load(
            paths["model"],
            paths["meta"],
            paths["schema"],
            compiled_dir=paths["compiled"],
            engine=engine,
        )
        batcher = MicroBatcher(model, log, arm=a["name"], experiment=spec["name"])
        arms[a["name"]] = Arm(
            a["name"], float(a["share"]), a.get("registry_version"), model, batcher
        )
    shapes = {n: _shape(arm.model.schema) for n, arm in arms.items()}
    control = next(iter(shapes.values()))
    different = [n for n, shape in shapes.items() if shape != control]
    if different:
        raise ValueError(
            f"arm(s) {different} take other features than {next(iter(arms))}: an A/B test "
            "compares models of one input contract"
        )
    return Experiment(name=spec["name"], splitter=splitter, arms=arms)


def _shape(schema: Mapping[str, Any]) -> dict[str, str]:
    return {name: info["kind"] for name, info in schema["features"].items()}
