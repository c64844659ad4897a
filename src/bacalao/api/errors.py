"""Errors of the HTTP API boundary, and how any error becomes Bacalhau's JSON.

    ApiError            an error response: status, code, message, hint
     ├─ BadRequest      400: a malformed body, query value or path
     │   ├─ InvalidSubmission  400 ValidationError: the job spec is wrong
     │   └─ AmbiguousNodeID    400 MultipleNodesFound: a prefix names several nodes
     ├─ Unauthorized    401: no API token, or not one the node accepts
     ├─ NotFound        404: no such route or object
     ├─ MethodNotAllowed 405: the route exists for other methods
     ├─ RequestTimeout  408: the body stopped arriving
     ├─ PayloadTooLarge 413: the body is over the limit
     ├─ Conflict        409: the request clashes with the object's state
     └─ InsufficientStorage 507: the node's disk is full
    ApiBindError        (an OSError) the server could not listen on its address
    InvalidPagingToken  (a ValueError) `next_token` is not one of our tokens

`error_for(exc)` turns anything a handler raised into an `APIError` body:
`ApiError` as it is, the orchestrator's public errors (`OrchestratorError`)
with their own status, code and component, the job store's
`StorageUnavailable` as a 503, anything else as a 500 `Internal server
error` (the caller logs it).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from pydantic import ValidationError

from ..jobstore.exceptions import StorageUnavailable
from ..models.api import APIError
from ..orchestrator.exceptions import OrchestratorError
from ..validation import problems_of

NOT_FOUND_HINT = (
    "The server version may be older than this CLI version "
    "and does not support the endpoint yet."
)


class ApiError(Exception):
    """An error the API answers with; `status` is the HTTP status code."""

    status = 500
    code = "InternalError"

    def __init__(
        self,
        message: str,
        *,
        hint: str = "",
        details: dict[str, Any] | None = None,
        component: str = "APIServer",
    ) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint
        self.details = details
        self.component = component


class BadRequest(ApiError):
    """Raised when the request body, a query value or a path is malformed."""

    status = 400
    code = "BadRequest"


class InvalidSubmission(BadRequest):
    """Raised when a submitted job spec is wrong; the message names the field."""

    code = "ValidationError"


class Unauthorized(ApiError):
    """Raised when a request lacks a bearer token the node accepts."""

    status = 401
    code = "Unauthorized"


class RequestTimeout(ApiError):
    """Raised when a request body stalls for longer than the node waits."""

    status = 408
    code = "TimeOut"


class NotFound(ApiError):
    """Raised when no route (or no object) matches the request."""

    status = 404
    code = "NotFound"


class MethodNotAllowed(ApiError):
    """Raised when the path exists but not for this method."""

    status = 405
    code = "MethodNotAllowed"

    def __init__(self, method: str, allowed: Iterable[str]) -> None:
        self.allowed = sorted(set(allowed))
        super().__init__(
            f"method {method} is not allowed here",
            hint=f"use one of: {', '.join(self.allowed)}",
        )


class PayloadTooLarge(ApiError):
    """Raised when the body is larger than the server accepts."""

    status = 413
    code = "BadRequest"


class Conflict(ApiError):
    """Raised when the request clashes with the state of what it names."""

    status = 409
    code = "ResourceInUse"


class Unavailable(ApiError):
    """Raised when what a request needs (another node) cannot be reached now."""

    status = 503
    code = "ServiceUnavailable"


class ShuttingDown(Unavailable):
    """Raised for a request that arrives while the node is stopping."""


class InsufficientStorage(ApiError):
    """Raised when the node cannot store what the request brings (disk full)."""

    status = 507
    code = "InsufficientStorage"


class AmbiguousNodeID(BadRequest):
    """Raised when a node ID prefix matches more than one node (as an ambiguous
    job ID prefix is, a 400 that names the candidates)."""

    code = "MultipleNodesFound"


class ApiBindError(OSError):
    """Raised by `serve_api` when it cannot listen on the host and port."""


class InvalidPagingToken(ValueError):
    """Raised by `PagingToken.decode` for text that is not a paging token."""

    def __init__(self, token: str, reason: str) -> None:
        super().__init__(f"invalid paging token: {token}: {reason}")


def validation_message(exc: ValidationError, prefix: str = "") -> str:
    """`dotted.field: reason` per error, e.g. `Job.Tasks: Field required`
    (joined as `bacalao.validation` joins a spec's problems)."""
    at = tuple(part for part in prefix.split(".") if part)
    return "\n".join(map(str, problems_of(exc, at)))


KNOWN_ERRORS = (ApiError, OrchestratorError, StorageUnavailable)
"""What a handler raises on purpose (answered, logged without a traceback)."""


def error_for(exc: Exception, request_id: str = "") -> APIError:
    """The JSON body to answer `exc` with (500 for anything unexpected)."""
    if isinstance(exc, ApiError):
        return APIError(
            Status=exc.status,
            Message=exc.message,
            RequestID=request_id,
            Code=exc.code,
            Component=exc.component,
            Hint=exc.hint,
            Details=exc.details,
        )
    if isinstance(exc, StorageUnavailable):
        return APIError(
            Status=503,
            Message=exc.message,
            RequestID=request_id,
            Code="ServiceUnavailable",
            Component="JobStore",
            Hint=exc.hint,
        )
    if isinstance(exc, OrchestratorError):
        return APIError(
            Status=exc.status,
            Message=exc.message,
            RequestID=request_id,
            Code=exc.code,
            Component=exc.component,
            Hint=exc.hint,
        )
    return APIError(
        Status=500,
        Message="Internal server error",
        RequestID=request_id,
        Code="InternalError",
        Component="Unknown",
    )


__all__ = [
    "KNOWN_ERRORS",
    "NOT_FOUND_HINT",
    "AmbiguousNodeID",
    "ApiBindError",
    "ApiError",
    "BadRequest",
    "Conflict",
    "InsufficientStorage",
    "InvalidPagingToken",
    "InvalidSubmission",
    "MethodNotAllowed",
    "NotFound",
    "PayloadTooLarge",
    "RequestTimeout",
    "ShuttingDown",
    "Unauthorized",
    "Unavailable",
    "error_for",
    "validation_message",
]
