"""`churnops synth`: a synthetic data set shaped like the training split, at any size, as
Parquet parts (in this process or on a Dask cluster), and how faithful it is.

The rows come from `churnops.data.synthetic` (a Gaussian copula per class of the target, fitted
on the training split). Part `i` holds rows `i * part_rows ...` and is drawn from
(seed, i) alone, so any engine writes the same bytes. The fidelity check compares the synthetic
rows with the real training split column by column (the monitor's drift statistics: KS and the
normalised Wasserstein distance for numbers, chi-square and the Jensen-Shannon distance for
categories) and refits the project's model on as many synthetic rows as the real training split
has, then scores both models on the real test split: the ROC-AUC gap says whether the
synthetic data carries the real signal.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from sklearn.base import clone
from sklearn.metrics import roc_auc_score

from churnops.compute.engine import run_tasks
from churnops.data.cleaning import binary_target
from churnops.data.synthetic import Synthesizer
from churnops.monitoring import drift

PART = "part-{:05d}.parquet"
# the rows of the first part compared with the real split, column by column
COMPARED_ROWS = 200_000


@dataclasses.dataclass(frozen=True)
class _Part:
    index: int
    rows: int
    first_id: int
    path: str

    def write(self, synthesizer: Synthesizer, seed: int) -> int:
        frame = synthesizer.sample(self.rows, seed=seed, part=self.index, first_id=self.first_id)
        frame.to_parquet(self.path, index=False)
        return self.rows


def plan(rows: int, part_rows: int, folder: Path) -> list[_Part]:
    """The parts of a data set of `rows` rows, at most `part_rows` each."""
    if rows < 1 or part_rows < 1:
        raise ValueError(f"--rows and --part-rows must be >= 1, got {rows} and {part_rows}")
    starts = range(0, rows, part_rows)
    return [
        _Part(i, min(part_rows, rows - start), start, str((folder / PART.format(i)).resolve()))
        for i, start in enumerate(starts)
    ]


def write_parts(
    synthesizer: Synthesizer,
    parts: Sequence[_Part],
    *,
    seed: int,
    client: Any = None,
    progress: Callable[[int], None] = lambda n: None,
) -> int:
    """Write every part (on the client's workers when given); the rows written."""
    written = []

    def done(rows: int) -> None:
        written.append(rows)
        progress(rows)

    run_tasks(client, _write, parts, shared={"synthesizer": synthesizer, "seed": seed}, done=done)
    return sum(written)


def _write(part: _Part, *, synthesizer: Synthesizer, seed: int) -> int:
    return part.write(synthesizer, seed)


def fidelity(
    real_train: pd.DataFrame,
    real_test: pd.DataFrame,
    synthetic: pd.DataFrame,
    model: Any,
    kinds: Mapping[str, str],
    *,
    target: str,
    positive_label: Any,
    alpha: float,
    min_effect: Mapping[str, float],
) -> dict[str, Any]:
    """Per column the drift statistics of `synthetic` against `real_train`, and the real test
    ROC-AUC of `model` against the same pipeline refitted on synthetic rows (as many as
    `real_train` has)."""
    compared = synthetic.head(COMPARED_ROWS)
    columns = drift.column_drift(real_train, compared, kinds, alpha=alpha, min_effect=min_effect)
    features = list(kinds)
    y_test = binary_target(real_test[target], positive_label)
    training = synthetic.head(len(real_train))
    refitted = clone(model).fit(training[features], binary_target(training[target], positive_label))
    real_auc = roc_auc_score(y_test, model.predict_proba(real_test[features])[:, 1])
    synthetic_auc = roc_auc_score(y_test, refitted.predict_proba(real_test[features])[:, 1])
    return {
        "rows_compared": len(compared),
        "columns": {
            c: {k: r[k] for k in ("test", "statistic", "effect", "effect_size", "drifted")}
            for c, r in columns.items()
        },
        "target_share": {
            "real": float(np.mean(binary_target(real_train[target], positive_label))),
            "synthetic": float(np.mean(binary_target(compared[target], positive_label))),
        },
        "roc_auc": {
            "real_model": round(float(real_auc), 6),
            "refitted_on_synthetic": round(float(synthetic_auc), 6),
            "gap": round(float(real_auc - synthetic_auc), 6),
            "training_rows": len(training),
            "test_rows": len(real_test),
        },
    }


def fidelity_lines(report: Mapping[str, Any]) -> list[str]:
    """The report as the command prints it: one line per column, then the AUCs."""
    lines = [f"{'column':<20} {'test':<10} {'statistic':>10} {'effect':<20} {'size':>8}"]
    for name, c in report["columns"].items():
        statistic = "-" if c["statistic"] is None else f"{c['statistic']:.4f}"
        size = "-" if c["effect_size"] is None else f"{c['effect_size']:.4f}"
        lines.append(f"{name:<20} {c['test']:<10} {statistic:>10} {c['effect']:<20} {size:>8}")
    auc = report["roc_auc"]
    lines.append(
        f"ROC-AUC on the real test split ({auc['test_rows']:,} rows): real model "
        f"{auc['real_model']:.4f}, refitted on {auc['training_rows']:,} synthetic rows "
        f"{auc['refitted_on_synthetic']:.4f} (gap {auc['gap']:+.4f})"
    )
    return lines
