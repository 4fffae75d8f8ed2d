"""Write the synthetic sample mirror of Google's government-removals zip (data/samples/google_removals).

The numbers are invented (a seeded random model, not copied from Google's files); the file names, folder,
headers, value conventions and spelling quirks are those of the real upstream files, so the whole
pipeline runs on the samples exactly as on the real data:

- 2023-03 holds the four files of that era: the per-requester summary (header `Requester`, trailing
  space in `% Not Enough Information `), the product x reason file, the historical summary (with `<10`
  and `?`) and the historical product x reason file (blank reasons in 2009-12-31 and 2010-06-30);
- 2026-03 holds the granular per-requester file (`time_period`, `requestor`, product, reason, item
  outcomes; CRLF line ends) and the product x reason file from 2011-06-30.

Everything is derived from one list of requests per country and half-year, so the files reconcile the
way the real ones do: for each country and period the product x reason `Total`s sum to the requests
over requesters; in the granular file a request naming two products or reasons is counted on each of
its rows (requests over-count) while items are split over them (items add up), and the six item
outcomes add up to the items requested on every row; in the historical summary All = Court Orders +
Other (a blank group is zero) wherever All is not censored, and the historical product x reason sums
equal the historical summary. One deliberate revision: 2026-03 reports one more request for Germany in
2021-06-30 than 2023-03 did (Google revises history between vintages).

The zips are stored (not deflated) with fixed timestamps, so the bytes depend on nothing but this
script: `python scripts/make_google_samples.py` rewrites them, and a test checks they are unchanged.
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import io
import random
import zipfile
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path

PROJECT_DIR = Path(__file__).resolve().parent.parent
OUT_DIR = PROJECT_DIR / "data" / "samples" / "google_removals"
FOLDER = "google-government-removals"
ARCHIVE = "google-government-removals.zip"
SEED = 20260301
ZIP_TIME = (2000, 1, 1, 0, 0, 0)

# (summary spelling, granular spelling, is a court order)
REQUESTERS = {
    "court_google": ("Court Order Directed at Google", "Court Order directed at Google", True),
    "court_3rd": ("Court Order Directed at 3rd Party", "Court Order directed at 3rd party", True),
    "suppression": ("Suppression Orders", "Supression Orders", True),
    "officials": ("Government Officials", "Government Officials", False),
    "police": ("Police", "Police", False),
    "ica": ("Information and Communications Authority", "Information and Communications Authority", False),
    "dpa": ("Data Protection Authority", "Data Protection Authority", False),
    "other": ("Other", "Other", False),
}
# (product x reason spelling, granular spelling)
PRODUCTS = {
    "youtube": ("YouTube", "YouTube"),
    "search": ("Web Search", "Web Search"),
    "blogger": ("Blogger", "Blogger"),
    "play": ("Google Play Apps", "Play Apps"),
    "docs": ("Google Docs", "Docs"),
    "maps": ("Google Earth, Google Maps, and Panoramio", "Maps"),  # a comma: quoted in the CSV
}
REASONS = {
    "security": ("National Security", "National security"),
    "defamation": ("Defamation", "Defamation"),
    "privacy": ("Privacy and Security", "Privacy and security"),
    "criticism": ("Government Criticism", "Government criticism"),
    "hate": ("Hate Speech", "Hate speech"),
    "fraud": ("Fraud", "Fraud"),
    "drugs": ("Drug Abuse", "Drug abuse"),
    "copyright": ("Copyright", "Copyright"),
}
OUTCOMES = ("legal", "policy", "not_found", "not_enough_info", "no_action", "already_removed")


@dataclass(frozen=True)
class Country:
    key: str
    code: str  # CLDR code as published in the dated files ('' for Europol)
    name: str
    name_2026: str  # name in the 2026-03 product x reason file
    granular_name: str
    granular_code: str
    first: dt.date  # first half-year with requests
    requests: tuple[int, int]  # typical requests per half-year, first and last period
    requesters: dict[str, int]
    products: dict[str, int]
    reasons: dict[str, int]
    outcomes: tuple[int, ...]  # weights of OUTCOMES


# fmt: off
COUNTRIES = (
    Country(
        "KZ", "KZ", "Kazakhstan", "Kazakhstan", "Kazakhstan", "KZ", dt.date(2010, 6, 30), (2, 30),
        {"ica": 8, "court_3rd": 1, "officials": 1, "other": 1},
        {"youtube": 6, "search": 2, "play": 1, "docs": 1},
        {"security": 6, "criticism": 2, "fraud": 2, "drugs": 1, "defamation": 1},
        (1, 2, 1, 1, 8, 1),
    ),
    Country(
        "RU", "RU", "Russia", "Russia", "Russia", "RU", dt.date(2009, 12, 31), (5, 40),
        {"ica": 10, "court_3rd": 2, "court_google": 1, "police": 1},
        {"youtube": 6, "search": 3, "blogger": 1, "play": 1, "maps": 1},
        {"security": 5, "drugs": 2, "criticism": 2, "hate": 1, "privacy": 1, "copyright": 1},
        (2, 3, 2, 1, 6, 1),
    ),
    Country(
        "TR", "TR", "Turkey", "Türkiye", "Turkey", "TR", dt.date(2009, 12, 31), (4, 25),
        {"court_3rd": 5, "court_google": 3, "ica": 2, "suppression": 1},
        {"youtube": 4, "search": 4, "blogger": 2, "maps": 1},
        {"defamation": 5, "privacy": 2, "criticism": 2, "security": 1},
        (3, 1, 2, 1, 5, 1),
    ),
    Country(
        "DE", "DE", "Germany", "Germany", "Germany", "DE", dt.date(2009, 12, 31), (12, 20),
        {"court_3rd": 5, "court_google": 2, "dpa": 2, "police": 1, "officials": 1, "other": 1},
        {"search": 6, "youtube": 3, "blogger": 1, "maps": 1},
        {"defamation": 6, "privacy": 3, "hate": 2, "copyright": 1},
        (6, 2, 1, 1, 3, 1),
    ),
    Country(
        "US", "US", "United States", "United States", "United States", "US", dt.date(2009, 12, 31), (10, 18),
        {"court_3rd": 6, "court_google": 2, "police": 2, "officials": 1},
        {"search": 5, "youtube": 3, "blogger": 2, "docs": 1},
        {"defamation": 6, "privacy": 2, "fraud": 2, "copyright": 1},
        (4, 1, 2, 2, 5, 1),
    ),
    Country(
        "EUROPOL", "", "Europol", "Europol", "UNKNOWN", "EUROPOL", dt.date(2016, 6, 30), (3, 6),
        {"police": 1},
        {"youtube": 3, "docs": 1},
        {"security": 3, "hate": 1},
        (0, 8, 1, 0, 1, 0),
    ),
)
# fmt: on
# A country Google reported as unknown ('?') in two early half-years, and nowhere else.
UNKNOWN_ROWS = (("2009-12-31", "China", "CN"), ("2010-06-30", "China", "CN"))


@dataclass
class Request:
    requester: str
    products: tuple[str, ...]  # the first is the one the product x reason files count it under
    reasons: tuple[str, ...]
    outcomes: dict[str, int] = field(default_factory=dict)  # items by outcome

    @property
    def items(self) -> int:
        return sum(self.outcomes.values())

    @property
    def complied(self) -> bool:
        """Fully or partially complied with: at least half the items removed."""
        return 2 * (self.outcomes["legal"] + self.outcomes["policy"]) >= self.items

    @property
    def court(self) -> bool:
        return REQUESTERS[self.requester][2]


def half_years(first: dt.date, last: dt.date) -> list[dt.date]:
    periods, year, half = [], first.year, 1 if first.month == 6 else 2
    while True:
        period = dt.date(year, 6, 30) if half == 1 else dt.date(year, 12, 31)
        if period > last:
            return periods
        periods.append(period)
        year, half = (year, 2) if half == 1 else (year + 1, 1)


ALL_PERIODS = half_years(dt.date(2009, 12, 31), dt.date(2025, 6, 30))
HISTORICAL_END = dt.date(2019, 6, 30)
CURRENT_START = dt.date(2019, 6, 30)
DETAILED_START = dt.date(2011, 6, 30)


def _pick(rng: random.Random, weights: dict[str, int]) -> str:
    return rng.choices(list(weights), weights=list(weights.values()))[0]


def _pick_distinct(rng: random.Random, weights: dict[str, int], extra_chance: float) -> tuple[str, ...]:
    first = _pick(rng, weights)
    others = {k: w for k, w in weights.items() if k != first}
    if others and rng.random() < extra_chance:
        return (first, _pick(rng, others))
    return (first,)


def _request(rng: random.Random, country: Country) -> Request:
    request = Request(
        _pick(rng, country.requesters),
        _pick_distinct(rng, country.products, 0.15),
        _pick_distinct(rng, country.reasons, 0.2),
    )
    items = 1 + int(rng.expovariate(1 / 6)) + (rng.randrange(200) if rng.random() < 0.03 else 0)
    drawn = Counter(rng.choices(OUTCOMES, weights=country.outcomes, k=items))
    request.outcomes = {outcome: drawn.get(outcome, 0) for outcome in OUTCOMES}
    return request


def build_model(seed: int = SEED) -> dict[tuple[str, dt.date], list[Request]]:
    """Requests per (country key, half-year): the one truth every file is derived from."""
    rng = random.Random(seed)
    model: dict[tuple[str, dt.date], list[Request]] = {}
    for country in COUNTRIES:
        periods = [p for p in ALL_PERIODS if p >= country.first]
        low, high = country.requests
        for index, period in enumerate(periods):
            typical = low + (high - low) * index / max(len(periods) - 1, 1)
            count = max(1, round(typical * rng.uniform(0.6, 1.4)))
            model[(country.key, period)] = [_request(rng, country) for _ in range(count)]
    return model


def revise_for_2026(model: dict, seed: int = SEED) -> dict:
    """The 2026-03 vintage's history: one more German request in 2021-06-30 than 2023-03 reported."""
    revised = {key: list(requests) for key, requests in model.items()}
    germany = next(c for c in COUNTRIES if c.key == "DE")
    revised[("DE", dt.date(2021, 6, 30))].append(_request(random.Random(seed + 1), germany))
    return revised


