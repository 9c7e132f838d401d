"""A small folder of official-format SEN2 files, shared by the tests."""

from __future__ import annotations

import csv
from pathlib import Path

from placeplan import sen2

ROOT = Path(__file__).resolve().parents[1]

GEO = [
    "time_period",
    "time_identifier",
    "geographic_level",
    "country_code",
    "country_name",
    "region_code",
    "region_name",
    "new_la_code",
    "old_la_code",
    "la_name",
]
NATIONAL = ["National", "E92000001", "England", "", "", "", "", ""]
EAST = ["Regional", "E92000001", "England", "E12000006", "East of England", "", "", ""]
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
NEWTOWN = [
    "Local authority",
    "E92000001",
    "England",
    "E12000006",
    "East of England",
    "E06000099",
    "999",
    "Newtown",
]


def bucks(code: str) -> list[str]:
    return [
        "Local authority",
        "E92000001",
        "England",
        "E12000008",
        "South East",
        code,
        "825",
        "Buckinghamshire",
    ]


SOUTH_EAST = ["Regional", "E92000001", "England", "E12000008", "South East", "", "", ""]


def write_csv(path: Path, header: list[str], rows: list[list[str]], *, bom: bool) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="", encoding="utf-8-sig" if bom else "utf-8") as fh:
        writer = csv.writer(fh, lineterminator="\n")
        writer.writerow(header)
        writer.writerows(rows)


def academic(period: str, area: list[str], *rest: str) -> list[str]:
    return [period, "Academic year", *area, *rest]


def calendar(period: str, area: list[str], *rest: str) -> list[str]:
    return [period, "Calendar year", *area, *rest]


CASELOAD_HEADER = [
    *GEO,
    "breakdown_topic",
    "breakdown",
    "ehcplans",
    "mainstream_total",
    "special_independent",
    "special_total",
    "special_total_pc",
]
ALL = ("All EHC plans", "All EHC plans")
AGE = "Child or young persons age"
NEEDS_HEADER = [
    *GEO,
    "breakdown_topic",
    "breakdown",
    "ehc_plans",
    # the 2025 layout: no Down syndrome column (those children are counted under OTH)
    *(f"number_{n.lower()}" for n in sen2.NEEDS if n not in {"UNKNOWN", "DS"}),
    "number_need_unknown",
    "asd_pc",
]


AGE_2022_HEADER = [*GEO[:7], "old_la_code", "new_la_code", "la_name", "characteristic_age"]
HERTS_2022 = [*HERTS[:5], "919", "E10000015", "Hertfordshire"]
NATIONAL_2022 = [*NATIONAL[:5], "", "", ""]


def age_2022(period: str, area: list[str], label: str, all_: str, st: str = "z") -> list[str]:
    """A release-2022 age-band row: statements, EHC plans and both (with percentages)."""
    ehc = all_ if st == "z" else "z"
    return [period, "Calendar year", *area, label, st, "z", ehc, "z", all_, "z"]


