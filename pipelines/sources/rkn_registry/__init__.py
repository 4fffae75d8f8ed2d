"""Roskomnadzor's blocking registry as mirrored by zapret-info (dump.csv snapshots, CP1251) and its history."""
