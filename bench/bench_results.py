"""A benchmark run's figures kept as a file, and the docs' tables rendered from it.

A bench script collects its figures in a `Results` as it prints them and saves them at the end
(default `bench/results/<name>.json`; `--results PATH` elsewhere). A page of docs/ holds a
benchmark's table between `<!-- bench:NAME -->` and `<!-- /bench:NAME -->`;
`python bench/bench_results.py` rewrites those blocks from the files, and `--check` fails when
a page says anything else (tests/test_bench_results.py checks the same), so no figure is typed
by hand.

Usage: python bench/bench_results.py [--check]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import shlex
import sys
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
FOLDER = ROOT / "bench" / "results"
DOCS = ROOT / "docs"
_BLOCK = re.compile(
    r"(<!-- bench:(?P<name>[\w-]+) -->\n)(?P<body>.*?)(<!-- /bench:(?P=name) -->)", re.S
)


def add_option(parser: argparse.ArgumentParser, name: str) -> None:
    """The script's `--results PATH` option (default bench/results/NAME.json)."""
    parser.add_argument(
        "--results",
        type=Path,
        default=FOLDER / f"{name}.json",
        help=f"where to keep this run's figures (default: bench/results/{name}.json, which "
        "docs/benchmarks.md is rendered from)",
    )


@dataclass
class Results:
    """One run's figures, in the order the script prints them."""

    name: str
    rows: list[dict[str, str]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def add(self, figure: str, value: str, target: str = "") -> None:
        self.rows.append({"figure": figure, "value": value, "target": target})

    def note(self, text: str) -> None:
        self.notes.append(text)

    def save(self, path: Path, argv: list[str]) -> None:
        """Write the run to `path` (whole or not at all): the command as run (without
        `--results`), the date, the machine's CPUs and Python, the figures."""
        shown = _without_results(argv)
        data = {
            "benchmark": self.name,
            "command": shlex.join(["python", f"bench/{self.name}.py", *shown]),
            "date": date.today().isoformat(),
            "cpus": os.cpu_count(),
            "python": platform.python_version(),
            "rows": self.rows,
            "notes": self.notes,
        }
        path.parent.mkdir(parents=True, exist_ok=True)
        partial = path.with_name(path.name + ".partial")
        partial.write_text(json.dumps(data, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
        partial.replace(path)
        print(f"\nfigures kept in {path}; `python bench/bench_results.py` puts them in the docs")


def _without_results(argv: list[str]) -> list[str]:
    shown, skip = [], False
    for arg in argv:
        if skip:
            skip = False
        elif arg == "--results":
            skip = True
        elif not arg.startswith("--results="):
            shown.append(arg)
    return shown


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def render(data: dict) -> str:
    """A benchmark's block of docs/benchmarks.md: where the figures come from, the table, notes."""
    lines = [
        f"`{data['command']}`, run {data['date']} on {data['cpus']} CPUs, Python "
        f"{data['python']} (`bench/results/{data['benchmark']}.json`):",
        "",
        "| figure | value | target |",
        "|---|---|---|",
    ]
    lines += [
        f"| {_cell(r['figure'])} | {_cell(r['value'])} | {_cell(r['target'])} |"
        for r in data["rows"]
    ]
    lines += ["", *data["notes"]] if data["notes"] else []
    return "\n".join(lines) + "\n"


def rendered(text: str, folder: Path = FOLDER) -> str:
    """`text` with every bench block rewritten from its results file.

    Raises:
        SystemExit: a block names a benchmark with no results file.
    """

    def block(match: re.Match) -> str:
        path = folder / f"{match['name']}.json"
        if not path.is_file():
            raise SystemExit(f"a page shows bench:{match['name']}, but {path} is missing")
        data = json.loads(path.read_text(encoding="utf-8"))
        return match.group(1) + render(data) + match.group(4)

    return _BLOCK.sub(block, text)


def blocks(text: str) -> list[str]:
    """The benchmarks the page shows, in order."""
    return [m["name"] for m in _BLOCK.finditer(text)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="exit 1 if a page is not current")
    args = parser.parse_args()
    stale = []
    for page in sorted(DOCS.glob("*.md")):
        text = page.read_text(encoding="utf-8")
        new = rendered(text)
        if new == text:
            continue
        stale.append(page.relative_to(ROOT).as_posix())
        if not args.check:
            page.write_text(new, encoding="utf-8")
            print(f"{stale[-1]}: {len(blocks(new))} benchmark table(s) from bench/results/")
    if args.check and stale:
        sys.exit(f"{', '.join(stale)} differ from bench/results/: run bench/bench_results.py")


if __name__ == "__main__":
    main()
