"""What can go wrong when a source is asked, typed so callers can map each case to a
clear error (at definition time) or a stale state (while collecting).

`reason` is a stable word for logs and mappings:
  misconfigured   the definition cannot be used (a header's environment variable is unset)
  unreachable     no answer: connection refused, DNS, timeout
  rejected        the source answered 4xx (a bad query, unauthorized); `message` is its own
  failed          the source answered 5xx (overloaded, query timed out server-side)
  bad_data        the answer is not what the query must give (not JSON, wrong shape,
                  counts that are not whole, good above total)
  several_series  a definition with series "single" got more than one series
"""

from __future__ import annotations


class SourceError(Exception):
    reason = "error"

    def __init__(self, message: str, *, status: int | None = None, error_type: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.status = status
        self.error_type = error_type


class SourceMisconfigured(SourceError):
    reason = "misconfigured"


class SourceUnreachable(SourceError):
    reason = "unreachable"


class SourceRejected(SourceError):
    reason = "rejected"


class SourceFailed(SourceError):
    reason = "failed"


class SourceBadData(SourceError):
    reason = "bad_data"


class SeveralSeries(SourceBadData):
    reason = "several_series"