def make_sen2_dir(tmp_path: Path) -> Path:
    """A small folder of official-format files: two releases, markers, a BOM, a new LA."""
    root = tmp_path / "sen2"
    r25 = root / "release-2025"
    r22 = root / "release-2022"
    r25.mkdir(parents=True)
    (r25 / "data-guidance.txt").write_text(
        "Education, health and care plans\nReporting year 2025\n", encoding="utf-8"
    )
    write_csv(
        r25 / "caseload.csv",
        CASELOAD_HEADER,
        [
            academic("201819", NATIONAL, *ALL, "1000", "500", "40", "400", "40"),
            academic("201819", EAST, *ALL, "300", "150", "x", "100", "33.3"),
            academic("201819", HERTS, *ALL, "120", "60", "2", "50", "41.7"),
            academic("201819", bucks("E10000002"), *ALL, "80", "40", "c", "z", "z"),
            academic("201819", SOUTH_EAST, *ALL, "200", "100", "10", "90", "45"),
            academic("202425", NATIONAL, *ALL, "2000", "900", "80", "700", "35"),
            academic("202425", EAST, *ALL, "600", "300", "20", "200", "33.3"),
            academic("202425", HERTS, *ALL, "250", "120", "8", "100", "40"),
            academic("202425", NEWTOWN, *ALL, "15", "5", "0", "0", "0"),
            academic("202425", bucks("E10000002"), *ALL, "90", "45", "1", "30", "33.3"),
            academic("202425", SOUTH_EAST, *ALL, "400", "200", "5", "150", "37.5"),
            academic("202425", HERTS, AGE, "under 3", "3", "1", "0", "1", "33.3"),
            academic("202425", HERTS, AGE, "age 4", "20", "15", "x", "5", "25"),
            academic("202425", HERTS, AGE, "age 25", "x", "x", "x", "x", "x"),
        ],
        bom=True,
    )
    need_values = [str(i) for i in range(1, 14)]
    write_csv(
        r25 / "sen_needs_all_plans.csv",
        NEEDS_HEADER,
        [
            academic("202425", HERTS, *ALL, "91", *need_values, "10"),
            academic(
                "202425",
                HERTS,
                "Type of placement",
                "Special - total",
                "50",
                "20",
                "c",
                *["1"] * 9,
                "z",
                "10",
                "40",
            ),
            academic("202425", HERTS, AGE, "under 3", "2", "2", *["0"] * 12, "100"),
        ],
        bom=True,
    )
    write_csv(
        r25 / "newplans.csv",
        [*GEO, "breakdown_topic", "breakdown", "new_ehc_plans", "special_total"],
        [
            # every council of the region shows the regional total: impossible
            calendar("2022", EAST, "New EHC plans", "New EHC plans", "70", "7"),
            calendar("2022", HERTS, "New EHC plans", "New EHC plans", "70", "4"),
            calendar("2022", NEWTOWN, "New EHC plans", "New EHC plans", "70", "3"),
            calendar("2022", HERTS, "Age when plan started", "age 2 and under", "5", "0"),
            calendar("2022", HERTS, "Age when plan started", "age 20 and over", "x", "z"),
        ],
        bom=True,
    )
    write_csv(
        r22 / "sen2_age_caseload.csv",
        [
            *GEO[:7],
            "old_la_code",
            "new_la_code",
            "la_name",
            "characteristic_age",
            "Total_st",
            "Total_st_pc",
            "Total_ehc",
            "Total_ehc_pc",
            "Total_all",
            "Total_all_pc",
        ],
        [
            [
                "2015",
                "Calendar year",
                *NATIONAL[:5],
                "",
                "",
                "",
                "Total",
                "600",
                "100",
                "5",
                "0",
                "605",
                "100",
            ],
            # 2019 is also in release 2025, which must win (1000, not 999)
            [
                "2019",
                "Calendar year",
                *NATIONAL[:5],
                "",
                "",
                "",
                "Total",
                "z",
                "z",
                "999",
                "100",
                "999",
                "100",
            ],
            [
                "2015",
                "Calendar year",
                *HERTS[:5],
                "919",
                "E10000015",
                "Hertfordshire",
                "Total",
                "70",
                "100",
                "z",
                "z",
                "70",
                "100",
            ],
            [
                "2015",
                "Calendar year",
                *HERTS[:5],
                "919",
                "E10000015",
                "Hertfordshire",
                "Under 5",
                "4",
                "100",
                "z",
                "z",
                "4",
                "100",
            ],
            age_2022("2015", HERTS_2022, "Age 5 to 10", "30", st="30"),
            age_2022("2015", HERTS_2022, "Age 11 to 15", "26", st="26"),
            age_2022("2015", HERTS_2022, "Age 16 to 19", "10", st="10"),
            age_2022("2015", HERTS_2022, "Age 20 to 25", "0", st="0"),
            # markers in an age band are missing values, not zeros
            age_2022("2015", NATIONAL_2022, "Under 5", "x", st="x"),
            age_2022("2015", NATIONAL_2022, "Age 20 to 25", "z", st="z"),
        ],
        bom=False,
    )
    new_header = [
        *AGE_2022_HEADER,
        "Total_new_st",
        "Total_new_st_pc",
        "Total_new_ehc",
        "Total_new_ehc_pc",
        "Total_new_all",
        "Total_new_all_pc",
    ]
    write_csv(
        r22 / "sen2_age_new_plans.csv",
        new_header,
        [
            # calendar year of the new plans; before 2014 there is no "Age 20 to 25" band
            age_2022("2013", NATIONAL_2022, "Total", "40", st="40"),
            age_2022("2013", NATIONAL_2022, "Under 5", "15", st="15"),
            age_2022("2013", NATIONAL_2022, "Age 5 to 10", "15", st="15"),
            age_2022("2013", NATIONAL_2022, "Age 11 to 15", "9", st="9"),
            age_2022("2013", NATIONAL_2022, "Age 16 to 19", "1", st="1"),
            age_2022("2021", HERTS_2022, "Total", "9"),
            age_2022("2021", HERTS_2022, "Under 5", "3"),
            age_2022("2021", HERTS_2022, "Age 5 to 10", "z"),
            age_2022("2021", HERTS_2022, "Age 11 to 15", "4"),
            age_2022("2021", HERTS_2022, "Age 16 to 19", "2"),
            age_2022("2021", HERTS_2022, "Age 20 to 25", "0"),
            # 2022 is also in release 2025 (single ages), which must win
            age_2022("2022", HERTS_2022, "Total", "99"),
            age_2022("2022", HERTS_2022, "Under 5", "99"),
        ],
        bom=True,
    )
    return root
