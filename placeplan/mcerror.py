r"""Monte Carlo error: how far each headline figure would move with another seed.

A run estimates each figure of its headline table (the median, the 10th and 90th
percentiles over replications, the probability that nobody waits) from a finite
number of replications, so each carries a Monte Carlo standard error. It is not
the uncertainty of the forecast (the 80% interval is that); it is the error of
*computing* the forecast with ``n`` replications rather than infinitely many, and
it shrinks as :math:`1/\sqrt{n}`.

Methods
-------
Mean
    :math:`s/\sqrt{n}`, with :math:`s` the sample standard deviation (``ddof=1``).
Percentiles (10th, 50th, 90th)
    The **exact bootstrap** standard error (no resampling, so no seed: the same
    results always give the same error). Resampling ``n`` replications with
    replacement, the ``m``-th smallest resampled value equals the ``i``-th smallest
    observed value with probability

    .. math:: w_i = I_{i/n}(m, n-m+1) - I_{(i-1)/n}(m, n-m+1),

    :math:`I` the regularised incomplete beta function (the chance that a
    Binomial(n, i/n) count reaches m). The variance of the order statistic is
    then :math:`\sum_i w_i (x_{(i)} - \bar{x}_w)^2`: exactly what an infinite
    number of bootstrap resamples would give (Hutson and Ernst 2000; Maritz and
    Jarrett 1978 built the same estimator for the median). The percentiles are
    xarray's (linear between the order statistics ``j`` and ``j + 1``, weights
    ``1 - g`` and ``g``); their variance is bounded by ``(1 - g) V_j + g V_{j+1}``,
    which is used (conservative, and tight because neighbouring order statistics
    move together: within 5% at 200 replications).

    Why not the asymptotic formula :math:`\sqrt{p(1-p)/n} / f(x_p)` with a
    kernel estimate of the density :math:`f`? The headline is a count with many
    replications at exactly zero (nobody waits that long): at such an atom the
    density is infinite, a kernel estimate is set by its bandwidth, and the formula
    is wrong in both directions. The exact bootstrap needs no density and no
    bandwidth, and handles atoms and ties: a percentile well inside a block of
    equal values has error zero, one on its edge a large one.
Probability that nobody waits
    Binomial: :math:`\sqrt{p(1-p)/n}`. With ``p`` of 0 or 1 it is zero, although
    the true probability may differ: by the rule of three, 0 of ``n`` leaves an
    upper 95% bound of about ``3/n`` (:func:`rule_of_three`).

The criterion
-------------
The default number of replications should keep each figure's Monte Carlo error at
or below :data:`TARGET` (5%) of the width of the 80% interval (90th minus 10th
percentile) at that census, so that it is small beside the uncertainty the
forecast reports. Defined as follows (:func:`check`):

- the figures checked are those the table shows: median, 10th and 90th
  percentiles [children] and the probability that nobody waits; the mean's ratio
  is computed too (``mean_ratio``) but the mean is not shown, so it is not
  checked by default;
- a probability has no interval of its own: its error is set against the widest
  range a probability can have, [0, 1], so the criterion is 5 percentage points;
- **zero width.** When the 10th and 90th percentiles are equal (at least 80% of
  replications give the same number, say nobody waits) but replications differ,
  the width used is that of the 80% interval of a normal distribution with the
  replications' standard deviation, :math:`2 \cdot 1.2816\, s` ("as wide as the
  spread of the replications would make it"). When every replication gives the
  same number, every error is zero and the criterion holds (ratio 0): there is no
  Monte Carlo error to speak of.

For roughly normal outputs the ratios are :math:`1/(2.56\sqrt{n})` for the mean
(5% at n = 61), :math:`0.49/\sqrt{n}` for the median (n = 96) and
:math:`0.67/\sqrt{n}` for the 10th and 90th percentiles (n = 178): the
percentiles in the tails set the number of replications needed.

References
----------
Maritz, J. S. and Jarrett, R. G. (1978). A note on estimating the variance of the
sample median. *Journal of the American Statistical Association* 73(361), 194–196.

Hutson, A. D. and Ernst, M. D. (2000). The exact bootstrap mean and variance of an
L-estimator. *Journal of the Royal Statistical Society B* 62(1), 89–94.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
from scipy import special, stats

from placeplan import measures

if TYPE_CHECKING:
    from placeplan.results import Results

__all__ = [
    "FIGURES",
    "TARGET",
    "Z80",
    "Verdict",
    "check",
    "headline_errors",
    "mean_se",
    "notes",
    "proportion_se",
    "quantile_se",
    "replications_needed",
    "rule_of_three",
    "se_text",
    "with_se",
]

TARGET = 0.05
"""Largest Monte Carlo standard error allowed, as a share of the 80% interval's width [1]."""

