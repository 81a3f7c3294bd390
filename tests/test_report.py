"""The model card and the lifecycle report: sections, honesty when parts are absent, and the
page rendered offline in headless Chromium."""

from __future__ import annotations

import re
import shutil
import subprocess

import pytest

from churnops.reporting import model_card, pages, report
from tests import report_fixture

CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--window-size=1366,900",
]
# Reports on every image whether the browser could load and decode it.
IMAGE_PROBE = (
    '<script>window.addEventListener("load", () => {'
    "const broken = [...document.images].filter(i => !(i.complete && i.naturalWidth > 0));"
    'document.body.setAttribute("data-images", document.images.length);'
    'document.body.setAttribute("data-broken", broken.map(i => i.getAttribute("src")).join("|"));'
    "});</script></body>"
)


CARD_SECTIONS = (
    "## Purpose and intended use",
    "## Data",
    "## Algorithm selection",
    "## Performance on the held-out test split",
    "## Business threshold",
    "## Fairness and bias",
    "## Limitations and risks",
    "## Risks and mitigations",
    "## Serving",
    "## Monitoring and maintenance",
    "## Data retention and privacy",
    "## Versions and hashes",
)


def test_model_card_has_every_section_and_numbers_from_outputs():
    outputs = report_fixture.outputs()
    card = model_card.render(outputs)
    for heading in CARD_SECTIONS:
        assert heading in card
    assert outputs["meta"]["model_sha256"] in card
    assert f"{outputs['metrics']['roc_auc']:.4f}" in card
    assert f"**{outputs['business']['precision']:.1%} of flagged customers actually churn**" in card
    assert f"Rule `{outputs['cv']['selection']['rule']}`" in card
    assert f"On the {outputs['compiled']['rows']:,} test rows" in card


def test_model_card_says_why_the_model_is_not_compiled():
    outputs = report_fixture.outputs()
    outputs["compiled"] = {"compiled": False, "reason": "skl2onnx cannot convert X"}
    card = model_card.render(outputs)
    assert "Scored by scikit-learn (not compiled: skl2onnx cannot convert X)" in card


def test_model_card_says_so_when_parts_are_absent():
    outputs = report_fixture.outputs()
    outputs.update(
        problem=None,
        business={"threshold": 0.5, "note": "no business section in params: not assessed"},
        fairness={
            "threshold": 0.5,
            "groups": {},
            "flagged_groups": [],
            "note": "no fairness groups in params: not assessed",
        },
    )
    card = model_card.render(outputs)
    assert "purpose and intended use are not stated" in card
    assert "no business section in params: not assessed" in card
    assert "no fairness groups in params: not assessed" in card


def test_model_card_names_leaks_by_score_and_by_name():
    outputs = report_fixture.outputs()
    card = model_card.render(outputs)
    assert "no column alone reaches cross-validated ROC-AUC" in card
    assert "Check before use" not in card
    leak = outputs["quality"]["leakage"]
    leak.update(suspects={"closing_fee": 0.991}, after_the_fact_names=["time"])
    card = model_card.render(outputs)
    assert "**possible leakage — `closing_fee` 0.991**" in card
    assert "- **Check before use:** `time` named like something known only after the" in card


def test_report_page_has_sections_and_relative_figures():
    outputs = report_fixture.outputs()
    figures = {"evaluate/figures/roc.png", "eda/figures/histograms.png"}
    html = report.render({**outputs, "model_card": model_card.render(outputs)}, figures)
    for _, anchor in report.SECTIONS:
        assert f'id="{anchor}"' in html
    assert re.findall(r'<img src="([^"]+)"', html) == [
        "eda/figures/histograms.png",
        "evaluate/figures/roc.png",
    ]
    assert "http://" not in html
    assert "https://" not in html
    assert "<script" not in html


