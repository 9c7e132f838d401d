"""Calibrating demand on the SEN2 series of every council at once, from any origin.

At an origin year ``O`` only what was known then is used: plans each January up to
``O``, new plans made in calendar years up to ``O - 1``, and plans in special schools
each January from 2019 up to ``O``. Three parameters are fitted per council, each
with its estimation uncertainty and its year-to-year variation:

- **growth of new plans** ``g`` [per year]: the mean yearly log growth of new plans
  over the last ``window`` years, shrunk towards the median council by its
  precision (a normal–normal empirical Bayes step, borrowing strength across
  councils); year-to-year variation: the standard deviation of those yearly
  growths, half the council's own, half the median council's (partial pooling);
- **ceasing** ``c`` [per year]: from the stock identity
  ``plans[y+1] = plans[y] (1 - c) + new[y]`` over the last three years (from 2016);
- **trend of the share needing a special school** ``tau`` [per year]: the mean
  yearly change since 2019 of the log of the *need share*, ``(special + waiting) /
  plans``, where ``special`` counts plans in special schools of every type
  (including independent and non-maintained) and ``waiting`` is the waiting signal
  of :mod:`placeplan.demand.need_share` (educated elsewhere, plus awaiting
  provision up to 2022), shrunk like ``g``. The share is modelled as a trend plus
  independent yearly deviations, so a deviation's sd is the yearly changes' sd
  over √2 and the trend's standard error is that sd over the number of years.

  Need, not placements: placements are capped by places, so where places run
  short the share of plans *placed* in special schools grows with the places, not
  with the need, and the excess shows as children educated elsewhere or awaiting
  provision. The same estimator on placements alone (``special / plans``) is kept
  as ``share_trend_placements``: it is what the calibration used to fit, and it
  forecasts the published placements series in the backtests.

Shrinkage (normal–normal empirical Bayes): each council's estimate is pulled
towards the median council with weight ``between / (between + se²)``, the
between-council variance estimated by moments (variance of the estimates less
their mean squared standard error), floored at :data:`BETWEEN_FLOOR` only if the
estimate falls below it (``Shrinkage.floored`` says when).

These are pure functions over arrays ``[area, ...]``.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np

from placeplan.demand.panel import Panel

__all__ = ["BETWEEN_FLOOR", "Fit", "Shrinkage", "fit", "project_totals", "share_trend"]

QUANTITIES = ("ehcp_plans", "special_school")
"""Quantities the backtests score against the published series."""

BETWEEN_FLOOR = 1e-4
"""Least between-council variance of a shrunk estimate [per year²] (sd 0.01 a year)."""


@dataclass(frozen=True)
class Shrinkage:
    """How a set of estimates was shrunk towards the median area.

    Attributes
    ----------
    centre : float
        The median of the unshrunk estimates.
    between_var : float
        Between-area variance used [per year²].
    between_var_estimated : float
        Its moment estimate (variance of the estimates less their mean squared
        standard error) [per year²]; NaN if too few areas.
    floored : bool
        Whether the estimate fell below :data:`BETWEEN_FLOOR` and the floor was used.
    """

    centre: float
    between_var: float
    between_var_estimated: float
    floored: bool


@dataclass(frozen=True)
class Fit:
    """Parameters fitted at one origin for each area (arrays ``[area]``).

    Attributes
    ----------
    origin : int
        January of the last stock used.
    growth, growth_se, growth_noise : numpy.ndarray
        Yearly log growth of new plans: estimate, its standard error, and the sd
        of a year's deviation [per year].
    cease, cease_se, cease_noise : numpy.ndarray
        Share of plans ceasing a year: estimate, standard error, sd of a year [per year].
    share_trend, share_trend_se, share_noise : numpy.ndarray
        Yearly change of the log need share (``(special + waiting) / plans``):
        shrunk estimate, its standard error, and the sd of a year's deviation from
        the trend [per year].
    share_trend_raw : numpy.ndarray
        The need share trend before shrinkage [per year].
    share_trend_placements, share_trend_placements_se, share_noise_placements : numpy.ndarray
        The same fitted to placements alone (``special / plans``), which places
        cap [per year].
    share_trend_placements_raw : numpy.ndarray
        The placements share trend before shrinkage [per year].
    plans0, new0 : numpy.ndarray
        Plans in January of the origin, and new plans in the year before it.
    share0, share0_placements : numpy.ndarray
        The need share and the special school (placements) share in January of
        the origin [1].
    years_used : numpy.ndarray
        Yearly growths of new plans behind ``growth`` [1].
    share_shrinkage, share_shrinkage_placements : Shrinkage
        How the two share trends were shrunk.
    """

    origin: int
    growth: np.ndarray
    growth_se: np.ndarray
    growth_noise: np.ndarray
    cease: np.ndarray
    cease_se: np.ndarray
    cease_noise: np.ndarray
    share_trend: np.ndarray
    share_trend_se: np.ndarray
    share_noise: np.ndarray
    share_trend_raw: np.ndarray
    share_trend_placements: np.ndarray
    share_trend_placements_se: np.ndarray
    share_noise_placements: np.ndarray
    share_trend_placements_raw: np.ndarray
    plans0: np.ndarray
    new0: np.ndarray
    share0: np.ndarray
    share0_placements: np.ndarray
    years_used: np.ndarray
    share_shrinkage: Shrinkage
    share_shrinkage_placements: Shrinkage


def _pooled_sd(own: np.ndarray) -> np.ndarray:
    """Half the area's own variance, half the median area's; the median where unknown."""
    pool = np.nanmedian(own) if np.isfinite(own).any() else 0.0
    return np.where(np.isfinite(own), np.sqrt(0.5 * own**2 + 0.5 * pool**2), pool)


def _shrink(raw: np.ndarray, se: np.ndarray) -> tuple[np.ndarray, np.ndarray, Shrinkage]:
    """Normal–normal shrinkage of estimates towards their median, by precision.

    Returns the shrunk estimates, their posterior standard deviations, and how.
    """
    ok = np.isfinite(raw) & np.isfinite(se)
    if ok.sum() < 3:
        return raw, se, Shrinkage(np.nan, np.nan, np.nan, False)
    centre = float(np.median(raw[ok]))
    estimated = float(np.var(raw[ok]) - np.mean(se[ok] ** 2))
    between = max(estimated, BETWEEN_FLOOR)
    weight = between / (between + se**2)
    how = Shrinkage(centre, between, estimated, estimated < BETWEEN_FLOOR)
    return weight * raw + (1 - weight) * centre, np.sqrt(weight) * se, how


def _yearly_sd(diffs: np.ndarray) -> np.ndarray:
    counts = np.isfinite(diffs).sum(axis=1)
    out = np.full(diffs.shape[0], np.nan)
    enough = counts >= 2
    if enough.any():
        out[enough] = np.nanstd(diffs[enough], axis=1, ddof=1)
    return out


def share_trend(count: np.ndarray, plans: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The unshrunk trend of the log share ``count / plans`` of each area.

    The mean of the yearly changes of the log share over the years given (gaps
    skipped), with the standard error of a trend plus independent yearly
    deviations: the yearly changes' sd (half the area's own, half the median
    area's) over the number of changes.

    Parameters
    ----------
    count : numpy.ndarray
        Children counted each January, ``[area, year]`` [children].
    plans : numpy.ndarray
        Plans each January, same shape [plans].

    Returns
    -------
    tuple of numpy.ndarray
        The trend, its standard error, and the sd of the yearly changes, each
        ``[area]`` [per year]; NaN where an area has no change.
    """
    with warnings.catch_warnings(), np.errstate(divide="ignore", invalid="ignore"):
        warnings.simplefilter("ignore", RuntimeWarning)
        share = count / plans
        changes = np.diff(np.log(np.where(share > 0, share, np.nan)), axis=1)
        k = np.maximum(np.isfinite(changes).sum(axis=1), 1)
        change_sd = _pooled_sd(_yearly_sd(changes))
        trend = np.nanmean(changes, axis=1) if changes.shape[1] else np.full(len(k), np.nan)
    return trend, change_sd / k, change_sd


