"""Write the synthetic ooni_aggregates sample responses (data/samples/ooni_aggregates/), reproducibly.

Two vintages of OONI aggregation responses for KZ (the documented JSON form, keys sorted, 2-space
indent, `until` exclusive): `2025-06-30` asks 2025-06-22 .. 2025-07-01 (exclusive) and `2025-07-02` is the
next run's re-fetch window `refetch_window(2025-06-30, 2025-07-02)` = 2025-06-28 .. 2025-07-03. The domains
are those of the citizenlab_testlists samples (reserved `.example` names) plus one that no list holds.
Each domain tells one story the marts must get right (2025Q2 = the days up to 2025-06-30):

- opposition-kz.example (POLR): confirmed blocking every day (confirmed >= 1) -> blocked, 'confirmed';
- rights-watch-kz.example (HUMR): anomalies 8 of 12 a day, never confirmed, on all 9 days of the
  quarter -> blocked, 'sustained_anomalies' (rate 0.62 after the re-fetch, >= 0.5 on >= 7 days);
- www.kz-news.example (NEWS): anomaly rate exactly 0.3 over the quarter -> not blocked;
- kz-news.example (NEWS): no anomalies;
- old-press.example (FEXP -> NEWS): rate 0.6 but measured on 4 days of the quarter only -> not blocked;
- www.gov-portal.example (GOVT) and casino-kz.example (GMB, confirmed): blocked, but not news,
  political criticism or human rights -> not in blocked_news_domains;
- world-news.example (GLOBAL list, NEWS): a few anomalies;
- unlisted-kz.example: in no test list (category NULL); present on 2025-06-29 in the first vintage and
  absent from that day in the re-fetch, so it must disappear from that day.

In the re-fetch, 2025-06-28 is unchanged, 2025-06-29 and 2025-06-30 gained late measurements, and
2025-07-01 .. 2025-07-02 are new days.

Run: python scripts/make_ooni_samples.py [target dir]
"""

from __future__ import annotations

import datetime as dt
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from pipelines.sources.ooni_aggregates.parse import raw_file_name, refetch_window

TARGET = ROOT / "data" / "samples" / "ooni_aggregates"
COUNTRY = "KZ"
FIRST = ("2025-06-30", dt.date(2025, 6, 22), dt.date(2025, 7, 1))
REFETCH_RUN = dt.date(2025, 7, 2)
LATE_DAYS = (dt.date(2025, 6, 29), dt.date(2025, 6, 30))
GONE = (dt.date(2025, 6, 29), "unlisted-kz.example")
DB_STATS = {"bytes": 48213760, "elapsed_seconds": 0.41, "row_count": 391552, "total_row_count": 391552}

# domain -> (first day measured or None, base (measurements, anomalies, confirmed, failures),
#            late additions on LATE_DAYS in the re-fetch (same four counts))
DOMAINS: dict[str, tuple[dt.date | None, tuple[int, int, int, int], tuple[int, int, int, int]]] = {
    "opposition-kz.example": (None, (14, 12, 2, 0), (2, 2, 1, 0)),
    "rights-watch-kz.example": (None, (12, 8, 0, 1), (4, 0, 0, 0)),
    "www.kz-news.example": (None, (10, 3, 0, 0), (10, 3, 0, 0)),
    "kz-news.example": (None, (9, 0, 0, 1), (4, 0, 0, 0)),
    "old-press.example": (dt.date(2025, 6, 27), (8, 6, 0, 0), (4, 0, 0, 0)),
    "www.gov-portal.example": (None, (10, 7, 0, 0), (2, 1, 0, 0)),
    "casino-kz.example": (None, (6, 6, 3, 0), (1, 1, 1, 0)),
    "world-news.example": (None, (15, 1, 0, 1), (4, 0, 0, 0)),
    "unlisted-kz.example": (None, (5, 0, 0, 0), (0, 0, 0, 0)),
}


def element(day: dt.date, domain: str, counts: tuple[int, int, int, int]) -> dict:
    measurements, anomalies, confirmed, failures = counts
    return {
        "anomaly_count": anomalies,
        "confirmed_count": confirmed,
        "domain": domain,
        "failure_count": failures,
        "measurement_count": measurements,
        "measurement_start_day": day.isoformat(),
        "ok_count": measurements - anomalies - failures,
    }


def response(since: dt.date, until: dt.date, refetch: bool) -> dict:
    result = []
    day = since
    while day < until:
        for domain, (first, base, late) in DOMAINS.items():
            if first is not None and day < first:
                continue
            if refetch and (day, domain) == GONE:
                continue
            counts = base
            if refetch and day in LATE_DAYS:
                counts = tuple(b + extra for b, extra in zip(base, late, strict=True))
            result.append(element(day, domain, counts))
        day += dt.timedelta(days=1)
    return {"db_stats": DB_STATS, "dimension_count": 2, "result": result, "v": 0}


def write(target: Path) -> list[Path]:
    last_loaded = FIRST[2] - dt.timedelta(days=1)
    second = ("2025-07-02", *refetch_window(last_loaded, REFETCH_RUN))
    written = []
    for (label, a, b), refetch in ((FIRST, False), (second, True)):
        folder = target / label
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / raw_file_name(COUNTRY, a, b)
        path.write_text(
            json.dumps(response(a, b, refetch), indent=2, sort_keys=True) + "\n", encoding="utf-8"
        )
        written.append(path)
    return written


if __name__ == "__main__":
    for written in write(Path(sys.argv[1]) if len(sys.argv) > 1 else TARGET):
        print(written)
