"""Write the synthetic rkn_registry sample snapshots (data/samples/rkn_registry/), byte for byte reproducible.

Three weekly snapshots in zapret-info's exact form (CP1251, `;`-separated, no header, LF line ends, first
line `Updated: YYYY-MM-DD HH:MM:SS +0000`): two as `dump.csv`, the third split into `dump-00.csv` (with the
`Updated:` line) and `dump-01.csv` (data lines only). The entries are invented; the forms are real: IP lists
joined with ` | `, a `*.` wildcard domain, a Cyrillic domain, several URLs in one field, a scheme-less URL,
a URL with trailing blanks, the authorities of the 2012–2014 registry, an exact repeated line and a
decision listed again with other IPs. Between snapshots: entries added, one removed and later re-added
(a second spell), IPs changed.

Run: python scripts/make_rkn_samples.py [target dir]
"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TARGET = ROOT / "data" / "samples" / "rkn_registry"

A = "198.51.100.10;example-pharm.test;http://example-pharm.test/shop;ФСКН;2/1/11-1001;2012-12-20"
B = "203.0.113.5 | 203.0.113.6;forum.example.test;http://forum.example.test/t/1 | http://forum.example.test/t/2;Роскомнадзор;101-РИ;2012-12-28"
C = "192.0.2.44;*.casino.example.test;http://casino.example.test/;суд;2-435/2012;2012-12-15"
D = "198.51.100.77;пример.испытание;http://пример.испытание/;Роспотребнадзор;01/12-2012;2012-12-30"
E = "192.0.2.80;mix.example.test;mix.example.test;ФСКН;2/1/11-1010;2013-01-02"
F = "203.0.113.90;news.example.test;https://news.example.test/a    ;Генпрокуратура;27-31-2013/Ид1-13;2013-01-08"
F_OTHER_IP = F.replace("203.0.113.90", "203.0.113.91")
B_NEW_IPS = B.replace("203.0.113.5 | 203.0.113.6", "203.0.113.7")
G = "192.0.2.120;torrents.example.test;http://torrents.example.test/1;Мосгорсуд;определение № 2и-0001/2013;2013-01-15"

SNAPSHOTS: dict[str, dict[str, tuple[str, list[str]]]] = {
    "2013-01-05": {"dump.csv": ("2013-01-05 13:09:00 +0000", [A, B, C, D, E])},
    # C removed; F added twice exactly and once with another IP; B's addresses changed
    "2013-01-12": {"dump.csv": ("2013-01-12 22:09:00 +0000", [A, B_NEW_IPS, D, E, F, F, F_OTHER_IP])},
    # C back (second spell), E removed, G added; split into two parts
    "2013-01-19": {
        "dump-00.csv": ("2013-01-19 21:09:00 +0000", [A, B_NEW_IPS, C]),
        "dump-01.csv": ("", [D, F, G]),
    },
}

README = """# rkn_registry sample snapshots (synthetic)

**Synthetic.** Written by `scripts/make_rkn_samples.py`; the entries (documentation IP ranges, `.test`
domains, decision numbers) are invented, only the form is zapret-info's: CP1251, `;`-separated, no header,
first line `Updated: <timestamp>`, fields IPs (` | `-joined), domain, URL(s), authority, decision number,
decision date. `<date>/dump.csv` is one snapshot; `2013-01-19/` is split into `dump-00.csv` and
`dump-01.csv` (the second part without the `Updated:` line). Do not edit by hand: change the script, rerun it.
"""


def render(updated: str, lines: list[str]) -> bytes:
    head = [f"Updated: {updated}"] if updated else []
    return ("\n".join(head + lines) + "\n").encode("cp1251")


def write(target: Path = TARGET) -> list[Path]:
    written = []
    for vintage, files in SNAPSHOTS.items():
        for name, (updated, lines) in files.items():
            path = target / vintage / name
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(render(updated, lines))
            written.append(path)
    readme = target / "README.md"
    readme.write_text(README, encoding="utf-8")
    return written + [readme]


if __name__ == "__main__":
    for path in write(Path(sys.argv[1]) if len(sys.argv) > 1 else TARGET):
        print(path)