def fit(p: Panel, origin: int, window: int = 4) -> Fit:
    """Fit the demand parameters of every area of a panel at an origin.

    Parameters
    ----------
    p : Panel
        SEN2 series (:func:`~placeplan.demand.panel.panel`).
    origin : int
        January of the last stock that may be used; new plans are used up to the
        calendar year ``origin - 1``.
    window : int
        Years of growth of new plans used.

    Returns
    -------
    Fit
    """
    if origin < 2019:
        raise ValueError("origins before 2019 have no special school series to fit")
    o = p.year(origin)
    with warnings.catch_warnings(), np.errstate(divide="ignore", invalid="ignore"):
        warnings.simplefilter("ignore", RuntimeWarning)
        log_new = np.log(np.where(p.new > 0, p.new, np.nan))
        growths = np.diff(log_new[:, o - 1 - window : o], axis=1)
        raw = np.nanmean(growths, axis=1)
        used = np.isfinite(growths).sum(axis=1)
        noise = _pooled_sd(_yearly_sd(growths))
        growth, growth_se, _ = _shrink(raw, noise / np.sqrt(np.maximum(used, 1)))

        first = max(p.year(2016), o - 3)
        years = np.arange(first, o)
        ceased = (p.plans[:, years] + p.new[:, years] - p.plans[:, years + 1]) / p.plans[:, years]
        cease = np.nanmean(ceased, axis=1)
        cease_noise = _pooled_sd(_yearly_sd(ceased))
        cease_se = cease_noise / np.sqrt(np.maximum(np.isfinite(ceased).sum(axis=1), 1))

        since = slice(p.year(2019), o + 1)
        plans = p.plans[:, since]
        need_raw, need_se, need_sd = share_trend(p.need[:, since], plans)
        need_trend, need_trend_se, need_how = _shrink(need_raw, need_se)
        placed_raw, placed_se, placed_sd = share_trend(p.special[:, since], plans)
        placed_trend, placed_trend_se, placed_how = _shrink(placed_raw, placed_se)
        share0 = p.need[:, o] / p.plans[:, o]
        share0_placements = p.special[:, o] / p.plans[:, o]
    return Fit(
        origin=origin,
        growth=growth,
        growth_se=growth_se,
        growth_noise=noise,
        cease=cease,
        cease_se=cease_se,
        cease_noise=cease_noise,
        share_trend=np.nan_to_num(need_trend),
        share_trend_se=np.nan_to_num(need_trend_se),
        share_noise=need_sd / np.sqrt(2),
        share_trend_raw=need_raw,
        share_trend_placements=np.nan_to_num(placed_trend),
        share_trend_placements_se=np.nan_to_num(placed_trend_se),
        share_noise_placements=placed_sd / np.sqrt(2),
        share_trend_placements_raw=placed_raw,
        plans0=p.plans[:, o],
        new0=p.new[:, o - 1],
        share0=share0,
        share0_placements=share0_placements,
        years_used=used,
        share_shrinkage=need_how,
        share_shrinkage_placements=placed_how,
    )