Z80 = float(stats.norm.ppf(0.9))
"""The 90th percentile of the standard normal (1.2816): an 80% interval is ±Z80 sd [1]."""

FIGURES: tuple[str, ...] = ("median", "p10", "p90", "p_none")
"""The headline figures the criterion checks: those the table shows."""

_QUANTILES = {"p10": 0.1, "median": 0.5, "p90": 0.9}


def mean_se(values: np.ndarray, axis: int = 0) -> np.ndarray:
    """Monte Carlo standard error of the mean over replications: ``sd / sqrt(n)``.

    Parameters
    ----------
    values : numpy.ndarray
        Replications along ``axis`` [any units].
    axis : int
        The replication axis.

    Returns
    -------
    numpy.ndarray
        The standard error [units of ``values``]; NaN with fewer than two replications.
    """
    values = np.asarray(values, dtype=float)
    n = values.shape[axis]
    if n < 2:
        return np.full(np.delete(values.shape, axis), np.nan)
    return values.std(axis=axis, ddof=1) / np.sqrt(n)


def _order_statistic_variance(sorted_values: np.ndarray, m: int) -> np.ndarray:
    """Exact bootstrap variance of the ``m``-th smallest (1-based) of sorted columns."""
    n = sorted_values.shape[0]
    edges = special.betainc(m, n - m + 1, np.arange(n + 1) / n)
    w = np.diff(edges)  # P(resampled m-th smallest is the i-th smallest observed)
    w = w / w.sum()
    d = sorted_values - sorted_values[m - 1]  # about the m-th itself: equal values give 0
    centre = np.tensordot(w, d, axes=(0, 0))
    return np.tensordot(w, (d - centre) ** 2, axes=(0, 0))


def quantile_se(values: np.ndarray, q: float, axis: int = 0) -> np.ndarray:
    """Monte Carlo standard error of a percentile over replications (exact bootstrap).

    The percentile is the linear one of numpy and xarray (``method="linear"``).
    Deterministic: no resampling, no seed (see the module's notes).

    Parameters
    ----------
    values : numpy.ndarray
        Replications along ``axis`` [any units].
    q : float
        The quantile, in [0, 1] (0.1 for the 10th percentile).
    axis : int
        The replication axis.

    Returns
    -------
    numpy.ndarray
        The standard error [units of ``values``]; NaN with fewer than two replications.

    Raises
    ------
    ValueError
        If ``q`` is not in [0, 1].
    """
    if not 0 <= q <= 1:
        raise ValueError(f"q: expected a quantile in [0, 1], got {q!r}")
    x = np.sort(np.moveaxis(np.asarray(values, dtype=float), axis, 0), axis=0)
    n = x.shape[0]
    if n < 2:
        return np.full(x.shape[1:], np.nan)
    h = (n - 1) * q
    j = min(int(np.floor(h)), n - 2)  # 0-based: order statistics j + 1 and j + 2 (1-based)
    g = h - j
    variance = (1 - g) * _order_statistic_variance(x, j + 1) + g * _order_statistic_variance(
        x, j + 2
    )
    return np.sqrt(np.maximum(variance, 0.0))


