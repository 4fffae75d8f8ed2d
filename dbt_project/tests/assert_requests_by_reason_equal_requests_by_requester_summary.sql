-- Current layouts: the detailed file's Total, summed over products and reasons, against the summary
-- layout's requests summed over requesters, same vintage, both uncensored. Only a warning: Google's own
-- files disagree. In the real 2023-03 vintage the summary counts more requests than the detailed file for
-- about half the countries (KZ 2019 H2: 36 vs 24); in 2025-12 (revised) they agree except for 7
-- country-periods. The marts take country totals from the detailed file.
{{ config(severity='warn') }}
{{ requests_reason_vs_requester(['requests_by_requester']) }}