def test_the_page_draws_cv_scores_and_drift_effects_where_users_look(tmp_path):
    outputs = report_fixture.outputs()
    column = {"effect_size": 0.02, "drifted": False}
    monitor = {
        "drift": {
            "columns": {"tenure": column, "Contract": {"effect_size": 0.3, "drifted": True}},
            "derived": {"tenure_group": column},
            "min_effect": {"numeric": 0.1, "categorical": 0.15},
        }
    }
    assert report.draw(outputs, tmp_path / "a") == {report.CV_FIGURE}  # no monitor run yet
    drawn = report.draw({**outputs, "monitor": monitor}, tmp_path / "figures")
    assert drawn == {report.CV_FIGURE, report.DRIFT_FIGURE}
    for path in drawn:
        assert (tmp_path / path).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    monitor.update(
        metrics={
            "rows": 10,
            "drifted_columns": 1,
            "alerts": {"critical": 0, "warning": 1, "info": 0},
        },
        alerts={"alerts": []},
        decision={"retrain": False, "triggers": {}},
    )
    html = report.render(
        {**outputs, "monitor": monitor, "model_card": model_card.render(outputs)}, drawn
    )
    selection = html[html.index('id="model-selection"') : html.index('id="evaluation"')]
    monitoring = html[html.index('id="monitoring"') : html.index('id="model-card"')]
    assert f'<img src="{report.CV_FIGURE}"' in selection
    assert f'<img src="{report.DRIFT_FIGURE}"' in monitoring


def test_markdown_headings_are_demoted():
    assert pages.from_markdown("# A\n\n## B", demote=2) == "<h3>A</h3>\n<h4>B</h4>"


def _chromium() -> str:
    for name in ("chromium", "chromium-browser", "google-chrome"):
        path = shutil.which(name)
        if path:
            return path
    pytest.skip("Chromium is not installed (Debian: apt-get install chromium; .ci/run does it)")


def _load(browser, page, profile) -> tuple[subprocess.CompletedProcess, str]:
    """Load `page` with the image probe injected; return the run and the <body> attributes."""
    probe = page.with_name("_probe.html")  # beside the page, so relative links resolve the same
    probe.write_text(page.read_text().replace("</body>", IMAGE_PROBE))
    try:
        result = subprocess.run(
            [
                browser,
                *CHROMIUM_FLAGS,
                f"--user-data-dir={profile}",
                "--enable-logging=stderr",
                "--v=0",
                "--virtual-time-budget=10000",
                "--dump-dom",
                probe.as_uri(),
            ],
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
    finally:
        probe.unlink()
    assert result.returncode == 0, result.stderr[-2000:]
    return result, re.search(r"<body([^>]*)>", result.stdout).group(1)


def test_image_probe_catches_a_missing_figure(tmp_path):
    browser = _chromium()
    page = tmp_path / "page.html"
    page.write_text(pages.page("t", pages.figure("figures/none.png", "missing")))
    _, body = _load(browser, page, tmp_path / "profile")
    assert 'data-broken="figures/none.png"' in body


def test_lifecycle_report_renders_offline_in_chromium(telco_repo, tmp_path):
    browser = _chromium()
    page = telco_repo / "reports" / "index.html"
    result, body = _load(browser, page, tmp_path / "profile")
    assert 'data-broken=""' in body, body
    assert int(re.search(r'data-images="(\d+)"', body).group(1)) >= 12
    assert f'src="{report.CV_FIGURE}"' in result.stdout
    assert f'src="{report.DRIFT_FIGURE}"' in result.stdout
    for title, anchor in report.SECTIONS:
        assert f'id="{anchor}"' in result.stdout, title
    console = [line for line in result.stderr.splitlines() if ":CONSOLE" in line]
    assert console == []

    screenshot = tmp_path / "lifecycle_report.png"
    shot = subprocess.run(
        [
            browser,
            *CHROMIUM_FLAGS,
            f"--user-data-dir={tmp_path / 'profile2'}",
            f"--screenshot={screenshot}",
            page.as_uri(),
        ],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert shot.returncode == 0, shot.stderr[-2000:]
    assert screenshot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_evidently_drift_page_renders_offline_in_chromium(telco_repo, tmp_path):
    browser = _chromium()
    page = telco_repo / "reports" / "monitor" / "drift.html"
    result, _ = _load(browser, page, tmp_path / "profile")
    assert "Dataset Drift" in result.stdout
    assert [line for line in result.stderr.splitlines() if ":CONSOLE" in line] == []
