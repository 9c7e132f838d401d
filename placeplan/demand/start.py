"""The starting state: who needs a special school place at the start, derived from SEN2.

At the start of a cohort forecast every child needing a special school place is in
one of three states, each counted from the council's own SEN2 January caseload and
its places, and each recorded with its derivation in the run's provenance:

- **in the council's places**: the places at the start × ``initial_occupancy``;
- **placed elsewhere**: SEN2 children with plans in special schools of every type
  (state-funded, independent, non-maintained; ``special_total``) less those in the
  council's places — independent and non-maintained schools and other councils'
  schools;
- **on the referral list**: SEN2 children with plans *educated elsewhere* times a
  share drawn per replication (an assumption: not every child educated elsewhere is
  waiting for a special school place, and children waiting in unsuitable
  mainstream schools are not counted at all), each having already waited an
  exponential time whose mean is drawn per replication.

Any of these can be overridden in ``demand.starting_state`` (or, for the list,
``placement.initial_waiting``); the provenance says which.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date
from typing import Any

import numpy as np

from placeplan.demand.inputs import CohortInputs
from placeplan.scenario import NEEDS, Scenario

__all__ = [
    "TERM_DAYS",
    "CellDraw",
    "StartingFigures",
    "draw_ages_and_needs",
    "own_designations",
    "starting_figures",
    "waiting_table",
]

TERM_DAYS = 365.25 / 3
"""Mean length of a term with its holiday, for waits given in terms [days]."""


def own_designations(spec: Any, designations: tuple[str, ...]) -> np.ndarray:
    """Index of the designation of each primary need (the first of a ranked list)."""
    out = []
    routes = spec.designation_routes  # every need, new ones placed as another (new_needs)
    for n in NEEDS:
        out.append(designations.index(routes[n][0]))
    return np.array(out, dtype=np.int64)


@dataclass(frozen=True)
class StartingFigures:
    """The numbers of the starting state that are the same in every replication.

    Attributes
    ----------
    special_school_children : int
        Children with plans in special schools of every type [children].
    council_pupils : int
        Children in the council's places at the start [children].
    placed_elsewhere : int
        Children placed outside the council's places [children].
    educated_elsewhere : float
        SEN2 children with plans educated elsewhere (NaN if not published) [children].
    list_size : int or None
        The list's size if the scenario gives it [children]; else drawn per replication.
    provenance : dict
        Each figure's value, derivation and source.
    """

    special_school_children: int
    council_pupils: int
    placed_elsewhere: int
    educated_elsewhere: float
    list_size: int | None
    provenance: dict[str, dict[str, Any]]


def _n(x: float) -> str:
    return f"{x:,.0f}"


def starting_figures(
    scenario: Scenario, inputs: CohortInputs, council_pupils: int
) -> StartingFigures:
    """Derive the starting state's fixed figures, with their provenance.

    Parameters
    ----------
    scenario : Scenario
        A scenario with cohort demand.
    inputs : CohortInputs
        Its SEN2 inputs (the base January's caseload).
    council_pupils : int
        Children in the council's places at the start (places × occupancy) [children].
    """
    demand = scenario.demand
    given = demand.starting_state  # type: ignore[union-attr]
    c = inputs.caseload
    year = inputs.base_year
    release = inputs.release
    prov: dict[str, dict[str, Any]] = {}
    if given.special_school_children is not None:
        special = int(given.special_school_children)
        prov["special_school_children"] = {
            "value": special,
            "derivation": "given in demand.starting_state.special_school_children",
            "source": given.source or "scenario",
        }
    else:
        special = round(c["special"]) if math.isfinite(c.get("special", math.nan)) else 0
        parts = []
        for key, label in (
            ("special_independent", "independent"),
            ("special_non_maintained", "non-maintained"),
        ):
            if math.isfinite(c.get(key, float("nan"))):
                parts.append(f"{label} {_n(c[key])}")
        prov["special_school_children"] = {
            "value": special,
            "derivation": (
                f"SEN2 January {year} caseload, children with plans in special schools of "
                f"every type (special_total){': of them ' + ', '.join(parts) if parts else ''}"
            ),
            "source": release,
        }
    prov["council_pupils"] = {
        "value": int(council_pupils),
        "derivation": (
            "places at the start × placement.initial_occupancy "
            f"{scenario.placement.initial_occupancy:g}"
        ),
        "source": "scenario",
    }
    if given.placed_elsewhere is not None:
        elsewhere = int(given.placed_elsewhere)
        prov["placed_elsewhere"] = {
            "value": elsewhere,
            "derivation": "given in demand.starting_state.placed_elsewhere",
            "source": given.source or "scenario",
        }
    else:
        elsewhere = max(special - int(council_pupils), 0)
        prov["placed_elsewhere"] = {
            "value": elsewhere,
            "derivation": (
                f"special school children {_n(special)} − council pupils "
                f"{_n(council_pupils)}: independent and non-maintained schools and other "
                "councils' schools"
                + (
                    f" (the council's pupils exceed its special school children by "
                    f"{_n(council_pupils - special)}: placeplan counts them all as its own)"
                    if council_pupils > special
                    else ""
                )
            ),
            "source": release,
        }
    ed = c.get("ed_elsewhere", float("nan"))
    share = given.list_share_of_educated_elsewhere
    waited = given.list_mean_terms_waited
    if scenario.placement.initial_waiting:
        n_typed = sum(sum(g.children.values()) for g in scenario.placement.initial_waiting)
        prov["list"] = {
            "value": n_typed,
            "derivation": "typed in placement.initial_waiting (overrides the SEN2 derivation)",
            "source": "; ".join(sorted({g.source for g in scenario.placement.initial_waiting}))
            or "scenario",
        }
    elif given.list_size is not None:
        prov["list"] = {
            "value": int(given.list_size),
            "derivation": "given in demand.starting_state.list_size",
            "source": given.source or "scenario",
        }
    else:
        prov["list"] = {
            "value": f"{_n(ed)} × ({share.describe()}), drawn per replication",
            "derivation": (
                f"SEN2 January {year} children with plans educated elsewhere ({_n(ed)}) × "
                "demand.starting_state.list_share_of_educated_elsewhere"
            ),
            "source": f"{release}; {share.source or 'assumption'}",
        }
        if math.isfinite(c.get("await_prov", float("nan"))):
            prov["list"]["note"] = f"SEN2 awaiting provision, January {year}: {_n(c['await_prov'])}"
    if not scenario.placement.initial_waiting:
        prov["list_mean_terms_waited"] = {
            "value": waited.describe(),
            "derivation": (
                "each child's wait before the start is exponential with this mean [terms], "
                "drawn per replication"
            ),
            "source": waited.source or "assumption",
        }
    return StartingFigures(
        special_school_children=special,
        council_pupils=int(council_pupils),
        placed_elsewhere=elsewhere,
        educated_elsewhere=float(ed),
        list_size=None if given.list_size is None else int(given.list_size),
        provenance=prov,
    )


def waiting_table(inputs: CohortInputs, ages: tuple[int, int]) -> np.ndarray:
    """Age × need mix of the children waiting at the start, summing to 1.

    Assumption: waiting children have plans but no special school place, and they
    are more often of the ages and needs where a special school is common; so the
    mix is the plans *not* in special schools weighted by the share that are
    (``share × (1 − share) × plans``), within the referral ages. Needs almost always
    placed (share near 1) and needs rarely placed (share near 0) both weigh little.
    """
    share = inputs.special_share
    table = share * (1.0 - share) * inputs.stock
    inside = np.zeros(table.shape[0], dtype=bool)
    inside[ages[0] : ages[1] + 1] = True
    table[~inside] = 0.0
    if table.sum() <= 0:
        table = inside[:, None] * np.ones(table.shape[1])
    return table / table.sum()


def draw_ages_and_needs(
    rng: np.random.Generator, weights: np.ndarray, n: int
) -> tuple[np.ndarray, np.ndarray]:
    """Draw ``n`` (age, need) pairs from a ``[age, need]`` table of weights.

    Each pair is the cell whose share of the cumulative weights a uniform falls in:
    the inversion ``Generator.choice(len(flat), n, p=...)`` makes, written out so
    that a replication does not pay choice's checks of ``p`` on each of its draws
    (``n`` uniforms, the same numbers). A table drawn from again and again is
    prepared once with :class:`CellDraw`.

    Raises
    ------
    ValueError
        If ``n > 0`` and a weight is negative or not finite, or all are 0.
    """
    return CellDraw.of(weights).draw(rng, n)


@dataclass(frozen=True)
class CellDraw:
    """A ``[age, need]`` table of weights prepared for :func:`draw_ages_and_needs`.

    Attributes
    ----------
    cdf : numpy.ndarray or None
        The cumulative shares of the flattened table, ending at exactly 1; None if the
        weights cannot be drawn from (``error`` says why).
    n_needs : int
        Columns of the table.
    error : str
        Why the table cannot be drawn from ("" if it can).
    """

    cdf: np.ndarray | None
    n_needs: int
    error: str = ""

    @classmethod
    def of(cls, weights: np.ndarray) -> CellDraw:
        """Prepare a table: its cumulative shares, or why there are none."""
        flat = np.asarray(weights, dtype=float).ravel()
        n_needs = int(np.shape(weights)[1])
        total = flat.sum()
        if not (np.isfinite(total) and total > 0 and (flat >= 0).all()):
            return cls(None, n_needs, "weights must be finite, non-negative and not all 0")
        cdf = (flat / total).cumsum()
        cdf /= cdf[-1]
        cdf.flags.writeable = False  # kept and drawn from by every replication
        return cls(cdf, n_needs)

    def draw(self, rng: np.random.Generator, n: int) -> tuple[np.ndarray, np.ndarray]:
        """``n`` (age, need) pairs, from ``n`` uniforms of ``rng`` (none if ``n`` is 0)."""
        if n == 0:
            return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
        if self.cdf is None:
            raise ValueError(self.error)
        cells = self.cdf.searchsorted(rng.random(n), side="right").astype(np.int64)
        return np.divmod(cells, self.n_needs)


def waited_since(rng: np.random.Generator, n: int, mean_terms: float, start: date) -> np.ndarray:
    """Referral instants of ``n`` children already waiting at the start [days].

    Each has waited an exponential time of mean ``mean_terms`` terms, at most ten
    years, and at least a day.
    """
    first = float(start.toordinal())
    if mean_terms <= 0:
        return np.full(n, first - 1.0)
    waited = np.minimum(rng.exponential(mean_terms * TERM_DAYS, size=n), 3652.5)
    return first - np.maximum(waited, 1.0)
