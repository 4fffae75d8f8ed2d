-- Roskomnadzor registry: entries added, removed and active at the year's end, per deciding authority.
{{ registry_changes_by_period('year') }}
