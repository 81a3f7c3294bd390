import pandas as pd

from churnops.modeling import evaluate
from churnops.reporting import plots
from tests.test_evaluate import P, Y


def test_figures_are_pngs_and_byte_stable(tmp_path):
    rows = evaluate.confusion_rows(Y, P, 0.5, ["No", "Yes"])
    for name in ("a.png", "b.png"):
        plots.confusion_png(rows, ["No", "Yes"], tmp_path / name)
    first = (tmp_path / "a.png").read_bytes()
    assert first[:8] == b"\x89PNG\r\n\x1a\n"
    assert first == (tmp_path / "b.png").read_bytes()
    assert b"Software" not in first


def test_curve_png(tmp_path):
    points = pd.DataFrame({"fpr": [0, 0.5, 1], "tpr": [0, 0.8, 1]})
    plots.curve_png(
        points, "fpr", "tpr", title="ROC", label="AUC", path=tmp_path / "r.png", diagonal=True
    )
    assert (tmp_path / "r.png").stat().st_size > 1000
