"""citizenlab_testlists: Citizen Lab's lists of URLs to test for blocking, per country, plus the category legend.

Upstream: `https://raw.githubusercontent.com/citizenlab/test-lists/master/lists/<cc>.csv` (one file per
country, `global.csv` for the global list) and `00-LEGEND-new_category_codes.csv`, which names the current
category codes and the old codes each replaces. See parse.py for the rules and schema.py for the datasets.
"""
