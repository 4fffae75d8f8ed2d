"""transparency: content-removal transparency pipeline (fetch -> raw -> parse -> staging -> gate -> lake -> dbt -> publish)."""
