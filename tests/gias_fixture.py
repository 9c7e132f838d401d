"""A small GIAS establishment extract in the official shape (tests/data/gias).

The header is the published "Establishment fields CSV" column set
(``edubasealldataYYYYMMDD.csv``, 2024 files), most of which placeplan does not read;
the file is written as GIAS publishes it: Windows-1252, CRLF line ends, dates as
DD-MM-YYYY, blank cells where a value is missing.

Every school, name and number here is made up (plausible for Hertfordshire, LA 919,
and Kent, LA 886): this is not the register. ``python tests/gias_fixture.py``
rewrites the committed copy.

Open on 2025-01-06 in Hertfordshire, with the Hertfordshire baseline's
need_designation (what tests/test_gias.py checks):

======================================  ==========  ==============================
school                                  places      why
======================================  ==========  ==============================
Greenfields School (SLD first)          SLD 120     SchoolCapacity
Ashcroft School (SLD, closes 31-08-25)  SLD 50      closed after the date: counted
St Mary’s School (ASD)                  ASD 90      the ’ proves the encoding
Meadowbank School (PD first)            PSI 80      PD -> [PSI, SLD]: primary PSI
Brook Valley School (MLD)               MLD 150     capacity blank: 150 on roll
Lime Tree Academy (SEMH)                SEMH 60
Rowan House School (EAL?, SEMH)         SEMH 45     EAL is no SEN type: reported
Oakfield Primary School                 ASD-RP 12   resourced provision
Beech Hill Primary School               ASD-UNIT 14 SEN unit
Kingsway Academy (HI)                   PSI-RP 10,  both; unit capacity blank: 8 on
                                        PSI-UNIT 8  roll
======================================  ==========  ==============================

Left out: Old Mill School (closed 2018), Hazel Grove School (no capacity, no pupils),
Cedar Lodge School (no SEN type), Ashcroft Academy (opens 01-09-2025, replacing Ashcroft
School: no new places), Elstree Park Free School (opens 2027: proposed), the special
post-16 institution, Kent's schools.
Independent: The Willows (40) and Chiltern Heights (65, non-maintained): 105.
"""

from __future__ import annotations

import csv
from pathlib import Path

HERE = Path(__file__).resolve().parent
COMMITTED = HERE / "data" / "gias" / "edubasealldata20261101.csv"

SEN_COLUMNS = [f"SEN{i} (name)" for i in range(1, 14)]

COLUMNS = [
    "URN",
    "LA (code)",
    "LA (name)",
    "EstablishmentNumber",
    "EstablishmentName",
    "TypeOfEstablishment (code)",
    "TypeOfEstablishment (name)",
    "EstablishmentTypeGroup (code)",
    "EstablishmentTypeGroup (name)",
    "EstablishmentStatus (code)",
    "EstablishmentStatus (name)",
    "ReasonEstablishmentOpened (code)",
    "ReasonEstablishmentOpened (name)",
    "OpenDate",
    "ReasonEstablishmentClosed (code)",
    "ReasonEstablishmentClosed (name)",
    "CloseDate",
    "PhaseOfEducation (code)",
    "PhaseOfEducation (name)",
    "StatutoryLowAge",
    "StatutoryHighAge",
    "Boarders (code)",
    "Boarders (name)",
    "NurseryProvision (name)",
    "OfficialSixthForm (code)",
    "OfficialSixthForm (name)",
    "Gender (code)",
    "Gender (name)",
    "ReligiousCharacter (code)",
    "ReligiousCharacter (name)",
    "ReligiousEthos (name)",
    "Diocese (code)",
    "Diocese (name)",
    "AdmissionsPolicy (code)",
    "AdmissionsPolicy (name)",
    "SchoolCapacity",
    "SpecialClasses (code)",
    "SpecialClasses (name)",
    "CensusDate",
    "NumberOfPupils",
    "NumberOfBoys",
    "NumberOfGirls",
    "PercentageFSM",
    "TrustSchoolFlag (code)",
    "TrustSchoolFlag (name)",
    "Trusts (code)",
    "Trusts (name)",
    "SchoolSponsorFlag (name)",
    "SchoolSponsors (name)",
    "FederationFlag (name)",
    "Federations (code)",
    "Federations (name)",
    "UKPRN",
    "FEHEIdentifier",
    "FurtherEducationType (name)",
    "OfstedLastInsp",
    "OfstedSpecialMeasures (code)",
    "OfstedSpecialMeasures (name)",
    "LastChangedDate",
    "Street",
    "Locality",
    "Address3",
    "Town",
    "County (name)",
    "Postcode",
    "SchoolWebsite",
    "TelephoneNum",
    "HeadTitle (name)",
    "HeadFirstName",
    "HeadLastName",
    "HeadPreferredJobTitle",
    "BSOInspectorateName (name)",
    "InspectorateReport",
    "DateOfLastInspectionVisit",
    "NextInspectionVisit",
    "TeenMoth (name)",
    "TeenMothPlaces",
    "CCF (name)",
    "SENPRU (name)",
    "EBD (name)",
    "PlacesPRU",
    "FTProv (name)",
    "EdByOther (name)",
    "Section41Approved (name)",
    *SEN_COLUMNS,
    "TypeOfResourcedProvision (name)",
    "ResourcedProvisionOnRoll",
    "ResourcedProvisionCapacity",
    "SenUnitOnRoll",
    "SenUnitCapacity",
    "GOR (code)",
    "GOR (name)",
    "DistrictAdministrative (code)",
    "DistrictAdministrative (name)",
    "AdministrativeWard (code)",
    "AdministrativeWard (name)",
    "ParliamentaryConstituency (code)",
    "ParliamentaryConstituency (name)",
    "UrbanRural (code)",
    "UrbanRural (name)",
    "GSSLACode (name)",
    "Easting",
    "Northing",
    "MSOA (name)",
    "LSOA (name)",
    "InspectorateName (name)",
    "SENStat",
    "SENNoStat",
    "BoardingEstablishment (name)",
    "PropsName",
    "PreviousLA (code)",
    "PreviousLA (name)",
    "PreviousEstablishmentNumber",
    "OfstedRating (name)",
    "RSCRegion (name)",
    "Country (name)",
    "UPRN",
    "SiteName",
    "QABName (code)",
    "QABName (name)",
    "EstablishmentAccredited (code)",
    "EstablishmentAccredited (name)",
    "QABReport",
    "CHNumber",
    "MSOA (code)",
    "LSOA (code)",
    "FSM",
    "AccreditationExpiryDate",
]
"""The published column set (a 2024 extract's header, in order)."""