# ---- files ------------------------------------------------------------------------------------------
def _csv_bytes(header: list[str], rows: list[list[object]], line_end: str = "\n") -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator=line_end)
    writer.writerow(header)
    writer.writerows(["" if value is None else value for value in row] for row in rows)
    return buffer.getvalue().encode("utf-8")


def _pct(part: int, whole: int) -> int | None:
    return round(100 * part / whole) if whole and part else None


def _granular_period(period: dt.date) -> str:
    return f"{'January - June' if period.month == 6 else 'July - December'} {period.year}"


def _countries() -> dict[str, Country]:
    return {c.key: c for c in COUNTRIES}


def summary_file(model: dict, periods: list[dt.date], requester_header: str) -> bytes:
    """Per requester (2023-03 era): requests, items and % of items by outcome (blank when zero)."""
    header = [
        "Period Ending", "Country/Region", "CLDR Territory Code", requester_header, "Number of Requests",
        "Items Requested To Be Removed", "% Removed-Legal", "% Removed-Policy", "% Content Not Found",
        "% Not Enough Information ", "% No Action Taken", "% Content Already Removed",
    ]  # fmt: skip
    rows = []
    for (key, period), requests in model.items():
        if period not in periods:
            continue
        country = _countries()[key]
        by_requester: dict[str, list[Request]] = defaultdict(list)
        for request in requests:
            by_requester[request.requester].append(request)
        for requester, group in by_requester.items():
            items = sum(r.items for r in group)
            pcts = [_pct(sum(r.outcomes[o] for r in group), items) for o in OUTCOMES]
            rows.append(
                [period.isoformat(), country.name, country.code, REQUESTERS[requester][0], len(group), items]
                + pcts
            )
    rows.sort(key=lambda r: (r[0], r[2], r[1], r[3]))
    return _csv_bytes(header, rows)


