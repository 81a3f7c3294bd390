import logging

import pytest

from churnops.data.schema import DataError
from churnops.stage import run


def test_user_errors_exit_2_with_one_line(capsys):
    def main():
        raise DataError("column 'x' is entirely empty")

    with pytest.raises(SystemExit) as stopped:
        run("prepare", main)
    assert stopped.value.code == 2
    assert capsys.readouterr().err.strip().endswith("prepare: error: column 'x' is entirely empty")


def test_bugs_are_not_disguised_as_user_errors():
    def main():
        raise KeyError("bug")

    with pytest.raises(KeyError, match="bug"):
        run("train", main)


def test_success_logs_the_time(caplog):
    with caplog.at_level(logging.INFO):
        run("evaluate", lambda: None)
    assert any("done in" in r.getMessage() for r in caplog.records)