TYPE_CODES = {
    "Community school": ("1", "4", "Local authority maintained schools"),
    "Community special school": ("7", "5", "Special schools"),
    "Foundation special school": ("12", "5", "Special schools"),
    "Non-maintained special school": ("8", "5", "Special schools"),
    "Other independent special school": ("10", "3", "Independent schools"),
    "Other independent school": ("11", "3", "Independent schools"),
    "Academy converter": ("34", "10", "Academies"),
    "Academy special converter": ("33", "10", "Academies"),
    "Free schools special": ("36", "11", "Free Schools"),
    "Special post 16 institution": ("56", "9", "Other types"),
}
"""TypeOfEstablishment (name) -> (its code, EstablishmentTypeGroup code and name)."""

STATUS_CODES = {
    "Open": "1",
    "Closed": "2",
    "Open, but proposed to close": "3",
    "Proposed to open": "4",
}

DISTRICTS = {
    "Dacorum": ("E07000096", 505200, 207100),
    "St Albans": ("E07000240", 515000, 207300),
    "Watford": ("E07000103", 511000, 196500),
    "Stevenage": ("E07000243", 524200, 224500),
    "Hertsmere": ("E07000098", 519300, 199400),
    "Welwyn Hatfield": ("E07000241", 523200, 210400),
    "Maidstone": ("E07000110", 576000, 155700),
}
"""District -> (ONS code, a made-up school's Easting and Northing)."""

ASD = "ASD - Autistic Spectrum Disorder"
SLD = "SLD - Severe Learning Difficulty"
PMLD = "PMLD - Profound and Multiple Learning Difficulty"
MLD = "MLD - Moderate Learning Difficulty"
SEMH = "SEMH - Social, Emotional and Mental Health"
SLCN = "SLCN - Speech, language and Communication"
PD = "PD - Physical Disability"
HI = "HI - Hearing Impairment"
VI = "VI - Visual Impairment"
MSI = "MSI - Multi-Sensory Impairment"

HERTS = ("919", "Hertfordshire", "E10000015", "E12000006", "East of England")
KENT = ("886", "Kent", "E10000016", "E12000008", "South East")


def school(*args: str, **kwargs: object) -> tuple[tuple, dict]:
    """A school's description, made a row (with its URN) by :func:`rows`."""
    return args, kwargs


