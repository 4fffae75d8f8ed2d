"""Write the synthetic rkn_registry sample snapshots (data/samples/rkn_registry/), byte for byte reproducible.

Three snapshots dated inside 2025Q2 (April, May, June 2025), in zapret-info's exact form (CP1251, `;`-separated, no header, LF line ends, first
line `Updated: YYYY-MM-DD HH:MM:SS +0000`): two as `dump.csv`, the third split into `dump-00.csv` (with the
`Updated:` line) and `dump-01.csv` (data lines only). The entries are invented; the forms are real: IP lists
joined with ` | `, a `*.` wildcard domain, a Cyrillic domain, several URLs in one field, a scheme-less URL,
a URL with trailing blanks, six authorities (МВД, Роскомнадзор, суд, Роспотребнадзор, Генпрокуратура,
Мосгорсуд), an exact repeated line and a decision listed again with other IPs. Between snapshots: entries
added and removed by several authorities, one removed and later re-added (a second spell), IPs changed.

Run: python scripts/make_rkn_samples.py [target dir]
"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TARGET = ROOT / "data" / "samples" / "rkn_registry"

# Authorities of the current registry; decisions dated 2025. Letters name entries, suffixes their variants.
A = "198.51.100.10;example-pharm.test;http://example-pharm.test/shop;МВД;3/1/25-1001;2025-03-20"
B = "203.0.113.5 | 203.0.113.6;forum.example.test;http://forum.example.test/t/1 | http://forum.example.test/t/2;Роскомнадзор;101-РИ;2025-03-28"
C = "192.0.2.44;*.casino.example.test;http://casino.example.test/;суд;2-435/2025;2025-03-15"
D = "198.51.100.77;пример.испытание;http://пример.испытание/;Роспотребнадзор;01/12-2025;2025-03-30"
E = "192.0.2.80;mix.example.test;mix.example.test;МВД;3/1/25-1010;2025-04-01"
H = "203.0.113.30;vpn.example.test;https://vpn.example.test/download;Генпрокуратура;27-31-2025/Ид1-25;2025-02-11"
F = "203.0.113.90;news.example.test;https://news.example.test/a    ;Генпрокуратура;27-31-2025/Ид2-25;2025-04-28"
F_OTHER_IP = F.replace("203.0.113.90", "203.0.113.91")
B_NEW_IPS = B.replace("203.0.113.5 | 203.0.113.6", "203.0.113.7")
K = "192.0.2.150;video.example.test;https://video.example.test/watch/1;Роскомнадзор;102-РИ;2025-05-02"
G = "192.0.2.120;torrents.example.test;http://torrents.example.test/1;Мосгорсуд;определение № 2и-0001/2025;2025-06-02"
J = "198.51.100.200;shop.example.test;http://shop.example.test/item/7;МВД;3/1/25-1077;2025-06-05"

SNAPSHOTS: dict[str, dict[str, tuple[str, list[str]]]] = {
    "2025-04-05": {"dump.csv": ("2025-04-05 13:09:00 +0000", [A, B, C, D, E, H])},
    # removed: C (суд), E (МВД); added: F (Генпрокуратура) twice exactly and once with another IP,
    # K (Роскомнадзор); B's addresses changed
    "2025-05-10": {"dump.csv": ("2025-05-10 22:09:00 +0000", [A, B_NEW_IPS, D, H, F, F, F_OTHER_IP, K])},
    # C back (its second spell); removed: H (Генпрокуратура), D (Роспотребнадзор); added: G (Мосгорсуд),
    # J (МВД); F still repeated exactly; split into two parts, the second without the `Updated:` line
    "2025-06-14": {
        "dump-00.csv": ("2025-06-14 21:09:00 +0000", [A, B_NEW_IPS, C, F]),
        "dump-01.csv": ("", [F, K, G, J]),
    },
}

README = """# rkn_registry sample snapshots (synthetic)

**Synthetic.** Written by `scripts/make_rkn_samples.py`; the entries (documentation IP ranges, `.test`
domains, decision numbers) are invented, only the form is zapret-info's: CP1251, `;`-separated, no header,
first line `Updated: <timestamp>`, fields IPs (` | `-joined), domain, URL(s), authority, decision number,
decision date. `<date>/dump.csv` is one snapshot; `2025-06-14/` is split into `dump-00.csv` and
`dump-01.csv` (the second part without the `Updated:` line).

The three snapshots fall inside 2025Q2 (2025-04-05, 2025-05-10, 2025-06-14). Between them entries are
added and removed by several authorities (суд, МВД, Генпрокуратура, Роспотребнадзор out; Генпрокуратура,
Роскомнадзор, Мосгорсуд, МВД in), the `*.casino.example.test` wildcard leaves and comes back (two spells),
a forum's addresses change, and the news entry is repeated exactly (2025-05-10 and 2025-06-14) and listed
again with another IP (2025-05-10): the gate's notes count such lines, nothing is dropped.
Do not edit by hand: change the script, rerun it.
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
