"""The known layouts of the official SEN2 files, and the check that a file has one.

DfE changes the files between releases: reporting year 2026 added Down syndrome as a
primary need (``number_ds``, ``ds_pc``) and split ``special_academy_free`` into
``special_academy`` and ``special_free_school``. A column that moved, was renamed or
is new may carry children, so a file is read only if its header is one of the
layouts listed here: every required column present, and no column that the layout
does not know. Anything else is refused with the file, the columns missing and
unexpected, and the layouts known; nothing is guessed.

A layout is named by the first release that published it. The January caseload file
of release 2026 was not seen when this was written (only the data catalogue's
previews of the need and new-plans files were): its 2026 layout is the published
2026 new-plans layout applied to the caseload, and is marked ``seen=False``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

__all__ = ["LAYOUTS", "Layout", "LayoutError", "match_layout"]

GEO_COLUMNS: tuple[str, ...] = (
    "time_period",
    "time_identifier",
    "geographic_level",
    "country_code",
    "country_name",
    "region_code",
    "region_name",
    "old_la_code",
    "new_la_code",
    "la_name",
)
"""Area and time columns every file has (release 2022 orders them differently)."""

_BREAKDOWN = ("breakdown_topic", "breakdown")

_NEEDS_2025 = ("asd", "hi", "mld", "msi", "oth", "pd", "pmld", "semh", "slcn", "sld", "spld", "vi")
_NEEDS_2026 = ("asd", "ds", *_NEEDS_2025[1:])


def _need_file(needs: tuple[str, ...]) -> tuple[str, ...]:
    """Columns of a primary-need file: counts then percentages of each need."""
    return (
        *_BREAKDOWN,
        "ehc_plans",
        *(f"number_{n}" for n in needs),
        "number_need_unknown",
        *(f"{n}_pc" for n in needs),
        "unknown_pc",
    )


#: Published 2025 columns of the placement files after their count column.
_PLACEMENTS_2025: tuple[str, ...] = (
    "mainstream_la_maintained",
    "mainstream_la_maintained_resourced_provision",
    "mainstream_la_maintained_senunit",
    "mainstream_academy",
    "mainstream_academy_resourced_provision",
    "mainstream_academy_senunit",
    "mainstream_free_school",
    "mainstream_free_school_resourced_provision",
    "mainstream_free_school_senunit",
    "mainstream_independent",
    "mainstream_total",
    "mainstream_total_pc",
    "special_la_maintained",
    "special_academy_free",
    "special_independent",
    "special_non_maintained",
    "special_total",
    "special_total_pc",
    "ap_pru_academy",
    "ap_pru_free_school",
    "ap_pru_la_maintained",
    "ap_pru_total",
    "ap_pru_total_pc",
    "general_fe_tertiary_colleges",
    "specialist_post_16_institutions",
    "ukrlp_provider",
    "fe_total",
    "fe_total_pc",
    "elective_home_education",
    "other_arrangements_la",
    "other_arrangements_parents",
    "online_provider",
    "w_settings",
    "other_schools",
    "other_placement_settings",
    "neet",
    "neet_ntci",
    "neet_other",
    "neet_other_csa",
    "ed_elsewhere",
    "ed_elsewhere_pc",
    "nm_early_years",
    "nm_early_years_pc",
    "placement_unknown",
    "placement_unknown_pc",
    "await_prov_2022",
    "perm_ex_2022",
)


def _placements_2026() -> tuple[str, ...]:
    """The 2026 placement columns: academies and free schools split, ``_2022`` dropped."""
    out: list[str] = []
    for column in _PLACEMENTS_2025:
        if column == "special_academy_free":
            out += ["special_academy", "special_free_school"]
        else:
            out.append(column.removesuffix("_2022"))
    return tuple(out)


_PLACEMENTS_2026 = _placements_2026()

#: The special school columns of each placement layout; they add up to ``special_total``.
SPECIAL_PARTS: Mapping[str, tuple[str, ...]] = {
    "2025": (
        "special_la_maintained",
        "special_academy_free",
        "special_independent",
        "special_non_maintained",
    ),
    "2026": (
        "special_la_maintained",
        "special_academy",
        "special_free_school",
        "special_independent",
        "special_non_maintained",
    ),
}


@dataclass(frozen=True)
class Layout:
    """One known layout of one official file.

    Attributes
    ----------
    name : str
        The first release that published the layout, e.g. ``"2025"``.
    required : tuple of str
        Columns the reader uses (lower case), besides :data:`GEO_COLUMNS`.
    allowed : frozenset of str
        Every column the layout may have (the published header); a column outside it
        is unexpected.
    together : tuple of tuple of str
        Groups of columns that are present all together or not at all (the parts of
        a total), so that a total always equals the sum of the parts read.
    seen : bool
        Whether the layout was seen in a published file (``False``: inferred).
    note : str
        What distinguishes the layout, in words.
    """

    name: str
    required: tuple[str, ...]
    allowed: frozenset[str]
    together: tuple[tuple[str, ...], ...] = ()
    seen: bool = True
    note: str = ""

    def problems(self, columns: Iterable[str]) -> tuple[list[str], list[str], list[str]]:
        """Columns missing, unexpected, and part-groups given only in part."""
        have = set(columns)
        missing = [c for c in (*GEO_COLUMNS, *self.required) if c not in have]
        unexpected = [c for c in columns if c not in self.allowed and c not in GEO_COLUMNS]
        partial = [
            ", ".join(c for c in group if c not in have)
            for group in self.together
            if any(c in have for c in group) and not all(c in have for c in group)
        ]
        return missing, unexpected, partial

    def describe(self) -> str:
        """The layout in words, e.g. ``"2026 (number_ds ...; inferred, not seen)"``."""
        extra = "" if self.seen else "; inferred, not seen in a published file"
        return f"{self.name} ({self.note}{extra})" if self.note or extra else self.name


def _layout(
    name: str,
    required: Iterable[str],
    published: Iterable[str],
    together: tuple[tuple[str, ...], ...] = (),
    *,
    seen: bool = True,
    note: str = "",
) -> Layout:
    return Layout(name, tuple(required), frozenset(published), together, seen, note)


_NEED_NOTE_25 = "12 primary needs; Down syndrome within OTH"
_NEED_NOTE_26 = "13 primary needs: number_ds, ds_pc added"
_PLACE_NOTE_25 = "special_academy_free"
_PLACE_NOTE_26 = "special_academy and special_free_school; await_prov, perm_ex"


def _parts(layout: str, required: tuple[str, ...]) -> tuple[str, ...]:
    """The special school parts of a layout that a file need not have (all or none)."""
    return tuple(c for c in SPECIAL_PARTS[layout] if c not in required)


def _placement_layouts(
    count: str, required: tuple[str, ...], *, seen_2026: bool
) -> tuple[Layout, ...]:
    required = (*_BREAKDOWN, count, *required)
    return (
        _layout(
            "2025",
            required,
            (*_BREAKDOWN, count, *_PLACEMENTS_2025),
            (_parts("2025", required),),
            note=_PLACE_NOTE_25,
        ),
        _layout(
            "2026",
            required,
            # the caseload file of 2026 may keep await_prov_2022/perm_ex_2022 (not seen)
            (*_BREAKDOWN, count, *_PLACEMENTS_2026)
            + (() if seen_2026 else ("await_prov_2022", "perm_ex_2022")),
            (_parts("2026", required),),
            seen=seen_2026,
            note=_PLACE_NOTE_26,
        ),
    )


def _need_layouts() -> tuple[Layout, ...]:
    return (
        _layout(
            "2025",
            _need_file(_NEEDS_2025)[: 3 + len(_NEEDS_2025) + 1],
            _need_file(_NEEDS_2025),
            note=_NEED_NOTE_25,
        ),
        _layout(
            "2026",
            _need_file(_NEEDS_2026)[: 3 + len(_NEEDS_2026) + 1],
            _need_file(_NEEDS_2026),
            note=_NEED_NOTE_26,
        ),
    )


#: Reasons a plan ceased (column names of ``ceased_plans.csv``), ``total_ceased`` last.
CEASED_REASONS: tuple[str, ...] = (
    "max_age",
    "needs_met",
    "he",
    "employ",
    "transfer",
    "no_engage",
    "moved_outside_eng",
    "deceased",
    "not_rec",
    "other",
    "total_ceased",
)
_REQUESTS = (
    "requests_received_in_year",
    "requests_rya",
    "requests_decided_to_assess",
    "requests_decided_not_to_assess",
    "requests_decision_not_made",
    "requests_withdrawn",
    "request_assess_pc",
    "request_not_assess_pc",
    "request_outstanding_pc",
    "request_withdrawn_pc",
    "request_outcome_six_weeks",
    "request_outcome_over_6_weeks",
    "request_outcome_six_weeks_pc",
    "request_outcome_over_6_weeks_pc",
    "mediation_related_request",
    "tribunal_related_request",
    "tribunal_after_mediation_request",
)
_ASSESSMENTS = (
    "assess_in_year",
    "assess_issued",
    "assess_issued_pc",
    "assess_not_issued",
    "assess_not_issued_pc",
    "assess_not_made",
    "assess_not_made_pc",
    "assess_withdrawn",
    "assess_withdrawn_pc",
    "outcome_decision_within_time",
    "outcome_decision_over_time",
    "outcome_decision_within_time_pc",
    "outcome_decision_over_time_pc",
    "number_assess_mediation",
    "number_assess_tribunal",
    "number_asssess_mediation_tribunal",
    "number_other_mediation",
    "number_other_tribunal",
    "number_other_mediation_tribunal",
)
_TIMELINESS = (
    "plans_issued_den",
    "plans_issued_den_ex",
    "plans_issued_within_20_weeks",
    "plans_issued_20_weeks_ex",
    "pc_plans_issued_within_20_weeks",
    "pc_plans_issued_20_weeks_ex",
    "plans_issued_gt20weeks_ltyear",
    "plans_issued_gt20weeks_ltyear_ex",
    "pc_plans_issued_gt20weeks_ltyear",
    "pc_plans_issued_gt20weeks_ltyear_ex",
    "plans_issued_gt_1_year",
    "plans_issued_gt_1_year_ex",
    "pc_plans_issued_gt_1_year",
    "pc_plans_issued_gt_1_year_ex",
)
_MI_2022 = (
    "newallehc",
    "newallehc_pc",
    "newallehc_assnoneehc_sum",
    "assnoneehc",
    "assnoneehc_pc",
    "assnodecisionehc",
    "assrefusedehc",
    "assrefusedehc_pc",
    "assnone",
    "assnodecision",
    "assrefused",
    "mtosi",
    "sitom",
    "mtopar",
    "sitopar",
    "dislea",
    "dismet",
    "disoth",
    "disleft",
    "mtosiehc",
    "sitomehc",
    "mtoparehc",
    "sitoparehc",
    "disleaehc",
    "dismetehc",
    "disothehc",
    "disleftehc",
    "inreqehc",
    "inreqryaehc",
    "totincexcehc",
    "incexc20weekehc",
    "incexc20weekrate",
    "totnoexcehc",
    "noexc20weekehc",
    "noexc20weekrate",
    "totincexc",
    "incexc26week",
    "totnoexc",
    "noexc26week",
    "statementstoehc",
    "statementstonoehc",
    "personalbudgets",
    "orgarrangements",
    "directpayeducation",
    "directpaysocialcare",
    "directpayhealth",
    "directpayintegrated",
    "newehcmediation",
    "newehctribunal",
    "newehctribunal_pc",
)


def _single(name: str, required: Iterable[str], published: Iterable[str]) -> tuple[Layout, ...]:
    return (_layout(name, required, published),)


_BANDS = ("characteristic_age",)

#: File name -> its known layouts, oldest first.
LAYOUTS: Mapping[str, tuple[Layout, ...]] = {
    "caseload.csv": _placement_layouts(
        "ehcplans", ("special_total", "special_independent", "mainstream_total"), seen_2026=False
    ),
    "sen_needs_all_plans.csv": _need_layouts(),
    "sen_need_newplans.csv": _need_layouts(),
    "newplans.csv": _placement_layouts("new_ehc_plans", ("special_total",), seen_2026=True),
    "ceased_plans.csv": _single(
        "2025", (*_BREAKDOWN, *CEASED_REASONS), (*_BREAKDOWN, *CEASED_REASONS)
    ),
    "requests.csv": _single(
        "2025",
        (*_BREAKDOWN, "requests_received_in_year", "requests_decided_not_to_assess"),
        (*_BREAKDOWN, *_REQUESTS),
    ),
    "assessments.csv": _single(
        "2025", (*_BREAKDOWN, "assess_issued", "assess_not_issued"), (*_BREAKDOWN, *_ASSESSMENTS)
    ),
    "timeliness_20_week.csv": _single(
        "2025",
        (
            *_BREAKDOWN,
            "plans_issued_den",
            "plans_issued_within_20_weeks",
            "pc_plans_issued_within_20_weeks",
        ),
        (*_BREAKDOWN, *_TIMELINESS),
    ),
    "sen2_age_caseload.csv": _single(
        "2022",
        (*_BANDS, "total_all", "total_ehc", "total_st"),
        (*_BANDS, *(f"total_{k}{p}" for k in ("st", "ehc", "all") for p in ("", "_pc"))),
    ),
    "sen2_age_new_plans.csv": _single(
        "2022",
        (*_BANDS, "total_new_all", "total_new_ehc", "total_new_st"),
        (*_BANDS, *(f"total_new_{k}{p}" for k in ("st", "ehc", "all") for p in ("", "_pc"))),
    ),
    "sen2_mi.csv": _single(
        "2022",
        (
            "inreqehc",
            "assrefusedehc",
            "newallehc",
            "assnoneehc",
            "totincexcehc",
            "incexc20weekehc",
            "incexc20weekrate",
        ),
        _MI_2022,
    ),
}


class LayoutError(ValueError):
    """A file's header is none of its known layouts.

    Attributes
    ----------
    column : str or None
        The first column missing or unexpected (for error messages).
    """

    def __init__(self, message: str, column: str | None) -> None:
        self.column = column
        super().__init__(message)


def match_layout(file_name: str, columns: list[str]) -> Layout:
    """The layout of a file whose (lower-case) header is ``columns``.

    Parameters
    ----------
    file_name : str
        The file's name, a key of :data:`LAYOUTS`.
    columns : list of str
        Its header, lower case, as published.

    Returns
    -------
    Layout
        The newest known layout the header fits (layouts a header fits alike are read
        alike: they differ only in columns the header lacks).

    Raises
    ------
    LayoutError
        If the header fits no known layout: the message names, for the closest
        layout, the columns missing, unexpected or given only in part, and lists the
        layouts known.
    """
    layouts = LAYOUTS[file_name]
    duplicated = sorted({c for c in columns if columns.count(c) > 1})
    if duplicated:
        raise LayoutError(f"column(s) {duplicated} appear more than once", duplicated[0])
    fits = [layout for layout in layouts if not any(layout.problems(columns))]
    if fits:
        return fits[-1]
    scored = sorted(
        layouts,
        key=lambda layout: sum(len(p) for p in layout.problems(columns)),
    )
    best = scored[0]
    missing, unexpected, partial = best.problems(columns)
    said = []
    if missing:
        said.append(f"missing {', '.join(map(repr, missing))}")
    if unexpected:
        said.append(f"unexpected {', '.join(map(repr, unexpected))}")
    if partial:
        said.append(
            "parts of a total given only in part (missing "
            + "; ".join(repr(p) for p in partial)
            + ")"
        )
    known = "; ".join(layout.describe() for layout in layouts)
    parts_missing = [c for group in best.together for c in group if c not in columns]
    column = (missing or unexpected or parts_missing or [None])[0]
    raise LayoutError(
        f"the columns fit no known layout of {file_name}: against layout {best.name}, "
        f"{'; '.join(said)}. Known layouts: {known}. A newer release may have changed "
        "the file; placeplan reads no column it does not know (one may carry children), "
        "so it needs updating to read this file",
        column,
    )
