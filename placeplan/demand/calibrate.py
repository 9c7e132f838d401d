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
- **special school share trend** ``tau`` [per year]: the mean yearly change of the log
  share of plans in special schools since 2019, shrunk like ``g``; the share is
  modelled as a trend plus independent yearly deviations (it moves with places,
  which change slowly), so a deviation's sd is the yearly changes' sd over √2 and
  the trend's standard error is that sd over the number of years.

These are pure functions over arrays ``[area, ...]``.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np

from placeplan.demand.panel import Panel

__all__ = ["Fit", "fit", "project_totals"]

QUANTITIES = ("ehcp_plans", "special_school")


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
        Yearly change of the log special school share: estimate, standard error,
        and the sd of a year's deviation from the trend [per year].
    plans0, new0, share0 : numpy.ndarray
        Plans in January of the origin, new plans in the year before it, and the
        special school share in January of the origin.
    years_used : numpy.ndarray
        Yearly growths of new plans behind ``growth`` [1].
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
    plans0: np.ndarray
    new0: np.ndarray
    share0: np.ndarray
    years_used: np.ndarray


def _pooled_sd(own: np.ndarray) -> np.ndarray:
    """Half the area's own variance, half the median area's; the median where unknown."""
    pool = np.nanmedian(own) if np.isfinite(own).any() else 0.0
    return np.where(np.isfinite(own), np.sqrt(0.5 * own**2 + 0.5 * pool**2), pool)


def _shrink(raw: np.ndarray, se: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Normal–normal shrinkage of estimates towards their median, by precision.

    Returns the shrunk estimates and their posterior standard deviations.
    """
    ok = np.isfinite(raw) & np.isfinite(se)
    if ok.sum() < 3:
        return raw, se
    centre = np.median(raw[ok])
    between = max(np.var(raw[ok]) - np.mean(se[ok] ** 2), 1e-4)
    weight = between / (between + se**2)
    return weight * raw + (1 - weight) * centre, np.sqrt(weight) * se


def _yearly_sd(diffs: np.ndarray) -> np.ndarray:
    counts = np.isfinite(diffs).sum(axis=1)
    out = np.full(diffs.shape[0], np.nan)
    enough = counts >= 2
    if enough.any():
        out[enough] = np.nanstd(diffs[enough], axis=1, ddof=1)
    return out


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
        growth, growth_se = _shrink(raw, noise / np.sqrt(np.maximum(used, 1)))

        first = max(p.year(2016), o - 3)
        years = np.arange(first, o)
        ceased = (p.plans[:, years] + p.new[:, years] - p.plans[:, years + 1]) / p.plans[:, years]
        cease = np.nanmean(ceased, axis=1)
        cease_noise = _pooled_sd(_yearly_sd(ceased))
        cease_se = cease_noise / np.sqrt(np.maximum(np.isfinite(ceased).sum(axis=1), 1))

        start = p.year(2019)
        share = p.special[:, start : o + 1] / p.plans[:, start : o + 1]
        log_share = np.log(np.where(share > 0, share, np.nan))
        changes = np.diff(log_share, axis=1)
        k = np.maximum(np.isfinite(changes).sum(axis=1), 1)
        change_sd = _pooled_sd(_yearly_sd(changes))
        trend_raw = np.nanmean(changes, axis=1) if changes.shape[1] else np.zeros(len(k))
        share_trend, share_trend_se = _shrink(trend_raw, change_sd / k)
    return Fit(
        origin=origin,
        growth=growth,
        growth_se=growth_se,
        growth_noise=noise,
        cease=cease,
        cease_se=cease_se,
        cease_noise=cease_noise,
        share_trend=np.nan_to_num(share_trend),
        share_trend_se=np.nan_to_num(share_trend_se),
        share_noise=change_sd / np.sqrt(2),
        plans0=p.plans[:, o],
        new0=p.new[:, o - 1],
        share0=p.special[:, o] / p.plans[:, o],
        years_used=used,
    )


def project_totals(
    f: Fit, horizon: int, replications: int, rng: np.random.Generator, damping: float = 1.0
) -> dict[str, np.ndarray]:
    """Draw plans and special school plans for ``horizon`` years after the origin.

    The stock identity of the cohort model summed over ages:
    ``plans[y+1] = plans[y] (1 - c_y) + new[y]``, with log new plans a random walk
    with drift ``g`` and ``c_y`` varying around ``c``; the special school share
    follows its trend with independent yearly deviations. Parameters are drawn
    once per replication (estimation uncertainty), deviations once per year.

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
        ``ehcp_plans`` and ``special_school``: arrays ``[area, year ahead, replication]``
        [plans], NaN for areas that cannot be projected.
    """
    n = len(f.growth)
    shape = (n, replications)

    def draw(mean: np.ndarray, sd: np.ndarray) -> np.ndarray:
        return mean[:, None] + rng.standard_normal(shape) * sd[:, None]

    growth = draw(f.growth, f.growth_se)
    cease = draw(f.cease, f.cease_se)
    trend = draw(f.share_trend, f.share_trend_se)
    plans = np.repeat(f.plans0[:, None], replications, axis=1)
    log_new = np.repeat(np.log(np.where(f.new0 > 0, f.new0, np.nan))[:, None], replications, 1)
    log_share0 = np.log(np.where(f.share0 > 0, f.share0, np.nan))[:, None]
    out = {q: np.empty((n, horizon, replications)) for q in QUANTITIES}
    for h in range(1, horizon + 1):
        drift = growth * damping ** (h - 1)
        log_new = log_new + drift + rng.standard_normal(shape) * f.growth_noise[:, None]
        year_cease = np.clip(cease + rng.standard_normal(shape) * f.cease_noise[:, None], 0, 1)
        plans = np.maximum(plans * (1 - year_cease) + np.exp(log_new), 0.0)
        deviation = rng.standard_normal(shape) * f.share_noise[:, None]
        share = np.minimum(np.exp(log_share0 + h * trend + deviation), 1.0)
        out["ehcp_plans"][:, h - 1] = plans
        out["special_school"][:, h - 1] = plans * share
    return out