def project_totals(
    f: Fit, horizon: int, replications: int, rng: np.random.Generator, damping: float = 1.0
) -> dict[str, np.ndarray]:
    """Draw plans, special school plans and need for ``horizon`` years after the origin.

    The stock identity of the cohort model summed over ages:
    ``plans[y+1] = plans[y] (1 - c_y) + new[y]``, with log new plans a random walk
    with drift ``g`` and ``c_y`` varying around ``c``; each share follows its trend
    with independent yearly deviations. Parameters are drawn once per replication
    (estimation uncertainty), deviations once per year. The published placements
    series (``special_school``, which the backtests score) follows the placements
    share trend: it is capped by places, and a forecast of it carries that on; the
    children needing a special school (``specialist_need``) follow the need share
    trend.

    Parameters
    ----------
    f : Fit
        Fitted parameters.
    horizon : int
        Years ahead [years].
    replications : int
        Draws per area [1].
    rng : numpy.random.Generator
        Random stream.
    damping : float
        The drift of new plans in the ``k``-th year ahead is ``g * damping**(k - 1)``
        (1: no damping) [1].

    Returns
    -------
    dict
        ``ehcp_plans``, ``special_school`` and ``specialist_need``: arrays ``[area,
        year ahead, replication]`` [plans], NaN for areas that cannot be projected.
    """
    n = len(f.growth)
    shape = (n, replications)

    def draw(mean: np.ndarray, sd: np.ndarray) -> np.ndarray:
        return mean[:, None] + rng.standard_normal(shape) * sd[:, None]

    growth = draw(f.growth, f.growth_se)
    cease = draw(f.cease, f.cease_se)
    trend = draw(f.share_trend_placements, f.share_trend_placements_se)
    plans = np.repeat(f.plans0[:, None], replications, axis=1)
    log_new = np.repeat(np.log(np.where(f.new0 > 0, f.new0, np.nan))[:, None], replications, 1)
    with np.errstate(divide="ignore", invalid="ignore"):
        log_share0 = np.log(np.where(f.share0_placements > 0, f.share0_placements, np.nan))
        log_need0 = np.log(np.where(f.share0 > 0, f.share0, np.nan))
    out = {q: np.empty((n, horizon, replications)) for q in (*QUANTITIES, "specialist_need")}
    for h in range(1, horizon + 1):
        drift = growth * damping ** (h - 1)
        log_new = log_new + drift + rng.standard_normal(shape) * f.growth_noise[:, None]
        year_cease = np.clip(cease + rng.standard_normal(shape) * f.cease_noise[:, None], 0, 1)
        plans = np.maximum(plans * (1 - year_cease) + np.exp(log_new), 0.0)
        deviation = rng.standard_normal(shape) * f.share_noise_placements[:, None]
        share = np.minimum(np.exp(log_share0[:, None] + h * trend + deviation), 1.0)
        out["ehcp_plans"][:, h - 1] = plans
        out["special_school"][:, h - 1] = plans * share
    # need is drawn after the rest, so the draws of the published series stay those
    # of the same stream without it
    need_trend = draw(f.share_trend, f.share_trend_se)
    for h in range(1, horizon + 1):
        deviation = rng.standard_normal(shape) * f.share_noise[:, None]
        need = np.minimum(np.exp(log_need0[:, None] + h * need_trend + deviation), 1.0)
        out["specialist_need"][:, h - 1] = out["ehcp_plans"][:, h - 1] * need
    return out
