"""What every stage script shares: logging set-up and turning known errors into a clean exit."""

from __future__ import annotations

import logging
import sys
import time
from collections.abc import Callable

from churnops.data.schema import DataError
from churnops.files import InputFileError
from churnops.params import ParamsError

# Errors a user can fix (bad data, bad params, bad file): one clear line, no traceback.
USER_ERRORS = (DataError, InputFileError, ParamsError)


def run(name: str, main: Callable[[], None]) -> None:
    """Run a stage's `main`, exiting 2 with a one-line message on a user error."""
    logging.basicConfig(level=logging.INFO, format=f"{name}: %(message)s", stream=sys.stderr)
    start = time.perf_counter()
    try:
        main()
    except USER_ERRORS as exc:
        print(f"{name}: error: {exc}", file=sys.stderr)
        sys.exit(2)
    logging.getLogger(name).info("done in %.1f s", time.perf_counter() - start)