def proportion_se(p: np.ndarray | float, n: int) -> np.ndarray:
    """Monte Carlo standard error of a share of ``n`` replications: ``sqrt(p (1 - p) / n)``.

    Parameters
    ----------
    p : float or numpy.ndarray
        The share [1].
    n : int
        Replications [1].

    Returns
    -------
    numpy.ndarray
        The standard error [1]; NaN with fewer than two replications.
    """
    p = np.asarray(p, dtype=float)
    if n < 2:
        return np.full(p.shape, np.nan)
    return np.sqrt(p * (1 - p) / n)


def rule_of_three(n: int) -> float:
    """Upper 95% bound on a probability never seen in ``n`` replications: ``3 / n`` [1]."""
    return min(1.0, 3.0 / n)


def replications_needed(n: int, ratio: float, target: float = TARGET) -> int:
    """Replications that would bring an error ratio to ``target``, as errors go with 1/sqrt(n).

    Parameters
    ----------
    n : int
        Replications run [1].
    ratio : float
        Monte Carlo error over width they gave [1].
    target : float
        The ratio wanted [1].

    Returns
    -------
    int
        ``n * (ratio / target)**2`` rounded up to two significant figures, at
        least ``n`` [1].
    """
    if not np.isfinite(ratio) or ratio <= target:
        return n
    raw = n * (ratio / target) ** 2
    step = 10 ** max(0, int(np.floor(np.log10(raw))) - 1)  # two significant figures, up
    return max(n, int(np.ceil(raw / step) * step))


def _censuses(da) -> tuple[np.ndarray, str]:
    """The snapshots the headline reports, as :meth:`Results.headline` picks them."""
    months = pd.to_datetime(da["time"].to_numpy()).month
    picked = np.flatnonzero(months == 1)
    if picked.size == 0:
        return np.arange(da.sizes["time"]), "every snapshot (no January census in the horizon)"
    return picked, "January"


def headline_errors(results: Results, variable: str = measures.HEADLINE) -> pd.DataFrame:
    """The headline figures with their Monte Carlo standard errors, at each census.

    Rows are the snapshots :meth:`Results.headline` reports (the January censuses,
    or every snapshot when the horizon has none).

    Parameters
    ----------
    results : Results
        The run.
    variable : str
        A total measure of the Dataset (the headline by default).

    Returns
    -------
    pandas.DataFrame
        Columns ``census``; ``mean``, ``median``, ``p10``, ``p90`` [units of the
        measure] and ``p_none`` [1], each with its standard error ``*_se``;
        ``width`` (90th minus 10th percentile) and ``reference_width`` (the width
        the criterion uses: see the module's notes) [units of the measure]; and
        ``*_ratio`` for each figure: its error over the reference width (over 1
        for ``p_none``) [1]. ``attrs`` holds ``replications`` and ``census``.
    """
    da = results.dataset[variable]
    picked, census = _censuses(da)
    rows = da.isel(time=picked).transpose("replicate", "time").to_numpy().astype(float)
    n = rows.shape[0]
    table = pd.DataFrame({"census": pd.to_datetime(da["time"].to_numpy()[picked]).date})
    table["mean"] = rows.mean(axis=0)
    table["mean_se"] = mean_se(rows)
    for name, q in _QUANTILES.items():
        table[name] = np.quantile(rows, q, axis=0)
        table[f"{name}_se"] = quantile_se(rows, q)
    table["p_none"] = (rows == 0).mean(axis=0)
    table["p_none_se"] = proportion_se(table["p_none"].to_numpy(), n)
    width = (table["p90"] - table["p10"]).to_numpy()
    sd = rows.std(axis=0, ddof=1) if n > 1 else np.full(rows.shape[1], np.nan)
    reference = np.where(width > 0, width, 2 * Z80 * sd)
    table["width"] = width
    table["reference_width"] = reference
    for name in ("mean", *_QUANTILES):
        se = table[f"{name}_se"].to_numpy()
        with np.errstate(invalid="ignore", divide="ignore"):
            ratio = np.where(reference > 0, se / np.where(reference > 0, reference, 1), 0.0)
        table[f"{name}_ratio"] = np.where(np.isnan(se), np.nan, ratio)
    table["p_none_ratio"] = table["p_none_se"]  # against [0, 1], the widest a probability has
    table = table[
        [
            "census",
            *(
                c
                for name in ("mean", "median", "p10", "p90", "p_none")
                for c in (name, f"{name}_se")
            ),
            "width",
            "reference_width",
            *(f"{name}_ratio" for name in ("mean", "median", "p10", "p90", "p_none")),
        ]
    ]
    table.attrs.update(replications=n, census=census, variable=variable)
    return table