def detailed_file(model: dict, last: dt.date, vintage_2026: bool) -> bytes:
    """Product x reason: Total = requests, each counted once under its first product and reason."""
    header = ["Period Ending", "Country/Region", "CLDR Territory Code", "Product", "Reason", "Total"]
    totals: Counter = Counter()
    for (key, period), requests in model.items():
        if DETAILED_START <= period <= last:
            for request in requests:
                totals[(period, key, request.products[0], request.reasons[0])] += 1
    rows = []
    for (period, key, product, reason), total in totals.items():
        country = _countries()[key]
        name = country.name_2026 if vintage_2026 else country.name
        rows.append([period.isoformat(), name, country.code, PRODUCTS[product][0], REASONS[reason][0], total])
    rows.sort(key=lambda r: (r[0], r[1], r[3], r[4]))
    return _csv_bytes(header, rows)


def _group_cells(requests: list[Request], with_items: bool) -> list[object]:
    """Number of requests, % complied, items of one group; all blank when the group is empty."""
    if not requests:
        return [None, None, None]
    items = sum(r.items for r in requests) if with_items else None
    complied = round(100 * sum(r.complied for r in requests) / len(requests))
    return [len(requests), complied, items]


def historical_summary_file(model: dict) -> bytes:
    """All requests / court orders / other, 2009-12-31 … 2019-06-30; fewer than 10 requests -> `<10`."""
    groups = ("All Requests", "Court Orders", "Other Requests (Executive, Police, etc.)")
    measures = ("Number of Requests", "% Fully Or Partially Complied With", "Items Requested To Be Removed")
    header = ["Period Ending", "Country/Region", "CLDR Territory Code"]
    header += [f"{group}: {measure}" for group in groups for measure in measures]
    rows = []
    for (key, period), requests in model.items():
        if period > HISTORICAL_END:
            continue
        country = _countries()[key]
        first_period = period == ALL_PERIODS[0]  # Google published no item counts for 2009H2
        all_cells = _group_cells(requests, with_items=not first_period)
        if len(requests) < 10:
            items = all_cells[2]
            all_cells = ["<10", all_cells[1], "<10" if items is not None and items < 10 else items]
            rows.append([period.isoformat(), country.name, country.code] + all_cells + [None] * 6)
            continue
        court = [r for r in requests if r.court]
        other = [r for r in requests if not r.court]
        if first_period:  # only request counts by group in 2009H2
            groups_cells = [len(court) or None, None, None, len(other) or None, None, None]
        else:
            groups_cells = _group_cells(court, True) + _group_cells(other, True)
        rows.append([period.isoformat(), country.name, country.code] + all_cells + groups_cells)
    rows += [[period, name, code, "?", "?"] + [None] * 7 for period, name, code in UNKNOWN_ROWS]
    rows.sort(key=lambda r: (r[0], r[1]))
    return _csv_bytes(header, rows)


