"""The statistics of an A/B test on a binary outcome: the sample size to plan, Wilson intervals
per arm, the difference and relative lift with intervals, the guide's chi-square test, the
sample-ratio-mismatch check, and a sequential boundary that keeps the false-positive rate at
alpha however often the test is looked at before its planned sample.

Pure functions of counts; no data frames, no files.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from scipy import optimize
from scipy import stats as sps

SRM_ALPHA = 0.001  # a sample-ratio mismatch at this level invalidates the result


def _z(p: float) -> float:
    return float(sps.norm.ppf(p))


def sample_size(baseline: float, mde: float, *, alpha: float = 0.05, power: float = 0.8) -> int:
    """Units per arm (equal arms) for a two-sided test of two proportions to detect the absolute
    difference `mde` from `baseline` with `power` (the normal approximation with the pooled
    variance under the null and the separate variances under the alternative).

    Raises:
        ValueError: a rate outside (0, 1), or alpha/power outside (0, 1).
    """
    other = baseline + mde
    for name, value in (("baseline", baseline), ("baseline + mde", other)):
        if not 0 < value < 1:
            raise ValueError(f"{name} must be a rate in (0, 1), got {value!r}")
    for name, value in (("alpha", alpha), ("power", power)):
        if not 0 < value < 1:
            raise ValueError(f"{name} must be in (0, 1), got {value!r}")
    if mde == 0:
        raise ValueError("the minimum detectable effect must not be 0")
    pooled = (baseline + other) / 2
    null = _z(1 - alpha / 2) * math.sqrt(2 * pooled * (1 - pooled))
    alternative = _z(power) * math.sqrt(baseline * (1 - baseline) + other * (1 - other))
    return math.ceil((null + alternative) ** 2 / mde**2)


def wilson(successes: int, n: int, confidence: float = 0.95) -> tuple[float, float]:
    """The Wilson score interval of a proportion ((0, 1) when n is 0)."""
    if n == 0:
        return 0.0, 1.0
    z = _z(1 - (1 - confidence) / 2)
    p = successes / n
    centre = p + z * z / (2 * n)
    margin = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n))
    scale = 1 + z * z / n
    return max(0.0, (centre - margin) / scale), min(1.0, (centre + margin) / scale)


def difference(
    k_a: int, n_a: int, k_b: int, n_b: int, confidence: float = 0.95
) -> tuple[float, float, float]:
    """rate_b - rate_a with Newcombe's hybrid score interval (from the two Wilson intervals).

    Raises:
        ValueError: an arm with no units.
    """
    if n_a == 0 or n_b == 0:
        raise ValueError(f"both arms need units, got {n_a} and {n_b}")
    p_a, p_b = k_a / n_a, k_b / n_b
    low_a, high_a = wilson(k_a, n_a, confidence)
    low_b, high_b = wilson(k_b, n_b, confidence)
    delta = p_b - p_a
    low = delta - math.sqrt((p_b - low_b) ** 2 + (high_a - p_a) ** 2)
    high = delta + math.sqrt((high_b - p_b) ** 2 + (p_a - low_a) ** 2)
    return delta, low, high


def relative_lift(
    k_a: int, n_a: int, k_b: int, n_b: int, confidence: float = 0.95
) -> tuple[float, float, float] | None:
    """rate_b / rate_a - 1 with the log-ratio (Katz) interval; None when either arm has no
    success (the ratio is not defined)."""
    if k_a == 0 or k_b == 0:
        return None
    ratio = (k_b / n_b) / (k_a / n_a)
    se = math.sqrt(1 / k_b - 1 / n_b + 1 / k_a - 1 / n_a)
    z = _z(1 - (1 - confidence) / 2)
    return ratio - 1, ratio * math.exp(-z * se) - 1, ratio * math.exp(z * se) - 1


def chi_square(k_a: int, n_a: int, k_b: int, n_b: int) -> tuple[float, float]:
    """The guide's test: chi-square on the 2x2 table of successes and failures (with Yates'
    continuity correction, as scipy's `chi2_contingency` applies it); (statistic, p-value)."""
    table = [[k_a, n_a - k_a], [k_b, n_b - k_b]]
    result = sps.chi2_contingency(table)
    return float(result.statistic), float(result.pvalue)


