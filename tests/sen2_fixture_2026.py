"""A small SEN2 release in the reporting-year-2026 layout (tests/data/sen2-2026).

Headers as published in release 2026 (shared/DOMAIN.md, "Since the seeds"; the data
catalogue's previews): the need files add ``number_ds`` and ``ds_pc`` (``x`` for
2024/25), the new-plans file splits ``special_academy_free`` into
``special_academy`` and ``special_free_school`` and drops the ``_2022`` of
``await_prov`` and ``perm_ex``. The caseload file of release 2026 was not seen; it is
written here with the same split, as expected. The ceased-plans file keeps its 2025
layout.

The headers are typed out here from the 2025 files and the published changes, not
taken from :mod:`placeplan.sen2_layouts`, so that the reader is tested against them.

Areas: England (national totals; the 2024/25 need counts revised as release 2026
revised them: SLD 25,681 -> 25,025 and SpLD 14,374 -> 15,030) and Hertfordshire
(every table a cohort projection needs, ages 3-19, made-up but consistent numbers).
``python tests/sen2_fixture_2026.py`` rewrites the committed copy.
"""

from __future__ import annotations

import csv
from pathlib import Path

from sen2_fixture import GEO, NATIONAL

HERE = Path(__file__).resolve().parent
COMMITTED = HERE / "data" / "sen2-2026"

ENGLAND = NATIONAL
HERTS = [
    "Local authority",
    "E92000001",
    "England",
    "E12000006",
    "East of England",
    "E10000015",
    "919",
    "Hertfordshire",
]

#: Primary needs in the 2026 files' order (alphabetical; ds second).
NEEDS_2026 = [
    "asd",
    "ds",
    "hi",
    "mld",
    "msi",
    "oth",
    "pd",
    "pmld",
    "semh",
    "slcn",
    "sld",
    "spld",
    "vi",
]
NEED_HEADER = [
    *GEO,
    "breakdown_topic",
    "breakdown",
    "ehc_plans",
    *(f"number_{n}" for n in NEEDS_2026),
    "number_need_unknown",
    *(f"{n}_pc" for n in NEEDS_2026),
    "unknown_pc",
]

#: The 2025 placement columns, as published (caseload.csv and newplans.csv).
PLACEMENTS_2025 = [
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
    "AP_PRU_total_pc",
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
]

#: The 2026 placement columns: academies and free schools split; await_prov, perm_ex.
PLACEMENTS_2026 = [
    c
    for column in PLACEMENTS_2025
    for c in (
        ["special_academy", "special_free_school"]
        if column == "special_academy_free"
        else [column.replace("_2022", "")]
    )
]
CEASED = [
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
]

AGES = range(3, 20)

#: Share of plans of each need (2026 order) and of unknown need; DS within OTH before 2026.
SHARES = {
    "asd": 0.33,
    "ds": 0.02,
    "hi": 0.02,
    "mld": 0.14,
    "msi": 0.005,
    "oth": 0.02,
    "pd": 0.04,
    "pmld": 0.015,
    "semh": 0.17,
    "slcn": 0.14,
    "sld": 0.06,
    "spld": 0.02,
    "vi": 0.01,
}
SPECIAL_SHARES = {**SHARES, "asd": 0.38, "ds": 0.05, "sld": 0.16, "semh": 0.12, "slcn": 0.05}

#: England, All EHC plans, January 2025 as release 2026 publishes it (revised).
ENGLAND_2025 = {
    "asd": 201183,
    "ds": "x",
    "hi": 8765,
    "mld": 67861,
    "msi": 1692,
    "oth": 7512,
    "pd": 24897,
    "pmld": 8577,
    "semh": 132217,
    "slcn": 135836,
    "sld": 25025,  # 25,681 in release 2025
    "spld": 15030,  # 14,374 in release 2025
    "vi": 5280,
    "unknown": 4870,
}
#: England, All EHC plans, January 2026 (made up: DS counted apart from OTH from now).
ENGLAND_2026 = {
    **ENGLAND_2025,
    "asd": 220000,
    "ds": 4100,
    "oth": 3900,
    "semh": 145000,
    "slcn": 150000,
    "sld": 26000,
}


