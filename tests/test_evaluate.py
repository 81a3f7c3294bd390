import numpy as np
import pytest

from churnops.modeling import evaluate
from churnops.params import ParamsError

Y = np.array([0, 0, 1, 1, 0, 1])
P = np.array([0.1, 0.6, 0.8, 0.4, 0.2, 0.9])


def test_headline_metrics_keys_and_values():
    scores = evaluate.headline_metrics(Y, P, threshold=0.5)
    assert set(scores) == {
        "roc_auc",
        "pr_auc",
        "accuracy",
        "precision",
        "recall",
        "f1",
        "log_loss",
        "brier",
    }
    # predicted positive: 0.6, 0.8, 0.9 -> TP 2, FP 1, FN 1
    assert scores["accuracy"] == pytest.approx(4 / 6, abs=1e-6)
    assert scores["precision"] == pytest.approx(2 / 3, abs=1e-6)
    assert scores["recall"] == pytest.approx(2 / 3, abs=1e-6)
    assert scores["roc_auc"] == pytest.approx(8 / 9, abs=1e-6)
    assert scores["brier"] == pytest.approx(np.mean((P - Y) ** 2), abs=1e-6)


def test_threshold_moves_the_decisions():
    assert evaluate.headline_metrics(Y, P, threshold=0.85)["recall"] == pytest.approx(
        1 / 3, abs=1e-6
    )


@pytest.mark.parametrize("value", [0, 1, 1.5, "0.5", True])
def test_check_threshold(value):
    with pytest.raises(ParamsError, match=r"evaluate\.threshold must be a number in"):
        evaluate.check_threshold(value)


def test_confusion_rows_use_label_names():
    rows = evaluate.confusion_rows(Y, P, 0.5, ["No", "Yes"])
    assert rows.shape == (6, 2)
    assert rows.value_counts().to_dict()[("No", "Yes")] == 1


def test_classification_report_has_both_labels():
    report = evaluate.classification_report(Y, P, 0.5, ["No", "Yes"])
    assert report["Yes"]["support"] == 3
    assert "macro avg" in report


def test_curve_points_are_bounded():
    roc = evaluate.roc_points(Y, P)
    pr = evaluate.pr_points(Y, P)
    assert list(roc.columns) == ["fpr", "tpr", "threshold"]
    assert roc["threshold"].between(0, 1).all()
    assert roc.iloc[-1][["fpr", "tpr"]].tolist() == [1.0, 1.0]
    assert list(pr.columns) == ["recall", "precision", "threshold"]
