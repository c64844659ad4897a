"""Errors of the S3 layer, and botocore's translated into them.

S3Error   an S3 call failed; the message says what was asked and why not

`explain(exc)` turns a botocore/aiohttp exception into the reason a user
can act on: a missing bucket or key, refused credentials, an endpoint
that cannot be reached or does not speak S3.
"""

from __future__ import annotations

import asyncio
from typing import Any

_REASONS = {
    "NoSuchBucket": "the bucket does not exist",
    "NoSuchKey": "no such key",
    "NoSuchVersion": "no such version of the key",
    "AccessDenied": "access denied (check the node's credentials and the "
    "bucket's policy)",
    "InvalidAccessKeyId": "the node's S3 credentials were refused",
    "SignatureDoesNotMatch": "the node's S3 credentials were refused",
    "403": "access denied (check the node's credentials and the bucket's policy)",
}


class S3Error(Exception):
    """An S3 call failed; the message says what was asked and why not."""


def explain(exc: BaseException) -> str:
    """The reason behind a botocore, aiohttp or timeout error, in words."""
    from botocore.exceptions import (
        BotoCoreError,
        ClientError,
        ConnectionError,
        ConnectTimeoutError,
        EndpointConnectionError,
        ReadTimeoutError,
    )
    from botocore.parsers import ResponseParserError

    if isinstance(exc, ClientError):
        return _client_error(exc.response)
    if isinstance(exc, EndpointConnectionError | ConnectionError):
        return f"cannot connect to the S3 endpoint ({exc})"
    if isinstance(exc, ConnectTimeoutError | ReadTimeoutError | asyncio.TimeoutError):
        return "the S3 endpoint did not answer in time"
    if isinstance(exc, ResponseParserError):
        return "the endpoint did not answer as S3 does (is it an S3 endpoint?)"
    if isinstance(exc, BotoCoreError):
        return str(exc)
    return f"{type(exc).__name__}: {exc}"


def _client_error(response: dict[str, Any]) -> str:
    error = response.get("Error", {})
    code = str(error.get("Code", ""))
    headers = response.get("ResponseMetadata", {}).get("HTTPHeaders", {})
    if code.isdigit() and not any(h.startswith("x-amz-") for h in headers):
        return (
            f"the endpoint answered HTTP {code} without any S3 header "
            f"(is it an S3 endpoint?)"
        )
    if code in _REASONS:
        return _REASONS[code]
    if code == "404":
        return "not found"
    message = error.get("Message") or ""
    return f"{code}: {message}" if message else code or "unknown S3 error"


def is_missing(exc: BaseException) -> bool:
    """True when `exc` says the key (not the bucket) does not exist."""
    from botocore.exceptions import ClientError

    if not isinstance(exc, ClientError):
        return False
    return str(exc.response.get("Error", {}).get("Code")) in ("NoSuchKey", "404")