def historical_detailed_file(model: dict) -> bytes:
    """Product x reason, court orders / executive requests / items; reasons blank before 2011."""
    header = [
        "Period Ending", "Country/Region", "CLDR Territory Code", "Product", "Reason", "Court Orders",
        "Executive, Police, etc.", "Items Requested To Be Removed",
    ]  # fmt: skip
    cells: dict[tuple, list[int]] = defaultdict(lambda: [0, 0, 0])
    for (key, period), requests in model.items():
        if period > HISTORICAL_END:
            continue
        for request in requests:
            reason = "" if period <= dt.date(2010, 6, 30) else REASONS[request.reasons[0]][0]
            cell = cells[(period, key, PRODUCTS[request.products[0]][0], reason)]
            cell[0 if request.court else 1] += 1
            cell[2] += request.items
    rows = []
    for (period, key, product, reason), (court, other, items) in cells.items():
        country = _countries()[key]
        shown_items = None if period == ALL_PERIODS[0] else items
        rows.append(
            [period.isoformat(), country.name, country.code, product, reason, court, other, shown_items]
        )
    rows.sort(key=lambda r: (r[0], r[1], r[3], r[4]))
    return _csv_bytes(header, rows)


def _split(count: int, parts: int) -> list[int]:
    return [count // parts + (1 if index < count % parts else 0) for index in range(parts)]


def granular_file(model: dict) -> bytes:
    """Requester x product x reason rows: a request counts on each row it names; its items are split."""
    header = [
        "time_period", "country", "cldr_territory", "requestor", "product", "reason", "number_of_requests",
        "items_requested_removal", "items_removed_legal", "items_removed_policy", "items_content_not_found",
        "items_not_enough_info", "items_no_action_taken", "items_content_already_removed",
    ]  # fmt: skip
    cells: dict[tuple, list[int]] = defaultdict(lambda: [0] * 7)
    for (key, period), requests in model.items():
        if period < CURRENT_START:
            continue
        for request in requests:
            combos = [(p, r) for p in request.products for r in request.reasons]
            shares = {o: _split(request.outcomes[o], len(combos)) for o in OUTCOMES}
            for index, (product, reason) in enumerate(combos):
                cell = cells[(key, period, request.requester, product, reason)]
                cell[0] += 1
                for position, outcome in enumerate(OUTCOMES, start=1):
                    cell[position] += shares[outcome][index]
    ordered = sorted(
        cells.items(), key=lambda item: (-item[0][1].toordinal(), _sort_code(item[0][0]), *item[0][2:])
    )
    rows = []
    for (key, period, requester, product, reason), (requests, *outcomes) in ordered:
        country = _countries()[key]
        rows.append(
            [
                _granular_period(period), country.granular_name, country.granular_code,
                REQUESTERS[requester][1], PRODUCTS[product][1], REASONS[reason][1], requests, sum(outcomes),
                *outcomes,
            ]
        )  # fmt: skip
    return _csv_bytes(header, rows, line_end="\r\n")


def _sort_code(key: str) -> str:
    return _countries()[key].granular_code


def _zip_bytes(members: list[tuple[str, bytes]]) -> bytes:
    """A zip like Google's (a folder entry, then the CSVs), stored with fixed metadata: reproducible."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_STORED) as archive:
        folder = zipfile.ZipInfo(f"{FOLDER}/", date_time=ZIP_TIME)
        folder.create_system = 3
        folder.external_attr = (0o40755 << 16) | 0x10
        archive.writestr(folder, b"")
        for name, data in members:
            info = zipfile.ZipInfo(f"{FOLDER}/{name}", date_time=ZIP_TIME)
            info.create_system = 3
            info.external_attr = 0o100644 << 16
            info.compress_type = zipfile.ZIP_STORED
            archive.writestr(info, data)
    return buffer.getvalue()


def build_samples(seed: int = SEED) -> dict[str, bytes]:
    """Vintage -> bytes of its google-government-removals.zip."""
    model = build_model(seed)
    model_2026 = revise_for_2026(model, seed)
    current_2023 = [p for p in ALL_PERIODS if CURRENT_START <= p <= dt.date(2022, 6, 30)]
    return {
        "2023-03": _zip_bytes(
            [
                ("google-government-removal-requests.csv", summary_file(model, current_2023, "Requester")),
                (
                    "google-government-detailed-removal-requests-historical.csv",
                    historical_detailed_file(model),
                ),
                (
                    "google-government-detailed-removal-requests.csv",
                    detailed_file(model, dt.date(2022, 6, 30), vintage_2026=False),
                ),
                ("google-government-removal-requests-historical.csv", historical_summary_file(model)),
            ]
        ),
        "2026-03": _zip_bytes(
            [
                ("google-government-removal-requests.csv", granular_file(model_2026)),
                (
                    "google-government-detailed-removal-requests.csv",
                    detailed_file(model_2026, dt.date(2025, 6, 30), vintage_2026=True),
                ),
            ]
        ),
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=OUT_DIR, help="mirror folder (default: %(default)s)")
    args = parser.parse_args(argv)
    for vintage, data in build_samples().items():
        path = args.out / vintage / ARCHIVE
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
        print(f"{path}: {len(data)} bytes")


if __name__ == "__main__":
    main()
