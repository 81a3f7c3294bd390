"""Every command shown in the README and docs/ still works as written: each `make` target exists,
each `churnops` and `dvc` command (with every option its synopsis lists) is accepted by the real
argument parser, each `dvc exp run -S key=value` names a params key, and the rest are shell
commands named here with the test that covers them. `make repro`, `make test` and `make
test-slow` themselves run in CI."""

from __future__ import annotations

import contextlib
import io
import itertools
import re
import shlex
import textwrap

import pytest
from dvc.cli import DvcParserError
from dvc.cli import parse_args as dvc_parse

from churnops import cli
from churnops.params import get, load_params
from tests.conftest import ROOT, TEST_PARAMS

DOCS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
SHELL = {
    "source": "activates the environment `make setup` creates",
    "curl": "the same /feedback request is sent by tests/test_api.py",
    "git": "the two clones of tests/test_remote.py; git's own commands",
    "cd": "changes folder",
    "gto": "`gto show` is run by tests/test_registry.py",
}


def documented_commands() -> list[tuple[str, str]]:
    """(file, command) for each command in a ```bash block; continuation lines (a trailing
    backslash, or an indented synopsis line) joined; comments dropped; synopsis brackets kept
    with the first of their alternatives, so every documented option is checked."""
    found = []
    for path in DOCS:
        blocks = re.findall(r"```bash\n(.*?)```", path.read_text(encoding="utf-8"), re.S)
        for block in map(textwrap.dedent, blocks):  # a block inside a list item is indented
            current = ""
            for line in block.splitlines():
                code = re.sub(r"\s+#.*$", "", line).rstrip()
                if not code.strip() or code.lstrip().startswith("#"):
                    continue
                if current.endswith("\\") or (current and code.startswith((" ", "\t"))):
                    current = current.rstrip("\\").rstrip() + " " + code.strip()
                    continue
                if current:
                    found.append((path.name, current))
                current = code.strip()
            if current:
                found.append((path.name, current))
    # `a && b` is two commands
    return [(f, _expand(part.strip())) for f, c in found for part in c.split(" && ")]


def _expand(command: str) -> str:
    """`[--policy reject|flag]` -> `--policy reject`: the synopsis's first alternative."""
    return re.sub(r"\[([^\]]*)\]", lambda m: m.group(1).split("|")[0], command)


COMMANDS = documented_commands()


def test_the_docs_show_commands():
    programs = {shlex.split(c)[0] for _, c in COMMANDS}
    assert {"make", "churnops", "dvc"} <= programs


@pytest.mark.parametrize(("doc", "command"), COMMANDS, ids=[c for _, c in COMMANDS])
def test_each_documented_command_is_valid(doc, command):
    words = shlex.split(command)
    while re.fullmatch(r"[A-Z][A-Z0-9_]*=.*", words[0]):  # `VAR=value command`: its environment
        assert words[0].startswith(("CHURNOPS_", "DVC_")), f"{doc}: {command}: unknown variable"
        words = words[1:]
    program, args = words[0], words[1:]
    if program == "make":
        makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
        for target in (a for a in args if "=" not in a):  # VAR=value sets a make variable
            assert re.search(rf"^{re.escape(target)}:", makefile, re.M), f"{doc}: {command}"
    elif program == "churnops":
        with contextlib.redirect_stderr(io.StringIO()) as err:
            try:
                cli.build_parser().parse_args(args)
            except SystemExit:
                pytest.fail(f"{doc}: {command}: {err.getvalue().strip()}")
    elif program == "dvc":
        with contextlib.redirect_stderr(io.StringIO()) as err:
            try:
                dvc_parse(args)
            except (SystemExit, DvcParserError):
                pytest.fail(f"{doc}: {command}: {err.getvalue().strip()}")
        params = load_params(TEST_PARAMS)
        for flag, value in itertools.pairwise(args):
            if flag == "-S":  # `dvc exp run -S key=value`: the key is a params key
                get(params, value.split("=", 1)[0])
    elif program == "dask":  # `dask scheduler|worker`: distributed's own click commands parse
        from distributed.cli import dask_scheduler, dask_worker

        command_of = {"scheduler": dask_scheduler.main, "worker": dask_worker.main}
        assert args[:1] in ([name] for name in command_of), f"{doc}: {command}"
        command_of[args[0]].make_context(f"dask {args[0]}", list(args[1:]))
    else:
        assert program in SHELL, f"{doc}: {command}: a command nobody checks"


def test_the_check_catches_a_stale_option():
    stale = _expand("churnops predict --input a.csv --output b.parquet [--chunks 5]")
    with contextlib.redirect_stderr(io.StringIO()), pytest.raises(SystemExit):
        cli.build_parser().parse_args(shlex.split(stale)[1:])
    with contextlib.redirect_stderr(io.StringIO()), pytest.raises((SystemExit, DvcParserError)):
        dvc_parse(["exp", "show", "--dropp", "x"])


README_WORDS = 600


def test_the_readme_stays_one_page():
    """The README is what it is, the two commands, the picture and where to read next; the rest
    belongs in docs/ (every whitespace-separated word counts, code and tables included)."""
    words = len((ROOT / "README.md").read_text(encoding="utf-8").split())
    assert words <= README_WORDS, f"README.md has {words} words, over {README_WORDS}"
