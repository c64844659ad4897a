"""RFC 2397 `data:` URLs, which carry inline inputs inside a job spec."""

from __future__ import annotations

import base64
import binascii
from urllib.parse import unquote_to_bytes


def encode_data_url(data: bytes, media_type: str = "application/octet-stream") -> str:
    return f"data:{media_type};base64,{base64.b64encode(data).decode()}"


def decode_data_url(url: str) -> bytes:
    """The bytes of a `data:` URL; `ValueError` if it is not one."""
    if not url.startswith("data:") or "," not in url:
        raise ValueError("not a data: URL (expected data:[<type>][;base64],<data>)")
    header, _, payload = url[5:].partition(",")
    if header.endswith(";base64"):
        try:
            # line breaks are allowed in base64 text (Go's decoder skips them)
            text = payload.replace("\r", "").replace("\n", "")
            return base64.b64decode(text, validate=True)
        except (binascii.Error, ValueError):
            raise ValueError("data: URL is not valid base64") from None
    return unquote_to_bytes(payload)
