"""Errors the pipeline reports as one clear line (the CLI prints str(error) and exits non-zero)."""


class PipelineError(Exception):
    """Base class: anything the user should see as a one-line message, not a traceback."""


class FetchError(PipelineError):
    """Retrieval failed (HTTP status, timeout, size cap, Content-Length mismatch, not the expected type)."""


class ArchiveError(PipelineError):
    """An archive is truncated, unsafe (path escapes its folder) or expands past the size cap."""


class LayoutError(PipelineError):
    """A file's header matches no known layout; the message names unexpected and missing columns."""


class ParseError(PipelineError):
    """A value or row cannot be parsed; the message names file, row, column and value."""


class GateFailed(PipelineError):
    """A batch failed its Great Expectations suite and was quarantined."""


class WarehouseError(PipelineError):
    """dbt failed; the published warehouse was left as it was."""