def z_statistic(k_a: int, n_a: int, k_b: int, n_b: int) -> float:
    """The two-proportion z statistic (pooled variance) of rate_b - rate_a; 0 when it is not
    defined (no unit, or every unit alike)."""
    if n_a == 0 or n_b == 0:
        return 0.0
    pooled = (k_a + k_b) / (n_a + n_b)
    variance = pooled * (1 - pooled) * (1 / n_a + 1 / n_b)
    if variance == 0:
        return 0.0
    return (k_b / n_b - k_a / n_a) / math.sqrt(variance)


def srm(counts: list[int], shares: list[float]) -> tuple[float, float]:
    """Sample-ratio mismatch: chi-square goodness of fit of the units per arm against the
    planned shares; (statistic, p-value). A p-value below SRM_ALPHA invalidates the result.

    Raises:
        ValueError: the counts and shares differ in length, or the shares do not sum to 1.
    """
    if len(counts) != len(shares):
        raise ValueError(f"{len(counts)} arm counts for {len(shares)} shares")
    if not math.isclose(sum(shares), 1.0, abs_tol=1e-9):
        raise ValueError(f"the arms' shares must sum to 1, got {sum(shares)!r}")
    total = sum(counts)
    if total == 0:
        return 0.0, 1.0
    result = sps.chisquare(counts, [s * total for s in shares])
    return float(result.statistic), float(result.pvalue)


def _sup_brownian_below(c: float) -> float:
    """P(max over [0, 1] of |B(t)| < c) for a standard Brownian motion (the series of the
    reflection principle; 50 terms are exact to double precision for c > 0.3)."""
    total = 0.0
    for k in range(50):
        odd = 2 * k + 1
        total += (-1) ** k / odd * math.exp(-(odd**2) * math.pi**2 / (8 * c * c))
    return 4 / math.pi * total


def boundary_constant(alpha: float) -> float:
    """c such that a standard Brownian motion leaves [-c, c] before t = 1 with probability
    `alpha`: the sequential boundary |z| >= c / sqrt(t) (an O'Brien-Fleming shape: strict early,
    c at the planned sample) then holds the false-positive rate at `alpha` however many interim
    looks are taken (c = 2.2414 at alpha = 0.05, where a single fixed look needs 1.96)."""
    if not 0 < alpha < 1:
        raise ValueError(f"alpha must be in (0, 1), got {alpha!r}")
    return float(optimize.brentq(lambda c: 1 - _sup_brownian_below(c) - alpha, 0.5, 10))


def sequential_inflation(alpha: float, power: float) -> float:
    """How many more units the sequential boundary needs for the same power as a single look:
    ((c + z_power) / (z_{1-alpha/2} + z_power))^2 (1.211 at alpha 0.05, power 0.8)."""
    return ((boundary_constant(alpha) + _z(power)) / (_z(1 - alpha / 2) + _z(power))) ** 2


def planned_units(
    baseline: float, mde: float, *, alpha: float, power: float, sequential: bool = True
) -> int:
    """Units per arm to plan: `sample_size`, times `sequential_inflation` when the result may be
    looked at before the end."""
    fixed = sample_size(baseline, mde, alpha=alpha, power=power)
    return math.ceil(fixed * sequential_inflation(alpha, power)) if sequential else fixed


@dataclass(frozen=True)
class Look:
    """One interim or final look under the sequential boundary."""

    information: float  # units so far / planned units, per arm (the smaller arm)
    z: float
    boundary: float  # |z| must reach this
    crossed: bool
    final: bool  # the planned sample is reached: the verdict no longer waits


def look(k_a: int, n_a: int, k_b: int, n_b: int, *, planned: int, alpha: float) -> Look:
    """The z statistic against the boundary c / sqrt(t), t the share of the planned units per
    arm reached (at most 1: at the planned sample the boundary is c and the look is final).

    Raises:
        ValueError: the planned units per arm are not positive.
    """
    if planned <= 0:
        raise ValueError(f"the planned units per arm must be positive, got {planned!r}")
    information = min(n_a, n_b) / planned
    t = min(max(information, 1e-12), 1.0)
    boundary = boundary_constant(alpha) / math.sqrt(t)
    z = z_statistic(k_a, n_a, k_b, n_b)
    return Look(
        information=information,
        z=z,
        boundary=boundary,
        crossed=abs(z) >= boundary,
        final=information >= 1,
    )
