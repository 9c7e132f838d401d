"""School capacity from the DfE "Get Information about Schools" (GIAS) register.

GIAS publishes every establishment in England as one CSV file, the "Establishment
fields CSV" (``edubasealldataYYYYMMDD.csv``, Windows-1252, about 140 columns, refreshed
daily). :func:`read_gias` reads it as published; :func:`placement_from_gias` turns the
special school places of one council open on a date into placeplan's placement side
(designations, localities and schools, shaped as :class:`~placeplan.scenario.PlacementSpec`
takes them), with every gap in the register reported in a sentence.

What is counted, and how (each rule is stated in the ``source`` it produces):

- **Council.** Establishments whose ``LA (code)`` is the council's three-digit DfE LA
  number (:func:`placeplan.sen2.councils`, ``old_la_code``): schools located in the
  council, whoever placed the pupils there.
- **Open on the date.** An establishment counts when it is open on ``on``: its
  ``OpenDate`` (if any) is on or before ``on`` and its ``CloseDate`` (if any, the last
  day it was open) on or after ``on``. A school still "Proposed to open" counts only if
  its ``OpenDate`` was ahead at the extract's date (the register expected it open by
  ``on``). A school closing after ``on`` counts; with no successor its places close to
  new pupils the day after (``temporary_until``). Establishments opening after ``on``
  are not counted: they are :attr:`GiasPlacement.proposed` build projects, less the
  places of a school of the same district they replace (one closing the day before,
  as in academy conversions).
- **Council special school places.** State-funded special schools (community,
  foundation, academy special converter and sponsor led, free schools special):
  places = ``SchoolCapacity``; when it is blank (or 0), ``NumberOfPupils`` on roll,
  reported; with neither, the school is reported and left out.
- **Designation.** A school's places all go to one designation: that of the *first*
  SEN provision type it lists (``SEN1 (name)``, then ``SEN2 (name)``, ...) which
  ``need_designation`` maps, taking the need's first (primary) designation. GIAS
  gives no places by type, and special schools list every need they take (an SLD
  school lists SLD, PMLD, PD, ASD, SLCN, MSI...): splitting places over the list
  would move most of an SLD school's places to designations it does not plan for.
  The first type listed is taken as the school's main designation (an assumption,
  stated in each school's ``source`` with the other types it lists). The legacy type
  BESD (behaviour, emotional and social difficulty, before 2014) is read as SEMH.
- **Resourced provisions and SEN units** in mainstream schools
  (``TypeOfResourcedProvision (name)``) are designations of their own: the
  designation of their first mapped SEN type with ``-RP`` (``ResourcedProvisionCapacity``)
  or ``-UNIT`` (``SenUnitCapacity``) appended, e.g. ``ASD-RP``. Nobody is referred to
  them directly: they serve their base designation's children (``also_serves``) once
  that designation's special school places are taken. Capacity falls back to the
  number on roll, reported.
- **Independent and non-maintained special schools** ("Other independent special
  school", "Non-maintained special school") are not council places: their capacity
  (or pupils) is :attr:`GiasPlacement.independent_places`.
- **Localities** are the administrative districts (``DistrictAdministrative (name)``)
  of the council's schools. A locality's ``share`` of referrals is its share of the
  pupils on roll in the council's open state-funded schools (mainstream and special:
  where the council's children go to school, a proxy for where they live). Its
  ``neighbours`` are the two districts whose schools' mean Easting/Northing (British
  National Grid) lie nearest its own: nearness of centroids, not shared boundaries.

The register is published by the Department for Education under the Open Government
Licence v3.0.
"""

from __future__ import annotations

import csv
import datetime
import hashlib
import io
import math
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from placeplan.errors import InputError
from placeplan.scenario import NEEDS
from placeplan.sen2 import RECORDED_UNDER

__all__ = [
    "INDEPENDENT_TYPES",
    "LICENCE",
    "REQUIRED_COLUMNS",
    "SPECIAL_TYPES",
    "Establishment",
    "GiasExtract",
    "GiasPlacement",
    "placement_from_gias",
    "read_gias",
]

LICENCE = "Open Government Licence v3.0"
"""Licence of the GIAS register."""

SPECIAL_TYPES = (
    "Community special school",
    "Foundation special school",
    "Academy special converter",
    "Academy special sponsor led",
    "Free schools special",
)
"""``TypeOfEstablishment (name)`` of state-funded special schools: the council's places."""

INDEPENDENT_TYPES = ("Other independent special school", "Non-maintained special school")
"""``TypeOfEstablishment (name)`` of independent and non-maintained special schools."""

POST16_TYPES = ("Special post 16 institution",)
"""Specialist post-16 institutions: reported, not counted (colleges, not school places)."""

STATE_GROUPS = (
    "Local authority maintained schools",
    "Academies",
    "Free Schools",
    "Special schools",
)
"""``EstablishmentTypeGroup (name)`` of state-funded schools (pupils give locality shares)."""

