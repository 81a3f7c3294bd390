"""bench/bench_results.py: a run's figures are kept as a file, and docs/benchmarks.md shows
exactly what those files say (no figure typed by hand)."""

from __future__ import annotations

import importlib.util
import json
import sys

import pytest

from tests.conftest import ROOT

_SPEC = importlib.util.spec_from_file_location("bench_results", ROOT / "bench" / "bench_results.py")
bench_results = importlib.util.module_from_spec(_SPEC)
sys.modules.setdefault("bench_results", bench_results)  # its dataclass looks itself up there
_SPEC.loader.exec_module(bench_results)


def test_the_docs_show_what_the_result_files_say():
    shown = []
    for page in sorted(bench_results.DOCS.glob("*.md")):
        text = page.read_text(encoding="utf-8")
        assert bench_results.rendered(text) == text, f"{page.name}: run bench/bench_results.py"
        shown += bench_results.blocks(text)
    kept = sorted(p.stem for p in bench_results.FOLDER.glob("*.json"))
    assert sorted(shown) == kept  # every kept run is shown, once


def test_a_run_is_kept_and_rendered_with_its_command(tmp_path):
    run = bench_results.Results("batch")
    run.add("`churnops predict` | onnx", "2.72 s", "faster")
    run.note("one run")
    path = tmp_path / "kept" / "batch.json"
    run.save(path, ["--rows", "1000", "--results", str(path)])
    data = json.loads(path.read_text(encoding="utf-8"))
    assert data["command"] == "python bench/batch.py --rows 1000"
    assert data["rows"] == [{"figure": "`churnops predict` | onnx", "value": "2.72 s",
                             "target": "faster"}]  # fmt: skip
    assert not list(path.parent.glob("*.partial"))
    block = bench_results.render(data)
    assert "| `churnops predict` \\| onnx | 2.72 s | faster |" in block
    assert block.startswith("`python bench/batch.py --rows 1000`, run ")
    assert block.rstrip().endswith("one run")
    page = "intro\n<!-- bench:batch -->\nold figures\n<!-- /bench:batch -->\nafter\n"
    assert bench_results.rendered(page, tmp_path / "kept") == (
        f"intro\n<!-- bench:batch -->\n{block}<!-- /bench:batch -->\nafter\n"
    )


def test_a_block_without_its_file_is_named(tmp_path):
    page = "<!-- bench:serve -->\n<!-- /bench:serve -->\n"
    with pytest.raises(SystemExit, match=r"bench:serve, but .*serve\.json is missing"):
        bench_results.rendered(page, tmp_path)