def _row(
    urn: str,
    name: str,
    kind: str,
    district: str,
    *,
    la: tuple[str, ...] = HERTS,
    status: str = "Open",
    opened: str = "",
    closed: str = "",
    ages: tuple[int, int] = (4, 19),
    capacity: str = "",
    pupils: str = "",
    sen: tuple[str, ...] = (),
    provision: str = "Not applicable",
    rp: tuple[str, str] = ("", ""),
    unit: tuple[str, str] = ("", ""),
    phase: str = "Not applicable",
) -> list[str]:
    """One row, every column filled as GIAS fills it for such a school."""
    type_code, group_code, group = TYPE_CODES[kind]
    district_code, east, north = DISTRICTS[district]
    values = {
        "URN": urn,
        "LA (code)": la[0],
        "LA (name)": la[1],
        "EstablishmentNumber": str(7000 + int(urn) % 1000),
        "EstablishmentName": name,
        "TypeOfEstablishment (code)": type_code,
        "TypeOfEstablishment (name)": kind,
        "EstablishmentTypeGroup (code)": group_code,
        "EstablishmentTypeGroup (name)": group,
        "EstablishmentStatus (code)": STATUS_CODES[status],
        "EstablishmentStatus (name)": status,
        "ReasonEstablishmentOpened (code)": "00",
        "ReasonEstablishmentOpened (name)": "Not applicable",
        "OpenDate": opened,
        "ReasonEstablishmentClosed (code)": "99" if closed else "00",
        "ReasonEstablishmentClosed (name)": "Other" if closed else "Not applicable",
        "CloseDate": closed,
        "PhaseOfEducation (name)": phase,
        "StatutoryLowAge": str(ages[0]),
        "StatutoryHighAge": str(ages[1]),
        "Boarders (name)": "No boarders",
        "Gender (name)": "Mixed",
        "ReligiousCharacter (name)": "Does not apply",
        "AdmissionsPolicy (name)": "Not applicable",
        "SchoolCapacity": capacity,
        "SpecialClasses (name)": "Has Special Classes"
        if kind.endswith("special school")
        else "No Special Classes",
        "CensusDate": "16-01-2025" if pupils else "",
        "NumberOfPupils": pupils,
        "PercentageFSM": "21.4" if pupils else "",
        "TrustSchoolFlag (name)": "Not applicable",
        "SchoolSponsorFlag (name)": "Not applicable",
        "FederationFlag (name)": "Not under a federation",
        "UKPRN": str(10070000 + int(urn) % 1000),
        "FurtherEducationType (name)": "Not applicable",
        "OfstedSpecialMeasures (code)": "0",
        "OfstedSpecialMeasures (name)": "Not applicable",
        "LastChangedDate": "28-10-2026",
        "Street": "School Lane",
        "Town": district,
        "County (name)": la[1],
        "Postcode": "AL1 1AA",
        "SchoolWebsite": "",
        "TelephoneNum": "01707 000000",
        "HeadTitle (name)": "Mrs",
        "HeadFirstName": "Ann",
        "HeadLastName": "Example",
        "HeadPreferredJobTitle": "Headteacher",
        "BSOInspectorateName (name)": "Not applicable",
        "Section41Approved (name)": "Not applicable",
        "TypeOfResourcedProvision (name)": provision,
        "ResourcedProvisionOnRoll": rp[1],
        "ResourcedProvisionCapacity": rp[0],
        "SenUnitOnRoll": unit[1],
        "SenUnitCapacity": unit[0],
        "GOR (name)": la[4],
        "DistrictAdministrative (code)": district_code,
        "DistrictAdministrative (name)": district,
        "UrbanRural (name)": "(England/Wales) Urban city and town",
        "GSSLACode (name)": la[2],
        "Easting": str(east + int(urn) % 7 * 100),
        "Northing": str(north + int(urn) % 5 * 100),
        "Country (name)": "",
        "QABName (code)": "0",
        "QABName (name)": "Not applicable",
        "EstablishmentAccredited (code)": "0",
        "EstablishmentAccredited (name)": "Not applicable",
    }
    for column, value in zip(SEN_COLUMNS, sen, strict=False):
        values[column] = value
    return [values.get(c, "") for c in COLUMNS]