STATUSES = ("Open", "Open, but proposed to close", "Proposed to open", "Closed")
"""``EstablishmentStatus (name)`` values as published."""

PROVISION_KINDS: dict[str, tuple[str, ...]] = {
    "": (),
    "not applicable": (),
    "resourced provision": ("RP",),
    "sen unit": ("UNIT",),
    "resourced provision and sen unit": ("RP", "UNIT"),
}
"""``TypeOfResourcedProvision (name)`` (lower case) -> kinds of provision it has."""

SEN_CODES: dict[str, str] = {
    code: code
    for code in NEEDS
    if code not in RECORDED_UNDER  # GIAS has no DS type
} | {"BESD": "SEMH"}
"""SEN provision type code (upper case, before `` - `` in ``SEN1 (name)``) -> SEN2 need."""

_NOT_A_TYPE = {"", "not applicable", "not recorded"}

SEN_COLUMNS = tuple(f"SEN{i} (name)" for i in range(1, 14))
"""The SEN provision type columns as published (``SEN1 (name)`` is required, the rest read
when present)."""

REQUIRED_COLUMNS = (
    "URN",
    "LA (code)",
    "LA (name)",
    "EstablishmentName",
    "TypeOfEstablishment (name)",
    "EstablishmentTypeGroup (name)",
    "EstablishmentStatus (name)",
    "OpenDate",
    "CloseDate",
    "StatutoryLowAge",
    "StatutoryHighAge",
    "SchoolCapacity",
    "NumberOfPupils",
    "SEN1 (name)",
    "TypeOfResourcedProvision (name)",
    "ResourcedProvisionOnRoll",
    "ResourcedProvisionCapacity",
    "SenUnitOnRoll",
    "SenUnitCapacity",
    "DistrictAdministrative (name)",
    "Easting",
    "Northing",
)
"""Columns a GIAS extract must have for this reader (of the ~140 published)."""

_FILE_DATE = re.compile(r"edubasealldata(\d{8})", re.IGNORECASE)
_DATE_FORMATS = ("%d-%m-%Y", "%d/%m/%Y", "%Y-%m-%d")
_NEIGHBOURS = 2
_LISTED = 10


@dataclass(frozen=True, slots=True)
class Establishment:
    """One row of the register that placeplan uses, with its values parsed.

    Attributes
    ----------
    line : int
        Line of the row in the file.
    urn, la_code, la_name, name, kind, group, status, district : str
        ``URN``, ``LA (code)``, ``LA (name)``, ``EstablishmentName``,
        ``TypeOfEstablishment (name)``, ``EstablishmentTypeGroup (name)``,
        ``EstablishmentStatus (name)`` and ``DistrictAdministrative (name)``.
    opened, closed : datetime.date or None
        ``OpenDate`` and ``CloseDate``.
    low_age, high_age : int or None
        ``StatutoryLowAge`` and ``StatutoryHighAge`` [years].
    capacity, pupils : int or None
        ``SchoolCapacity`` [places] and ``NumberOfPupils`` [children].
    sen_types : tuple of str
        The SEN provision types listed, in column order, as published.
    provision : str
        ``TypeOfResourcedProvision (name)``.
    rp_capacity, rp_on_roll, unit_capacity, unit_on_roll : int or None
        Resourced provision and SEN unit capacity [places] and pupils on roll [children].

    """

    line: int
    urn: str
    la_code: str
    la_name: str
    name: str
    kind: str
    group: str
    status: str
    opened: datetime.date | None
    closed: datetime.date | None
    district: str
    low_age: int | None
    high_age: int | None
    capacity: int | None
    pupils: int | None
    sen_types: tuple[str, ...]
    provision: str
    rp_capacity: int | None
    rp_on_roll: int | None
    unit_capacity: int | None
    unit_on_roll: int | None


@dataclass(frozen=True, slots=True)
class District:
    """Open state-funded schools of one council in one administrative district.

    Attributes
    ----------
    la_code, name : str
        DfE LA number and district name.
    pupils : int
        Pupils on roll [children].
    easting, northing : float or None
        Mean British National Grid coordinates of the schools that give them [m].

    """

    la_code: str
    name: str
    pupils: int
    easting: float | None
    northing: float | None


