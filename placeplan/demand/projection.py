"""The cohort projection of plans, for one replication or many at once.

The run (:func:`~placeplan.demand.referrals.draw_cohort_demand`, one replication)
and the backtests (:mod:`placeplan.demand.backtest`, thousands of draws per
council) project plans with these same functions, so the backtests score the
model that runs. Leading dimensions (replications) broadcast throughout.
"""

from __future__ import annotations

import numpy as np

from placeplan.demand.cohort import project
from placeplan.demand.inputs import CohortInputs

__all__ = ["ceasing_share", "new_plans_log_factor", "project_plans", "share_path"]


def new_plans_log_factor(
    ahead: np.ndarray,
    growth: np.ndarray | float,
    damping: np.ndarray | float,
    steps: np.ndarray,
    transient: np.ndarray | None = None,
    anchor: np.ndarray | float = 0.0,
) -> np.ndarray:
    """Log of new plans in projected years, relative to the last year published.

    ``log factor[k] = anchor + sum_{j<k} (growth damping**j + steps[j]) + transient[k-1]``
    for ``k >= 1`` years after the last published year, and 0 for that year itself.
    The steps accumulate (a random walk: the national path's shocks); the transient
    deviations do not (a council's own noise around its trend); the anchor moves the
    start from the last published value to the fitted level
    (:class:`~placeplan.demand.hierarchy.GrowthFit`).

    Parameters
    ----------
    ahead : numpy.ndarray
        Years after the last published year of each projected year, ``[year]`` [years].
    growth, damping : numpy.ndarray or float
        Drift [per year] and its yearly damping [1], shape ``[...]``.
    steps : numpy.ndarray
        Yearly deviations of the drift, ``[..., max(ahead)]`` [per year].
    transient : numpy.ndarray, optional
        Each year's own deviation, ``[..., max(ahead)]`` [1, log].
    anchor : numpy.ndarray or float
        Start of the projection relative to the last published value [1, log].

    Returns
    -------
    numpy.ndarray
        ``[..., year]`` [1, log].
    """
    ahead = np.asarray(ahead, dtype=int)
    steps = np.asarray(steps, dtype=float)
    total = steps.shape[-1]
    growth = np.asarray(growth, dtype=float)[..., None]
    damping = np.asarray(damping, dtype=float)[..., None]
    walk = np.cumsum(growth * damping ** np.arange(total) + steps, axis=-1)
    level = np.asarray(anchor, dtype=float)[..., None] + walk
    if transient is not None:
        level = level + transient
    zero = np.zeros((*level.shape[:-1], 1))
    return np.concatenate([zero, level], axis=-1)[..., ahead]


def project_plans(
    inputs: CohortInputs,
    log_factor: np.ndarray,
    cease_rate: np.ndarray,
    recoding: np.ndarray | float,
    plans_factor: np.ndarray | None = None,
    cease_deviation: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Plans each January and the new plans behind them.

    Parameters
    ----------
    inputs : CohortInputs
        The council's SEN2-derived arrays.
    log_factor : numpy.ndarray
        ``[..., year]`` log new plans of calendar years ``base_year + y`` relative to
        ``inputs.new_plans`` (:func:`new_plans_log_factor`) [1].
    cease_rate : numpy.ndarray
        ``[..., age]`` [per year].
    recoding : numpy.ndarray or float
        Share of plans re-recorded each year ``[...]`` [per year].
    plans_factor : numpy.ndarray, optional
        ``[year]`` multiplier of new plans from dated levers [1].
    cease_deviation : numpy.ndarray, optional
        ``[..., year]`` deviation of each year's share of plans ceasing from its mean
        [per year]; every age's rate moves in proportion, so the share of all plans
        ceasing moves by the deviation (never below none).

    Returns
    -------
    stock, new_by_year : numpy.ndarray
        Plans each January from the base, ``[..., year + 1, age, need]`` [plans], and
        new plans made in each calendar year, ``[..., year, age, need]`` [plans per year].
    """
    factor = np.exp(log_factor)
    if plans_factor is not None:
        factor = factor * plans_factor
    new_by_year = inputs.new_plans * factor[..., None, None]
    cease_factor = None
    if cease_deviation is not None:
        mean = ceasing_share(inputs.stock, cease_rate)
        cease_factor = np.maximum(1.0 + np.asarray(cease_deviation) / mean[..., None], 0.0)
    stock = project(inputs.stock, cease_rate, new_by_year, inputs.need_mix, recoding, cease_factor)
    return stock, new_by_year


def ceasing_share(stock: np.ndarray, cease_rate: np.ndarray) -> np.ndarray:
    """The share of all plans ceasing in a year at given rates by age (the oldest excepted).

    Parameters
    ----------
    stock : numpy.ndarray
        ``[age, need]`` plans [plans].
    cease_rate : numpy.ndarray
        ``[..., age]`` [per year].

    Returns
    -------
    numpy.ndarray
        ``[...]`` [per year]; a tiny positive number where nothing ceases.
    """
    by_age = stock.sum(axis=-1)[:-1]
    rate = np.clip(np.asarray(cease_rate, dtype=float), 0.0, 1.0)[..., :-1]
    return np.maximum((rate * by_age).sum(axis=-1) / max(by_age.sum(), 1e-9), 1e-9)


def share_path(
    stock: np.ndarray, share0: np.ndarray, trend: np.ndarray | float, years: np.ndarray
) -> np.ndarray:
    """A share by age and need whose total over the stock moves by a trend.

    The trend is fitted on the share of *all* plans (SEN2 publishes no share by age
    before 2024), so it already holds the change of the plans' age mix. Applying it
    to each age's share on top of the projection's own ageing would count that
    change twice. So the shares by age keep their base pattern, scaled each year so
    that the share of all plans is ``share0_total × exp(trend y)``:
    ``share[y] = min(share0 × exp(trend y) × total0 / total_fixed[y], 1)``, where
    ``total_fixed[y]`` is the share of all plans in year ``y`` at the base shares.

    Parameters
    ----------
    stock : numpy.ndarray
        ``[..., year, age, need]`` projected plans [plans].
    share0 : numpy.ndarray
        ``[age, need]`` share at the base January [1].
    trend : numpy.ndarray or float
        ``[...]`` yearly change of the log share of all plans [per year].
    years : numpy.ndarray
        Years after the base ``[year]``.

    Returns
    -------
    numpy.ndarray
        ``[..., year, age, need]`` [1].
    """
    trend = np.asarray(trend, dtype=float)[..., None]
    growth = np.exp(trend * np.asarray(years, dtype=float))
    plans = stock.sum(axis=(-1, -2))
    with np.errstate(divide="ignore", invalid="ignore"):
        fixed = (stock * share0).sum(axis=(-1, -2)) / plans
        drift = np.where(fixed > 0, fixed[..., :1] / fixed, 1.0)
    return np.minimum(share0 * (growth * drift)[..., None, None], 1.0)