def _split(total: int, shares: dict[str, float], *, ds: bool) -> dict[str, int | str]:
    """Counts of each need adding up to ``total`` (DS 'x' and within OTH if not ``ds``)."""
    out: dict[str, int | str] = {n: int(total * s) for n, s in shares.items()}
    if not ds:
        out["oth"] = int(out["oth"]) + int(out["ds"])
        out["ds"] = "x"
    out["unknown"] = total - sum(v for v in out.values() if isinstance(v, int))
    return out


def _need_row(
    period: str, kind: str, area: list[str], topic: str, label: str, counts: dict
) -> list[str]:
    numbers = [counts[n] for n in NEEDS_2026]
    total = sum(v for v in [*numbers, counts["unknown"]] if isinstance(v, int))
    pcs = ["x" if not isinstance(v, int) else f"{100 * v / total:.1f}" for v in numbers]
    unknown_pc = f"{100 * counts['unknown'] / total:.1f}"
    return [
        period,
        kind,
        *area,
        topic,
        label,
        str(total),
        *map(str, numbers),
        str(counts["unknown"]),
        *pcs,
        unknown_pc,
    ]


def _placement_row(
    period: str, kind: str, area: list[str], topic: str, label: str, count: int, special: int
) -> list[str]:
    """A row of caseload.csv or newplans.csv (2026 layout) with consistent special parts."""
    independent = special // 10
    non_maintained = special // 50
    academy = special // 4
    free = special // 10
    maintained = special - independent - non_maintained - academy - free
    values = dict.fromkeys(PLACEMENTS_2026, "0")
    values.update(
        {
            "mainstream_total": str(count // 2),
            "mainstream_la_maintained": str(count // 2),
            "special_la_maintained": str(maintained),
            "special_academy": str(academy),
            "special_free_school": str(free),
            "special_independent": str(independent),
            "special_non_maintained": str(non_maintained),
            "special_total": str(special),
            "ed_elsewhere": str(count // 20),
            "await_prov": "x",
            "perm_ex": "x",
        }
    )
    for column in values:
        if column.lower().endswith("_pc"):
            values[column] = "x"
    return [period, kind, *area, topic, label, str(count), *values.values()]


def _plans_at(age: int, year: int) -> int:
    """Hertfordshire's plans of an age in January ``year`` (made up) [plans]."""
    return (500 + 40 * min(age, 12) - 25 * max(age - 15, 0)) * (105 if year == 2026 else 100) // 100


def write_release_2026(folder: Path) -> Path:
    """Write the 2026-layout files into ``folder/release-2026``; return ``folder``."""
    out = folder / "release-2026"
    out.mkdir(parents=True, exist_ok=True)
    (out / "data-guidance.txt").write_text(
        "Education, health and care plans\nReporting year 2026\n", encoding="utf-8"
    )
    academic = {2025: "202425", 2026: "202526"}
    age = "Child or young persons age"

    rows = [
        _need_row(
            academic[2025], "Academic year", ENGLAND, "All EHC plans", "All EHC plans", ENGLAND_2025
        ),
        _need_row(
            academic[2026], "Academic year", ENGLAND, "All EHC plans", "All EHC plans", ENGLAND_2026
        ),
    ]
    for year in (2025, 2026):
        total = sum(_plans_at(a, year) for a in AGES)
        rows.append(
            _need_row(
                academic[year],
                "Academic year",
                HERTS,
                "All EHC plans",
                "All EHC plans",
                _split(total, SHARES, ds=year == 2026),
            )
        )
        special = total // 4
        rows.append(
            _need_row(
                academic[year],
                "Academic year",
                HERTS,
                "Type of placement",
                "Special - total",
                _split(special, SPECIAL_SHARES, ds=year == 2026),
            )
        )
        for a in AGES:
            rows.append(
                _need_row(
                    academic[year],
                    "Academic year",
                    HERTS,
                    age,
                    f"age {a}",
                    _split(_plans_at(a, year), SHARES, ds=year == 2026),
                )
            )
    _write(out / "sen_needs_all_plans.csv", NEED_HEADER, rows)

    rows = []
    for year in (2024, 2025):
        for a in AGES:
            new = _plans_at(a, 2025) // 8
            rows.append(
                _need_row(
                    str(year),
                    "Calendar year",
                    HERTS,
                    age,
                    f"age {a}",
                    _split(new, SHARES, ds=year == 2025),
                )
            )
    _write(out / "sen_need_newplans.csv", NEED_HEADER, rows)

    header = [*GEO, "breakdown_topic", "breakdown", "new_ehc_plans", *PLACEMENTS_2026]
    rows = []
    for year in (2024, 2025):
        england = 97747 if year == 2024 else 104000
        rows.append(
            _placement_row(
                str(year),
                "Calendar year",
                ENGLAND,
                "New EHC plans",
                "New EHC plans",
                england,
                england // 10,
            )
        )
        news = [_plans_at(a, 2025) // 8 for a in AGES]
        rows.append(
            _placement_row(
                str(year),
                "Calendar year",
                HERTS,
                "New EHC plans",
                "New EHC plans",
                sum(news),
                sum(n // 10 for n in news),
            )
        )
        for a, n in zip(AGES, news, strict=True):
            rows.append(
                _placement_row(
                    str(year),
                    "Calendar year",
                    HERTS,
                    "Age when plan started",
                    f"age {a}",
                    n,
                    n // 10,
                )
            )
    _write(out / "newplans.csv", header, rows)

    header = [*GEO, "breakdown_topic", "breakdown", "ehcplans", *PLACEMENTS_2026]
    rows = []
    for year in (2025, 2026):
        england = 638745 if year == 2025 else 690000
        rows.append(
            _placement_row(
                academic[year],
                "Academic year",
                ENGLAND,
                "All EHC plans",
                "All EHC plans",
                england,
                193880 if year == 2025 else 205000,
            )
        )
        plans = [_plans_at(a, year) for a in AGES]
        rows.append(
            _placement_row(
                academic[year],
                "Academic year",
                HERTS,
                "All EHC plans",
                "All EHC plans",
                sum(plans),
                sum(p // 4 for p in plans),
            )
        )
        for a, p in zip(AGES, plans, strict=True):
            rows.append(
                _placement_row(academic[year], "Academic year", HERTS, age, f"age {a}", p, p // 4)
            )
    _write(out / "caseload.csv", header, rows)

    header = [*GEO, "breakdown_topic", "breakdown", *CEASED]
    rows = []
    for year in (2024, 2025):
        by_age = {a: _plans_at(a, year) // (4 if a >= 16 else 25) for a in AGES}
        for label, n in [
            ("All ceased EHC plans", sum(by_age.values())),
            *((f"age {a}", v) for a, v in by_age.items()),
        ]:
            topic = "All ceased EHC plans" if label.startswith("All") else "Age plan ceased"
            reasons = [n // 2, n // 4, 0, 0, n // 8, 0, 0, 0, 0]
            reasons.append(n - sum(reasons))
            rows.append(
                [str(year), "Calendar year", *HERTS, topic, label, *map(str, reasons), str(n)]
            )
    _write(out / "ceased_plans.csv", header, rows)
    return folder


def _write(path: Path, header: list[str], rows: list[list[str]]) -> None:
    """Write a CSV as DfE publishes them (UTF-8 with a byte order mark, \\n line ends)."""
    with path.open("w", newline="", encoding="utf-8-sig") as fh:
        writer = csv.writer(fh, lineterminator="\n")
        writer.writerow(header)
        writer.writerows(rows)


if __name__ == "__main__":
    write_release_2026(COMMITTED)
    print(f"wrote {COMMITTED}")