@dataclass(frozen=True)
class Verdict:
    """Whether a run's Monte Carlo errors meet the criterion (:func:`check`).

    Attributes
    ----------
    met : bool or None
        True if every checked figure's error is within ``target`` of its reference
        width at every census; None if it cannot be told (fewer than two
        replications).
    replications : int
        Replications of the run [1].
    target : float
        The criterion: largest error over width [1].
    worst : float
        The largest ratio found [1] (NaN when it cannot be told).
    worst_at : str
        The census and figure of that ratio (e.g. ``"2031-01-16 p90"``).
    failures : tuple of (str, str, float)
        Every census, figure and ratio over the target.
    needed : int
        Replications that would bring the worst ratio to the target (errors go as
        1/sqrt(n)), at least ``replications`` [1].
    """

    met: bool | None
    replications: int
    target: float
    worst: float
    worst_at: str
    failures: tuple[tuple[str, str, float], ...]
    needed: int

    def sentence(self) -> str:
        """The verdict in one or two plain sentences, for the CLI and the report."""
        pct = f"{self.target:.0%}"
        if self.met is None:
            return (
                f"Monte Carlo error not estimated: {self.replications} replication cannot "
                "show it (run at least two)."
            )
        if self.met:
            return (
                f"Monte Carlo error is within {pct} of the 80% interval's width for every "
                f"figure at every census (largest {self.worst:.1%}: {_name(self.worst_at)})."
            )
        parts = []
        for fig in dict.fromkeys(f for _, f, _ in self.failures):
            hits = [(ratio, when) for when, f, ratio in self.failures if f == fig]
            ratio, when = max(hits)
            where = f"at {len(hits)} census" + ("es" if len(hits) > 1 else "")
            if fig == "p_none":  # against [0, 1]: the ratio is the error itself
                parts.append(
                    f"the {_FIGURE_NAMES[fig]} {where} (error up to {100 * ratio:.1f} "
                    f"percentage points, {when}; for a probability the limit is "
                    f"{100 * self.target:g} points)"
                )
            else:
                parts.append(f"the {_FIGURE_NAMES[fig]} {where} (up to {ratio:.1%}, {when})")
        more = (
            f"more than {MAX_SUGGESTED:,} replications"
            if self.needed > MAX_SUGGESTED
            else f"about {self.needed:,} replications (-n {self.needed})"
        )
        return (
            f"Monte Carlo error is NOT within {pct} of the 80% interval's width for "
            f"{_join(parts)}. Read those figures with their ± error; meeting {pct} everywhere "
            f"would take {more}."
        )


_FIGURE_NAMES = {
    "mean": "mean",
    "median": "median",
    "p10": "10th percentile",
    "p90": "90th percentile",
    "p_none": "probability that nobody waits",
}

MAX_SUGGESTED = 100_000
"""Most replications a verdict suggests (as many as one run may ask for) [1]."""


def _name(at: str) -> str:
    """``"2031-01-16 p90"`` -> ``"90th percentile, 2031-01-16"``."""
    when, _, fig = at.rpartition(" ")
    return f"{_FIGURE_NAMES.get(fig, fig)}, {when}" if when else at