@dataclass(frozen=True)
class GiasExtract:
    """A GIAS establishment extract, as read by :func:`read_gias`.

    Only the rows placeplan uses are kept: special schools of every type, and
    mainstream schools with a resourced provision or SEN unit. The other open
    state-funded schools are kept as pupils and coordinates by district.

    Attributes
    ----------
    path : str
        The file read.
    sha256 : str
        SHA-256 of its bytes.
    extract_date : datetime.date or None
        The date in the file name (``edubasealldataYYYYMMDD.csv``), if it has one.
    encoding : str
        ``"cp1252"`` (as published) or ``"utf-8-sig"``/``"utf-8"``.
    rows : int
        Establishments in the file.
    establishments : tuple of Establishment
        The special schools and resourced provisions, in file order.
    districts : tuple of District
        Pupils and coordinates of open state-funded schools by council and district.
    councils : dict of str to str
        Every ``LA (code)`` in the file, with its ``LA (name)``.

    """

    path: str
    sha256: str
    extract_date: datetime.date | None
    encoding: str
    rows: int
    establishments: tuple[Establishment, ...]
    districts: tuple[District, ...]
    councils: dict[str, str]

    @property
    def file(self) -> str:
        """The file's name, without its folder."""
        return Path(self.path).name

    @property
    def source(self) -> str:
        """Provenance in words: file, SHA-256, extract date and licence."""
        when = f", extract of {self.extract_date.isoformat()}" if self.extract_date else ""
        return (
            f"DfE Get Information about Schools, establishment fields CSV {self.file} "
            f"(SHA-256 {self.sha256}{when}); {LICENCE}"
        )


@dataclass(frozen=True)
class GiasPlacement:
    """One council's special school places from GIAS, shaped as a scenario takes them.

    Attributes
    ----------
    designations : dict of str to dict
        :class:`~placeplan.scenario.DesignationSpec`-shaped: ``{"places": int,
        "source": str}`` (``also_serves`` for resourced provisions and units) [places].
        Every designation ``need_designation`` names is present, with 0 places if no
        open school has it.
    localities : dict of str to dict
        :class:`~placeplan.scenario.LocalitySpec`-shaped: ``{"share": float,
        "neighbours": [str, ...]}``, in name order.
    schools : list of dict
        :class:`~placeplan.scenario.SchoolSpec`-shaped: ``name``, ``locality``,
        ``places`` by designation [places], ``ages`` (SEN2 ages) [years], ``source``.
        Their places add up to ``designations``.
    independent_places : int
        Places of the independent and non-maintained special schools located in the
        council [places]: not council places.
    gaps : list of str
        One sentence per gap in the register: what was missing and what was done.
    source : str
        The file, its SHA-256, the extract date, the date of the places and the licence.
    proposed : list of dict
        :class:`~placeplan.scenario.BuildProject`-shaped projects for establishments due
        to open after the date (one per school and designation), not counted in
        ``designations``.

    """

    designations: dict[str, dict]
    localities: dict[str, dict]
    schools: list[dict]
    independent_places: int
    gaps: list[str]
    source: str
    proposed: list[dict] = field(default_factory=list)

    def apply_to(self, placement: Mapping) -> dict:
        """A copy of a scenario's ``placement`` mapping with these places in it.

        ``designations``, ``localities`` and ``schools`` are replaced; everything else
        (panels, build programme, out of area) is kept. ``proposed`` is not added.

        Parameters
        ----------
        placement : Mapping
            The ``placement`` section of a scenario, as parsed from YAML.

        Returns
        -------
        dict
            The new ``placement`` section.

        """
        out = dict(placement)
        out["designations"] = {k: dict(v) for k, v in self.designations.items()}
        out["localities"] = {k: dict(v) for k, v in self.localities.items()}
        out["schools"] = [dict(s) for s in self.schools]
        return out


# --------------------------------------------------------------------------------------
# Reading the file
# --------------------------------------------------------------------------------------


def _decode(data: bytes, path: Path) -> tuple[str, str]:
    """The file's text and its encoding: UTF-8 (with or without BOM), else Windows-1252."""
    # valid UTF-8 with accents is never Windows-1252 text: try it first
    bom = data.startswith(b"\xef\xbb\xbf")
    encodings = ("utf-8-sig",) if bom else ("utf-8", "cp1252")
    for encoding in encodings:
        try:
            return data.decode(encoding), encoding
        except UnicodeDecodeError as exc:
            error = exc
    line = data[: error.start].count(b"\n") + 1
    raise InputError(
        f"{path}:{line}: byte {data[error.start]:#04x} is not text in "
        f"{' or '.join(encodings)}; expected the GIAS extract as published (Windows-1252) "
        "or saved as UTF-8"
    )


class _Cells:
    """Typed access to one row's cells, with errors naming file, line and column."""

    def __init__(self, path: Path, line: int, row: list[str], index: dict[str, int]) -> None:
        self.path, self.line, self.row, self.index = path, line, row, index

    def text(self, column: str) -> str:
        i = self.index.get(column)
        return self.row[i].strip() if i is not None and i < len(self.row) else ""

    def _bad(self, column: str, raw: str, expected: str) -> InputError:
        return InputError(f"{self.path}:{self.line}: column {column!r}: {raw!r} is not {expected}")

    def _float(self, column: str) -> tuple[str, float | None]:
        """The cell as written, and as a number (NaN if it is none; None if blank)."""
        raw = self.text(column)
        if not raw:
            return raw, None
        try:
            return raw, float(raw.replace(",", ""))
        except ValueError:
            return raw, math.nan

    def whole(self, column: str) -> int | None:
        raw, value = self._float(column)
        if value is None:
            return None
        if not math.isfinite(value) or value != int(value) or value < 0:
            raise self._bad(column, raw, "a whole number; expected a count such as 120, or blank")
        return int(value)

    def number(self, column: str) -> float | None:
        raw, value = self._float(column)
        if value is not None and not math.isfinite(value):
            raise self._bad(column, raw, "a number; expected a grid coordinate in metres, or blank")
        return value

    def day(self, column: str) -> datetime.date | None:
        raw = self.text(column)
        if not raw:
            return None
        for fmt in _DATE_FORMATS:
            try:
                return datetime.datetime.strptime(raw, fmt).date()
            except ValueError:
                continue
        raise self._bad(column, raw, "a date; expected DD-MM-YYYY as GIAS publishes it, or blank")


