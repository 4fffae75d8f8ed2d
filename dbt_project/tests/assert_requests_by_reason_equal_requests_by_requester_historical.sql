-- Historical layouts (2009 H2 to 2019 H1): the detailed file's court + other requests, summed over
-- products and reasons, equal the summary's Court Orders + Other Requests for every country and
-- half-year of the same vintage where both are uncensored (true on every row of the real 2023-03 vintage).
{{ requests_reason_vs_requester(['requests_summary_historical']) }}