def _join(parts: list[str]) -> str:
    return parts[0] if len(parts) == 1 else "; ".join(parts[:-1]) + "; and " + parts[-1]


def check(
    errors: pd.DataFrame, target: float = TARGET, figures: tuple[str, ...] = FIGURES
) -> Verdict:
    """Check the Monte Carlo errors of a headline table against the criterion.

    Parameters
    ----------
    errors : pandas.DataFrame
        From :func:`headline_errors`.
    target : float
        Largest error allowed, as a share of the reference width [1] (5%).
    figures : tuple of str
        Figures checked: of ``mean``, ``median``, ``p10``, ``p90``, ``p_none``
        (by default those the table shows, :data:`FIGURES`).

    Returns
    -------
    Verdict
    """
    n = int(errors.attrs["replications"])
    unknown = [f for f in figures if f"{f}_ratio" not in errors]
    if unknown:
        raise ValueError(f"figures: {unknown} are not among mean, median, p10, p90, p_none")
    if n < 2 or errors.empty:
        return Verdict(None if n < 2 else True, n, target, np.nan if n < 2 else 0.0, "", (), n)
    worst, worst_at, failures = -1.0, "", []
    for row in errors.itertuples(index=False):
        for fig in figures:
            ratio = float(getattr(row, f"{fig}_ratio"))
            if ratio > worst:
                worst, worst_at = ratio, f"{row.census} {fig}"
            if ratio > target + 1e-12:
                failures.append((str(row.census), fig, ratio))
    return Verdict(
        met=not failures,
        replications=n,
        target=target,
        worst=worst,
        worst_at=worst_at,
        failures=tuple(failures),
        needed=replications_needed(n, worst, target),
    )


def se_text(se: float, percent: bool = False) -> str:
    """A standard error as printed after its figure: ``±19``, ``±4.6``, ``±0``.

    Whole numbers from 10 up, one decimal below (so that a small error does not
    print as zero), nothing when it is unknown (NaN). With ``percent``, ``se`` is a
    share [1] printed in percentage points.
    """
    if se is None or not np.isfinite(se):
        return ""
    value = 100 * se if percent else se
    if value < 0.05:
        return "±0"
    return f"±{value:.0f}" if value >= 9.95 else f"±{value:.1f}"


def with_se(value: float, se: float, percent: bool = False) -> str:
    """A figure with its Monte Carlo error: ``132 ±19``, ``9% ±2.0``, or the figure alone."""
    shown = f"{value:.0%}" if percent else f"{value:.0f}"
    error = se_text(se, percent)
    return f"{shown} {error}" if error else shown


def notes(errors: pd.DataFrame, verdict: Verdict | None = None) -> list[str]:
    """Plain sentences under a headline table with errors: what ± means, and the verdict.

    Parameters
    ----------
    errors : pandas.DataFrame
        From :func:`headline_errors`.
    verdict : Verdict, optional
        From :func:`check` (computed with the defaults if omitted).

    Returns
    -------
    list of str
        One sentence on what ± is; the verdict (:meth:`Verdict.sentence`); and, when
        some probability is 0% or 100% (whose binomial error is zero), how close to
        it the truth is by the rule of three.
    """
    verdict = verdict or check(errors)
    n = verdict.replications
    out = []
    if verdict.met is not None:
        out.append(
            f"± is the Monte Carlo standard error: how far a figure could move with another "
            f"seed, from running {n:,} replications rather than infinitely many. It is not the "
            "forecast's uncertainty (the 80% interval is)."
        )
    out.append(verdict.sentence())
    p = errors["p_none"].to_numpy()
    if n >= 2 and ((p == 0) | (p == 1)).any():
        out.append(
            f"A probability of 0% or 100% has no binomial error; from {n:,} replications the "
            f"truth is within {100 * rule_of_three(n):.1f} percentage points of it (95% "
            "confidence, the rule of three)."
        )
    return out
