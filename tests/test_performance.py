"""Performance at the served threshold: the Wilson bound by hand."""

from __future__ import annotations

import pytest

from churnops.monitoring import performance


def test_wilson_upper_bound():
    assert performance.wilson_upper(80, 100, 0.95) == pytest.approx(0.86663, abs=1e-4)  # by hand
    assert performance.wilson_upper(0, 0, 0.95) == 1.0