def rows() -> list[list[str]]:
    """The establishments, in URN order."""
    special = "Community special school"
    described = [
        school(
            "Greenfields School",
            special,
            "Dacorum",
            ages=(2, 19),
            capacity="120",
            pupils="118",
            sen=(SLD, PMLD, ASD, SLCN),
        ),
        school(
            "Ashcroft School",
            special,
            "Hertsmere",
            status="Closed",
            closed="31-08-2025",
            ages=(11, 19),
            capacity="50",
            pupils="49",
            sen=(SLD, ASD),
        ),
        school(
            "Ashcroft Academy",
            "Academy special converter",
            "Hertsmere",
            opened="01-09-2025",
            ages=(11, 19),
            capacity="50",
            sen=(SLD, ASD),
        ),
        school(
            "St Mary’s School",
            "Academy special converter",
            "St Albans",
            opened="01-04-2016",
            ages=(4, 11),
            capacity="90",
            pupils="92",
            sen=(ASD,),
        ),
        school(
            "Meadowbank School",
            "Foundation special school",
            "Welwyn Hatfield",
            ages=(3, 19),
            capacity="80",
            pupils="71",
            sen=(PD, HI, VI, MSI),
        ),
        school(
            "Brook Valley School",
            "Foundation special school",
            "Watford",
            ages=(5, 16),
            capacity="",
            pupils="150",
            sen=(MLD, SLCN, ASD),
        ),
        school(
            "Lime Tree Academy",
            "Free schools special",
            "Stevenage",
            opened="01-09-2019",
            ages=(11, 16),
            capacity="60",
            pupils="58",
            sen=(SEMH,),
        ),
        school(
            "Rowan House School",
            special,
            "Stevenage",
            ages=(5, 11),
            capacity="45",
            pupils="40",
            sen=("EAL - English as an Additional Language", SEMH),
        ),
        school(
            "Old Mill School",
            special,
            "Watford",
            status="Closed",
            closed="31-08-2018",
            ages=(5, 16),
            capacity="100",
            sen=(MLD,),
        ),
        school("Hazel Grove School", special, "Dacorum", ages=(4, 11), sen=(ASD,)),
        school(
            "Cedar Lodge School",
            special,
            "St Albans",
            ages=(11, 19),
            capacity="50",
            pupils="47",
            sen=("Not Applicable",),
        ),
        school(
            "Elstree Park Free School",
            "Free schools special",
            "Hertsmere",
            status="Proposed to open",
            opened="01-09-2027",
            ages=(4, 19),
            capacity="100",
            sen=(SEMH, ASD),
        ),
        school(
            "Oakfield Primary School",
            "Community school",
            "Watford",
            ages=(3, 11),
            capacity="420",
            pupils="410",
            sen=(ASD,),
            provision="Resourced provision",
            rp=("12", "11"),
            phase="Primary",
        ),
        school(
            "Beech Hill Primary School",
            "Community school",
            "Dacorum",
            ages=(4, 11),
            capacity="630",
            pupils="601",
            sen=(ASD,),
            provision="SEN unit",
            unit=("14", "14"),
            phase="Primary",
        ),
        school(
            "Kingsway Academy",
            "Academy converter",
            "St Albans",
            opened="01-08-2012",
            ages=(11, 18),
            capacity="1200",
            pupils="1180",
            sen=(HI,),
            provision="Resourced provision and SEN unit",
            rp=("10", "9"),
            unit=("", "8"),
            phase="Secondary",
        ),
        school(
            "Sandridge Primary School",
            "Community school",
            "St Albans",
            ages=(4, 11),
            capacity="210",
            pupils="205",
            phase="Primary",
        ),
        school(
            "Bishop’s Wood Academy",
            "Academy converter",
            "Stevenage",
            ages=(11, 18),
            capacity="1500",
            pupils="1440",
            phase="Secondary",
        ),
        school(
            "Hatfield Road Primary School",
            "Community school",
            "Welwyn Hatfield",
            ages=(4, 11),
            capacity="420",
            pupils="400",
            phase="Primary",
        ),
        school(
            "Bushey Heath Primary School",
            "Community school",
            "Hertsmere",
            ages=(4, 11),
            capacity="420",
            pupils="380",
            phase="Primary",
        ),
        school(
            "The Willows",
            "Other independent special school",
            "Dacorum",
            ages=(7, 18),
            capacity="40",
            pupils="33",
            sen=(ASD, SEMH),
        ),
        school(
            "Chiltern Heights School",
            "Non-maintained special school",
            "Welwyn Hatfield",
            ages=(5, 19),
            capacity="65",
            pupils="60",
            sen=(PD, SLD),
        ),
        school(
            "Abbey Preparatory School",
            "Other independent school",
            "St Albans",
            ages=(3, 13),
            capacity="400",
            pupils="390",
            phase="Not applicable",
        ),
        school(
            "Hertfordshire Specialist College",
            "Special post 16 institution",
            "Watford",
            ages=(16, 25),
            capacity="80",
            pupils="70",
            sen=(ASD,),
        ),
        school(
            "Medway Valley School",
            special,
            "Maidstone",
            la=KENT,
            ages=(4, 19),
            capacity="200",
            pupils="190",
            sen=(ASD,),
        ),
        school(
            "Loose Road Primary School",
            "Community school",
            "Maidstone",
            la=KENT,
            ages=(4, 11),
            capacity="420",
            pupils="415",
            sen=(ASD,),
            provision="Resourced provision",
            rp=("15", "15"),
            phase="Primary",
        ),
    ]
    return [_row(str(117001 + i), *args, **kw) for i, (args, kw) in enumerate(described)]


def write_extract(path: Path, encoding: str = "cp1252") -> Path:
    """Write the extract as GIAS publishes it (Windows-1252, CRLF line ends)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="", encoding=encoding) as fh:
        writer = csv.writer(fh, lineterminator="\r\n")
        writer.writerow(COLUMNS)
        writer.writerows(rows())
    return path


if __name__ == "__main__":
    write_extract(COMMITTED)
    print(f"wrote {COMMITTED}")
