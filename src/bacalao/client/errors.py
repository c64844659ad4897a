"""Errors the HTTP client raises; stdlib only, so the CLI can import it cheaply.

    ClientError          base: anything that went wrong talking to a node
     ├─ ConnectError     no node answered at the address (refused, timed out)
     ├─ ApiError         the node answered with an error status (4xx/5xx);
     │   │               carries status, code, message, hint, component
     │   └─ NotFound     404: no such job, node or route
     ├─ ResponseError    the node answered with something that is not the API's JSON
     └─ WaitTimeout      `Client.wait` gave up before the job finished

Every error has `status`, `code`, `message` and `hint` (0 and "" where they
do not apply), so a caller can print one line without knowing the kind.
"""

from __future__ import annotations

from typing import Any


class ClientError(Exception):
    """Base of the client's errors."""

    def __init__(
        self, message: str, *, status: int = 0, code: str = "", hint: str = ""
    ) -> None:
        super().__init__(message)
        self.message = message
        self.status = status
        self.code = code
        self.hint = hint

    def __str__(self) -> str:
        return self.message


class ConnectError(ClientError):
    """Raised when nothing answers at the node's address."""


class ApiError(ClientError):
    """Raised when the node answers with an error status and APIError body."""

    def __init__(
        self,
        message: str,
        *,
        status: int,
        code: str = "",
        hint: str = "",
        component: str = "",
        details: dict[str, Any] | None = None,
        request_id: str = "",
    ) -> None:
        super().__init__(message, status=status, code=code, hint=hint)
        self.component = component
        self.details = details or {}
        self.request_id = request_id


class NotFound(ApiError):
    """Raised for a 404: the job, node or endpoint does not exist."""


class ResponseError(ClientError):
    """Raised when a response is not the JSON the API defines."""


class WaitTimeout(ClientError):
    """Raised by `Client.wait` when the job is not done within its timeout."""

    def __init__(self, message: str, *, job_id: str, state: str) -> None:
        super().__init__(
            message,
            hint=f"the job keeps running; check it with `job describe {job_id}`",
        )
        self.job_id = job_id
        self.state = state


__all__ = [
    "ApiError",
    "ClientError",
    "ConnectError",
    "NotFound",
    "ResponseError",
    "WaitTimeout",
]
