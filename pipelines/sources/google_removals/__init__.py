"""google_removals: Google Transparency Report, government requests to remove content.

The upstream zip holds a folder `google-government-removals/` with CSV files; which files it holds and
their layouts changed over time (see parse.py for the known layouts and schema.py for the datasets).
"""