def read_gias(path: str | Path) -> GiasExtract:
    """Read a GIAS establishment extract (``edubasealldataYYYYMMDD.csv``) as published.

    Parameters
    ----------
    path : str or pathlib.Path
        The "Establishment fields CSV" downloaded from GIAS: Windows-1252 as
        published, or UTF-8 (with or without a byte order mark) if re-saved.

    Returns
    -------
    GiasExtract
        The rows placeplan uses, parsed, with the file's provenance.

    Raises
    ------
    InputError
        If the file cannot be read, lacks the columns of a GIAS extract (all of them
        named), or has a value that does not parse (file, line and column named).

    Examples
    --------
    >>> extract = read_gias("edubasealldata20261101.csv")  # doctest: +SKIP
    >>> extract.extract_date  # doctest: +SKIP
    datetime.date(2026, 11, 1)

    """
    path = Path(path)
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise InputError(f"{path}: cannot read the GIAS extract ({exc.strerror})") from None
    text, encoding = _decode(data, path)
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        header = next(reader)
    except StopIteration:
        header = []
    except csv.Error as exc:
        raise InputError(f"{path}:1: not a readable CSV file ({exc})") from None
    columns = [c.strip() for c in header]
    missing = [c for c in REQUIRED_COLUMNS if c not in columns]
    if missing:
        raise InputError(
            f"{path}: not a GIAS establishment extract: missing column"
            f"{'s' if len(missing) > 1 else ''} {', '.join(repr(c) for c in missing)}; "
            "expected the 'Establishment fields CSV' (edubasealldataYYYYMMDD.csv) "
            "from get-information-schools.service.gov.uk/Downloads"
        )
    index: dict[str, int] = {}
    for i, name in enumerate(columns):
        index.setdefault(name, i)
    sen_columns = [c for c in SEN_COLUMNS if c in index]
    kept: list[Establishment] = []
    pupils: dict[tuple[str, str], list[float]] = {}
    councils: dict[str, str] = {}
    rows = 0
    try:
        for row in reader:
            if not any(cell.strip() for cell in row):
                continue
            rows += 1
            cells = _Cells(path, reader.line_num, row, index)
            la_code = cells.text("LA (code)")
            councils.setdefault(la_code, cells.text("LA (name)"))
            kind = cells.text("TypeOfEstablishment (name)")
            provision = cells.text("TypeOfResourcedProvision (name)")
            special = kind in SPECIAL_TYPES or kind in INDEPENDENT_TYPES or kind in POST16_TYPES
            if special or provision.lower() not in ("", "not applicable"):
                kept.append(_establishment(cells, sen_columns))
            state_funded = (
                cells.text("EstablishmentTypeGroup (name)") in STATE_GROUPS
                and kind not in INDEPENDENT_TYPES
            )
            if state_funded and cells.text("EstablishmentStatus (name)").startswith("Open"):
                _add_pupils(pupils, cells, la_code)
    except csv.Error as exc:
        raise InputError(f"{path}:{reader.line_num}: not a readable CSV file ({exc})") from None
    match = _FILE_DATE.search(path.name)
    extract_date = None
    if match:
        try:
            extract_date = datetime.datetime.strptime(match.group(1), "%Y%m%d").date()
        except ValueError:
            extract_date = None
    districts = tuple(
        District(
            la_code=la,
            name=name,
            pupils=int(total),
            easting=(east / n) if n else None,
            northing=(north / n) if n else None,
        )
        for (la, name), (total, east, north, n) in sorted(pupils.items())
    )
    return GiasExtract(
        path=str(path),
        sha256=hashlib.sha256(data).hexdigest(),
        extract_date=extract_date,
        encoding=encoding,
        rows=rows,
        establishments=tuple(kept),
        districts=districts,
        councils=councils,
    )


