from churnops.data import cleaning, quality


def test_quality_report_counts(raw, spec):
    raw = raw.copy()
    raw.loc[5, ["plan", "months", "bill", "region", "churned"]] = raw.loc[
        4, ["plan", "months", "bill", "region", "churned"]
    ].to_numpy()
    frame, cleaned = cleaning.clean(raw, spec)
    report = quality.quality_report(frame, spec, cleaned)
    assert report["rows"] == 20
    assert report["duplicate_rows"] == 1
    assert report["missing"] == {"total": 1, "by_column": {"bill": 1}}
    assert report["class_balance"]["yes"]["count"] == 8
    assert report["positive_rate"] == 0.4
    assert report["categorical"]["region"]["cardinality"] == 4
    assert set(report["numeric_summary"]) == {"months", "bill"}


def test_quality_markdown_has_the_guide_sections(raw, spec):
    frame, cleaned = cleaning.clean(raw, spec)
    text = quality.quality_markdown(quality.quality_report(frame, spec, cleaned), title="toy")
    for section in (
        "# Data quality: toy",
        "## Shape",
        "## Class balance",
        "## Missing values",
        "## Column types",
        "## Numeric summary",
        "## Categorical cardinality",
    ):
        assert section in text
    assert "`bill`: 1 blank, 0 non-numeric" in text
    assert "| bill | 1 | 5.00% |" in text
