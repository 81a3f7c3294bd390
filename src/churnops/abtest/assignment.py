"""Which arm of an experiment a unit belongs to: a hash of the experiment's salt and the unit's
id mapped onto the arms' traffic shares. The same id always gets the same arm (across requests,
processes and restarts), ids spread over the arms in their shares, and two experiments with
different salts assign independently."""

from __future__ import annotations

import hashlib
import math
from bisect import bisect_right
from collections.abc import Sequence
from itertools import accumulate

_SCALE = float(1 << 64)


def unit_point(unit_id: str, salt: str) -> float:
    """A point in [0, 1) that depends on nothing but the salt and the id (the first 8 bytes of
    SHA-256 of "salt:id")."""
    digest = hashlib.sha256(f"{salt}:{unit_id}".encode()).digest()
    return int.from_bytes(digest[:8], "big") / _SCALE


class Splitter:
    """Arms and their traffic shares for one experiment salt.

    Raises:
        ValueError: no arms, a name repeated, a share outside (0, 1], or shares that do not sum
            to 1.
    """

    def __init__(self, salt: str, arms: Sequence[str], shares: Sequence[float]) -> None:
        if not arms or len(arms) != len(shares):
            raise ValueError(f"give one share per arm, got arms {list(arms)} and {list(shares)}")
        if len(set(arms)) != len(arms):
            raise ValueError(f"arm names must differ, got {list(arms)}")
        if any(not 0 < s <= 1 for s in shares) or not math.isclose(sum(shares), 1, abs_tol=1e-9):
            raise ValueError(f"the shares must be in (0, 1] and sum to 1, got {list(shares)}")
        self.salt = salt
        self.arms = tuple(arms)
        self._edges = list(accumulate(shares))[:-1]

    def arm(self, unit_id: str) -> str:
        """The arm of `unit_id`."""
        return self.arms[bisect_right(self._edges, unit_point(unit_id, self.salt))]