def _establishment(cells: _Cells, sen_columns: Sequence[str]) -> Establishment:
    status = cells.text("EstablishmentStatus (name)")
    if status not in STATUSES:
        raise cells._bad(
            "EstablishmentStatus (name)",
            status,
            f"a status GIAS publishes; expected one of: {', '.join(STATUSES)}",
        )
    return Establishment(
        line=cells.line,
        urn=cells.text("URN"),
        la_code=cells.text("LA (code)"),
        la_name=cells.text("LA (name)"),
        name=cells.text("EstablishmentName"),
        kind=cells.text("TypeOfEstablishment (name)"),
        group=cells.text("EstablishmentTypeGroup (name)"),
        status=status,
        opened=cells.day("OpenDate"),
        closed=cells.day("CloseDate"),
        district=cells.text("DistrictAdministrative (name)"),
        low_age=cells.whole("StatutoryLowAge"),
        high_age=cells.whole("StatutoryHighAge"),
        capacity=cells.whole("SchoolCapacity"),
        pupils=cells.whole("NumberOfPupils"),
        sen_types=tuple(t for c in sen_columns if (t := cells.text(c))),
        provision=cells.text("TypeOfResourcedProvision (name)"),
        rp_capacity=cells.whole("ResourcedProvisionCapacity"),
        rp_on_roll=cells.whole("ResourcedProvisionOnRoll"),
        unit_capacity=cells.whole("SenUnitCapacity"),
        unit_on_roll=cells.whole("SenUnitOnRoll"),
    )


def _add_pupils(pupils: dict[tuple[str, str], list[float]], cells: _Cells, la_code: str) -> None:
    """Add an open state-funded school's pupils and coordinates to its district."""
    entry = pupils.setdefault((la_code, cells.text("DistrictAdministrative (name)")), [0, 0, 0, 0])
    entry[0] += cells.whole("NumberOfPupils") or 0
    east, north = cells.number("Easting"), cells.number("Northing")
    if east and north:  # GIAS writes 0 or blank when a school has no coordinates
        entry[1] += east
        entry[2] += north
        entry[3] += 1


# --------------------------------------------------------------------------------------
# One council's places
# --------------------------------------------------------------------------------------


def _council(council: str) -> tuple[str, str, tuple[str, ...]]:
    """ONS code, name and DfE LA numbers of the council ``council`` names."""
    from placeplan import sen2

    try:
        one = sen2.load(council)
    except KeyError as exc:
        raise InputError(str(exc.args[0] if exc.args else exc)) from None
    row = one.areas.iloc[0]
    old = row["old_la_code"]
    codes = tuple(str(old).split(";")) if isinstance(old, str) and old else ()
    if row["level"] != "la" or not codes:
        raise InputError(
            f"{one.name} ({one.code}) is not a council with a DfE LA number; expected a "
            "local authority (GIAS keys schools by LA number)"
        )
    return str(one.code), str(one.name), codes


def _state(e: Establishment, on: datetime.date, extract_date: datetime.date | None) -> str:
    """``"open"``, ``"closed"`` or ``"future"`` on the day ``on``.

    A school still "Proposed to open" counts as open on ``on`` only if its ``OpenDate``
    was still ahead at the extract's date (the register expected it open by ``on``); one
    whose opening date had passed without it opening is not open.
    """
    if e.opened is not None and e.opened > on:
        return "future"
    if e.status == "Proposed to open":
        expected = e.opened is not None and extract_date is not None and e.opened > extract_date
        return "open" if expected else "future"
    if e.closed is not None:
        return "closed" if e.closed < on else "open"
    return "closed" if e.status == "Closed" else "open"


def _type_code(raw: str) -> str:
    """``"ASD - Autistic Spectrum Disorder"`` -> ``"ASD"``; ``""`` for no type."""
    if raw.strip().lower() in _NOT_A_TYPE:
        return ""
    return raw.split(" - ", 1)[0].strip().upper()


def _routes(need_designation: Mapping[str, str | Sequence[str]]) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for need, names in need_designation.items():
        listed = [names] if isinstance(names, str) else [str(n) for n in names]
        if not listed or not all(listed):
            raise InputError(
                f"need_designation[{need!r}]: expected a designation or a list of them"
            )
        out[str(need).upper()] = listed
    return out


def _ages(e: Establishment) -> tuple[list[int], str]:
    """SEN2 ages (at 31 August) a school takes, and how they were found."""
    if e.low_age is None or e.high_age is None:
        return [0, 25], "ages not given (any age)"
    low = min(max(e.low_age, 0), 25)
    high = min(max(e.high_age - 1, low), 25)
    return [low, high], (
        f"StatutoryLowAge {e.low_age}, StatutoryHighAge {e.high_age}: SEN2 ages {low}-{high}"
    )


def _names(items: Sequence[str]) -> str:
    shown = list(items[:_LISTED])
    more = len(items) - len(shown)
    text = "; ".join(shown)
    return f"{text}; and {more} more" if more else text


