"""ooni_aggregates: OONI's aggregation API, web_connectivity measurements per country, day and domain.

Upstream: `https://api.ooni.io/api/v1/aggregation?probe_cc=<CC>&test_name=web_connectivity&since=<day>
&until=<day>&axis_x=measurement_start_day&axis_y=domain&format=JSON` (`until` is exclusive: the API
filters `measurement_start_time < until`). The latest days keep changing while probes upload late, so
each run re-fetches a window of recent days and replaces it (see parse.refetch_window and plan.py;
dbt keeps, per country and day, the newest vintage whose window (dataset ooni_windows) covers the day).
"""
