"""Exception tree of ``serving``.

::

    ServingError                          base of everything raised on purpose here
    ├── ApiError                          answered over HTTP with ``status_code`` + a message
    │   ├── InvalidFieldError (400/422)   a request field is wrong; names field and value
    │   ├── UnauthorizedError (401)       missing / wrong bearer token on a write endpoint
    │   ├── NotFoundError (404)           no such class / clip / job / file kind
    │   ├── ConflictError (409)           Idempotency-Key reused with another body, bad state
    │   ├── PayloadTooLargeError (413)    body or upload over the configured limit
    │   ├── UnsupportedMediaError (415)   uploaded bytes are not a video container
    │   ├── RangeNotSatisfiableError (416) an HTTP Range outside the file
    │   └── OverloadedError (503)         queue full: retry after ``retry_after_s``
    ├── JobError                          a job failed while running (text goes on the job row)
    └── ClusterError                      Ray could not be started or reached

Domain errors of ``scenario_library`` / ``generator`` (``SpecError``, ``AugmentError``,
``CatalogNotFoundError``...) are translated into ``ApiError`` at the HTTP edge
(``serving.api``), never leaked as 500s.
"""

from __future__ import annotations

from typing import Any


class ServingError(Exception):
    """Base class of all deliberate errors of ``serving``."""


class ApiError(ServingError):
    """An error with an HTTP status; ``field`` is the request field at fault (or "")."""

    status_code: int = 400

    def __init__(self, message: str, *, field: str = "", status_code: int | None = None) -> None:
        self.message = message
        self.field = field
        if status_code is not None:
            self.status_code = status_code
        super().__init__(message)


class InvalidFieldError(ApiError):
    """A request field holds an invalid value."""

    status_code = 422

    def __init__(self, field: str, value: Any, reason: str, *, status_code: int = 422) -> None:
        self.value = value
        self.reason = reason
        super().__init__(f"{field}={value!r}: {reason}", field=field, status_code=status_code)


class UnauthorizedError(ApiError):
    status_code = 401


class NotFoundError(ApiError):
    status_code = 404


class ConflictError(ApiError):
    status_code = 409


class PayloadTooLargeError(ApiError):
    status_code = 413


class UnsupportedMediaError(ApiError):
    status_code = 415


class RangeNotSatisfiableError(ApiError):
    status_code = 416


class OverloadedError(ApiError):
    """The service or its job queue is full; the client should retry later."""

    status_code = 503

    def __init__(self, message: str, *, retry_after_s: int = 2) -> None:
        self.retry_after_s = retry_after_s
        super().__init__(message)


class JobError(ServingError):
    """A job failed while running; its message is stored on the job row."""


class ClusterError(ServingError):
    """Ray could not be started or reached."""