class _Builder:
    """Collects the places of one council, school by school, with the gaps met."""

    def __init__(
        self,
        extract: GiasExtract,
        name: str,
        on: datetime.date,
        routes: dict[str, list[str]],
    ) -> None:
        self.extract, self.name, self.on, self.routes = extract, name, on, routes
        self.file = extract.file
        self.gaps: list[str] = []
        self.schools: list[dict] = []
        self.proposed: list[dict] = []
        self.totals: dict[str, int] = {}
        self.counted: dict[str, int] = {}
        self.independent = 0
        self.closed: list[str] = []
        self.unknown: dict[str, list[str]] = {}
        self.bases: dict[str, str] = {}
        self.pending: list[tuple[Establishment, dict[str, int], str, list[int], str]] = []
        self.closing: list[tuple[Establishment, dict]] = []

    def label(self, e: Establishment) -> str:
        return f"{e.name} (URN {e.urn}, line {e.line})"

    def designation(self, e: Establishment) -> tuple[str | None, str]:
        """The designation of a school's first mapped SEN type, and the reason."""
        codes = [c for c in (_type_code(t) for t in e.sen_types) if c]
        for i, code in enumerate(codes):
            need = SEN_CODES.get(code)
            if need is None or need not in self.routes:
                self.unknown.setdefault(code, []).append(self.label(e))
                continue
            chosen = self.routes[need][0]
            others = [c for c in codes if c != code]
            also = f"; also lists {', '.join(others)}" if others else ""
            skipped = " (the types before it are not mapped)" if i else ""
            return chosen, (
                f"designation {chosen} from its first listed SEN provision type {code}"
                f"{skipped} (need_designation; assumption: the first type listed is the "
                f"school's main one){also}"
            )
        if not codes:
            self.gaps.append(
                f"{self.label(e)} lists no SEN provision type (SEN1-SEN13 blank): its "
                "places are left out, as no designation can be given to them."
            )
        else:
            self.gaps.append(
                f"{self.label(e)} lists only SEN provision types need_designation does not "
                f"map ({', '.join(codes)}): its places are left out."
            )
        return None, ""

    def places(
        self, e: Establishment, what: str, capacity: int | None, on_roll: int | None, columns: str
    ) -> tuple[int | None, str]:
        """Places from the capacity, or the pupils on roll when it is blank (reported)."""
        cap_col, roll_col = columns.split("|")
        if capacity:
            return capacity, f"{cap_col} {capacity}"
        if on_roll:
            self.gaps.append(
                f"{self.label(e)}: {what} has no {cap_col} "
                f"({'0' if capacity == 0 else 'blank'}); its {on_roll} pupils on roll "
                f"({roll_col}) are taken as its places."
            )
            return on_roll, f"{roll_col} {on_roll} ({cap_col} blank)"
        self.gaps.append(
            f"{self.label(e)}: {what} has neither {cap_col} nor {roll_col}: "
            "left out (no places are guessed)."
        )
        return None, ""

    def add(self, e: Establishment, places: dict[str, int], why: list[str]) -> None:
        ages, age_note = _ages(e)
        locality = e.district or _NO_DISTRICT
        source = f"GIAS {self.file}, URN {e.urn} ({e.kind}): " + "; ".join([*why, age_note])
        if _state(e, self.on, self.extract.extract_date) == "future":
            self.pending.append((e, places, locality, ages, source))
            return
        for name, n in places.items():
            self.totals[name] = self.totals.get(name, 0) + n
            self.counted[name] = self.counted.get(name, 0) + 1
        school = {
            "name": e.name,
            "locality": locality,
            "places": places,
            "ages": ages,
            "source": source,
        }
        self.schools.append(school)
        if e.closed is not None:
            self.closing.append((e, school))

    def settle(self) -> None:
        """Future schools as projects (net of those they replace); closures as such.

        A school opening after the date the day after (or the day) a counted school in
        the same district closes replaces it (academy conversions, re-organisations):
        only the places it adds are proposed, and the old school's places stay. A
        counted school closing with no successor closes its places to new pupils
        (``temporary_until``) the day after its ``CloseDate``.
        """
        replaced: set[int] = set()
        for e, places, locality, ages, source in self.pending:
            if e.opened is None or e.opened <= self.on:
                when = f"its OpenDate {e.opened} has passed" if e.opened else "it has no OpenDate"
                self.gaps.append(
                    f"{self.label(e)} is '{e.status}' and {when}: not counted as open on "
                    f"{self.on}, and not proposed as a project."
                )
                continue
            before = [
                (old, school)
                for old, school in self.closing
                if old.closed is not None
                and 0 <= (e.opened - old.closed).days <= 1
                and old.district == e.district
                and id(school) not in replaced
            ]
            added = dict(places)
            note = f"opens on {e.opened}, after {self.on}"
            if before:
                old, school = before[0]
                replaced.add(id(school))
                added = {d: n - school["places"].get(d, 0) for d, n in places.items()}
                added = {d: n for d, n in added.items() if n > 0}
                more = (
                    ", ".join(f"{n} {d}" for d, n in added.items()) + " more places proposed"
                    if added
                    else "no more places"
                )
                self.gaps.append(
                    f"{self.label(e)} {note}, replacing {self.label(old)}, which closes on "
                    f"{old.closed}: the old school's places are kept as the new one's; "
                    f"{more}."
                )
            else:
                self.gaps.append(
                    f"{self.label(e)} {note}: its {sum(places.values())} places are not "
                    "counted; they are proposed as build projects."
                )
            for name, n in added.items():
                self.proposed.append(
                    {
                        "name": f"{e.name} (GIAS: opens {e.opened})",
                        "designation": name,
                        "places": n,
                        "locality": locality,
                        "ages": ages,
                        "opens": e.opened.isoformat(),
                        "source": source,
                    }
                )
        for old, school in self.closing:
            if id(school) in replaced or old.closed is None:
                continue
            until = old.closed + datetime.timedelta(days=1)
            school["temporary_until"] = until.isoformat()
            school["source"] += f"; CloseDate {old.closed}: places close to new pupils on {until}"
            self.gaps.append(
                f"{self.label(old)} closes on {old.closed}, after {self.on}, with no successor "
                f"in the register: counted, its places closing to new pupils on {until} "
                "(temporary_until)."
            )

    def special(self, e: Establishment) -> None:
        name, why = self.designation(e)
        if name is None:
            return
        n, how = self.places(e, "the school", e.capacity, e.pupils, "SchoolCapacity|NumberOfPupils")
        if n is not None:
            self.add(e, {name: n}, [how, why])

    def provision(self, e: Establishment) -> None:
        kinds = PROVISION_KINDS.get(e.provision.lower())
        if kinds is None:
            self.gaps.append(
                f"{self.label(e)}: TypeOfResourcedProvision {e.provision!r} is not a type "
                f"this reader knows (expected one of: Resourced provision, SEN unit, "
                "Resourced provision and SEN unit): left out."
            )
            return
        base, why = self.designation(e)
        if base is None:
            return
        places: dict[str, int] = {}
        notes: list[str] = []
        for kind in kinds:
            if kind == "RP":
                n, how = self.places(
                    e,
                    "its resourced provision",
                    e.rp_capacity,
                    e.rp_on_roll,
                    "ResourcedProvisionCapacity|ResourcedProvisionOnRoll",
                )
            else:
                n, how = self.places(
                    e,
                    "its SEN unit",
                    e.unit_capacity,
                    e.unit_on_roll,
                    "SenUnitCapacity|SenUnitOnRoll",
                )
            if n is not None:
                places[f"{base}-{kind}"] = n
                self.bases[f"{base}-{kind}"] = base
                notes.append(how)
        if places:
            self.add(e, places, [*notes, f"{e.provision.lower()}: {why}"])

    def other(self, e: Establishment) -> None:
        n, _ = self.places(e, "the school", e.capacity, e.pupils, "SchoolCapacity|NumberOfPupils")
        if n is not None:
            self.independent += n


_NO_DISTRICT = "district not recorded"


def placement_from_gias(
    extract: GiasExtract,
    council: str,
    *,
    on: datetime.date,
    need_designation: Mapping[str, str | Sequence[str]],
) -> GiasPlacement:
    """One council's special school places on a date, as a scenario's placement side.

    Parameters
    ----------
    extract : GiasExtract
        The register, from :func:`read_gias`.
    council : str
        A council's name, ONS code or DfE LA number, as :func:`placeplan.sen2.load`
        resolves it.
    on : datetime.date
        The day the places are counted (a scenario's start): schools open that day.
    need_designation : Mapping
        Need (SEN2 code, e.g. ``"ASD"``) -> designation or list of designations, the
        first the primary, as a scenario's ``demand.need_designation``.

    Returns
    -------
    GiasPlacement
        Designations, localities and schools [places], independent places, the gaps
        found and the provenance. See the module documentation for the rules.

    Raises
    ------
    InputError
        For an unknown council, a council with no establishment in the extract, or one
        with no open special school place of any designation.

    """
    code, name, la_codes = _council(council)
    routes = _routes(need_designation)
    if not any(c in extract.councils for c in la_codes):
        raise InputError(
            f"{extract.path}: no establishment has LA (code) {' or '.join(la_codes)} "
            f"({name}, {code}); expected a GIAS extract of all establishments in England"
        )
    b = _Builder(extract, name, on, routes)
    post16: list[str] = []
    for e in extract.establishments:
        if e.la_code not in la_codes:
            continue
        state = _state(e, on, extract.extract_date)
        if state == "closed":
            b.closed.append(f"{e.name} (closed {e.closed})" if e.closed else e.name)
            continue
        if e.kind in SPECIAL_TYPES:
            b.special(e)
        elif e.kind in INDEPENDENT_TYPES:
            if state == "open":
                b.other(e)
            else:
                b.gaps.append(
                    f"{b.label(e)} ({e.kind}) opens on {e.opened}, after {on}: not counted "
                    "in the independent places."
                )
        elif e.kind in POST16_TYPES:
            if state == "open":
                post16.append(e.name)
        elif e.group != "Independent schools":
            b.provision(e)
    b.settle()
    if extract.extract_date is not None and extract.extract_date < on:
        b.gaps.insert(
            0,
            f"The extract is of {extract.extract_date}, before {on}: schools are counted "
            f"open on {on} as the register expected then.",
        )
    if b.closed:
        b.gaps.append(
            f"{len(b.closed)} special school(s) or resourced provision(s) of {name} had "
            f"closed before {on} and are left out: {_names(b.closed)}."
        )
    for unknown, where in b.unknown.items():
        b.gaps.append(
            f"SEN provision type {unknown!r} is not mapped by need_designation (or not a "
            f"SEN2 need): skipped at {_names(where)}."
        )
    if post16:
        b.gaps.append(
            f"{len(post16)} specialist post-16 institution(s) are not counted (colleges, "
            f"not school places): {_names(post16)}."
        )
    if not b.totals:
        raise InputError(
            f"{extract.path}: {name} ({code}, LA {'/'.join(la_codes)}) has no open special "
            f"school or resourced provision with places on {on}; expected at least one "
            "(see the gaps: " + " ".join(b.gaps)[:2000] + ")"
        )
    designations = _designations(b, routes, extract.file, on)
    for d, spec in designations.items():
        if spec["places"] == 0:
            b.gaps.append(
                f"No open school of {name} has designation {d} (no school lists a type "
                f"of need mapped to it first): {d} has 0 places."
            )
    localities = _localities(extract, la_codes, b, name)
    schools = sorted(b.schools, key=lambda s: (s["locality"], s["name"]))
    return GiasPlacement(
        designations=designations,
        localities=localities,
        schools=schools,
        independent_places=b.independent,
        gaps=b.gaps,
        source=(
            f"{extract.source}; {name} ({code}, LA {'/'.join(la_codes)}): schools open on "
            f"{on.isoformat()}"
        ),
        proposed=b.proposed,
    )


def _designations(
    b: _Builder, routes: dict[str, list[str]], file: str, on: datetime.date
) -> dict[str, dict]:
    """Every designation the routes name (0 places if none), then the -RP and -UNIT ones."""
    order: list[str] = []
    for names in routes.values():
        order += [n for n in names if n not in order]
    order += [n for n in b.totals if n not in order and n not in b.bases]
    order += sorted(b.bases)
    out: dict[str, dict] = {}
    for d in order:
        n, count = b.totals.get(d, 0), b.counted.get(d, 0)
        if d in b.bases:
            kind = "resourced provisions" if d.endswith("-RP") else "SEN units"
            what = f"{kind} of mainstream schools whose first mapped SEN type is {b.bases[d]}"
        else:
            what = f"state-funded special schools whose first mapped SEN type gives {d}"
        out[d] = {
            "places": n,
            "source": (
                f"GIAS {file}: {count} {what}, open on {on.isoformat()} (capacity, or pupils "
                "on roll where capacity is blank)"
            ),
        }
        if d in b.bases:
            out[d]["also_serves"] = [b.bases[d]]
            out[d]["also_serves_source"] = (
                f"assumption: a {kind[:-1]} for {b.bases[d]} takes children of the "
                f"{b.bases[d]} designation once its special school places are taken; "
                "nobody is referred to it directly"
            )
    return out


def _localities(
    extract: GiasExtract, la_codes: Iterable[str], b: _Builder, name: str
) -> dict[str, dict]:
    """Districts with their share of pupils and their nearest districts."""
    codes = set(la_codes)
    found = {d.name or _NO_DISTRICT: d for d in extract.districts if d.la_code in codes}
    used = {s["locality"] for s in b.schools} | {p["locality"] for p in b.proposed}
    names = sorted(set(found) | used)
    total = sum(d.pupils for d in found.values())
    shares: dict[str, float] = {}
    for n in names:
        pupils = found[n].pupils if n in found else 0
        shares[n] = pupils / total if total else 0.0
    smallest = min((s for s in shares.values() if s > 0), default=1.0)
    for n in names:
        if shares[n] <= 0:
            shares[n] = smallest if total else 1.0 / len(names)
            b.gaps.append(
                f"No pupils on roll are recorded in open state-funded schools of {name} in "
                f"'{n}': its share of referrals is set to "
                + ("the smallest district's." if total else "an equal share.")
            )
    if _NO_DISTRICT in names:
        b.gaps.append(
            f"Some schools of {name} have no DistrictAdministrative: they are in a "
            f"locality named '{_NO_DISTRICT}'."
        )
    placed = {
        n: (found[n].easting, found[n].northing)
        for n in names
        if n in found and found[n].easting is not None and n != _NO_DISTRICT
    }
    out: dict[str, dict] = {}
    for n in names:
        near: list[str] = []
        if n in placed:
            x, y = placed[n]
            others = sorted(
                (math.hypot(ox - x, oy - y), o) for o, (ox, oy) in placed.items() if o != n
            )
            near = [o for _, o in others[:_NEIGHBOURS]]
        out[n] = {"share": round(shares[n], 6) or 1e-6, "neighbours": near}
    return out
