"""`-i/--input` values and WASM modules as InputSources, as Bacalhau's CLI reads them.

An input is CSV fields: either `URI[:TARGET]` first, or `src=URI`,
`dst=TARGET` and `opt=KEY=VALUE` fields in any order (target default
`/inputs`). URIs map to source types as Bacalhau maps them:

    ipfs://CID            ipfs {CID}
    http(s)://...         urlDownload {URL}
    s3://BUCKET/KEY       s3 {Bucket, Key} + opts endpoint, region, ...
    file:///PATH          local {SourcePath} (a path on the compute node;
                          opt rw=true for write access)

A source type a node cannot stage yet is still written into the spec: the
compute nodes that cannot honour it refuse to bid, and the job says why.
"""

from __future__ import annotations

import csv
from pathlib import Path, PurePosixPath
from typing import Any
from urllib.parse import urlsplit

from ..models.data_url import encode_data_url
from .errors import CliError

DEFAULT_TARGET = "/inputs"
WASM_DIR = "/app"
MAX_INLINE = 7 * 1024 * 1024  # base64 of it must fit the API's 10 MB body
_S3_OPTS = {
    "endpoint": "Endpoint",
    "region": "Region",
    "versionid": "VersionID",
    "version-id": "VersionID",
    "version_id": "VersionID",
    "checksum-256": "ChecksumSHA256",
    "checksum256": "ChecksumSHA256",
    "checksum_256": "ChecksumSHA256",
    "filter": "Filter",
}
_RW = ("rw", "read-write", "read_write", "readwrite")


def _fields(text: str) -> tuple[str, str, dict[str, str]]:
    fields = next(csv.reader([text]), [])
    source, target, options = "", "", {}
    for index, field in enumerate(fields):
        key, sep, value = field.partition("=")
        if not sep:
            if index:
                raise CliError(f"invalid input {text!r}: {field!r} is not KEY=VALUE")
            source, target = _split_target(field)
            continue
        key = key.strip().lower()
        if key in ("source", "src"):
            source = value
        elif key in ("target", "dst", "destination"):
            target = value
        elif key in ("opt", "option"):
            name, _, option = value.partition("=")
            options[name.strip()] = option.strip()
        else:
            raise CliError(
                f"invalid input {text!r}: unknown key {key!r}",
                "use src=URI,dst=PATH,opt=KEY=VALUE or URI:PATH",
            )
    return source.strip(" '\""), target.strip(" '\""), options


def _split_target(field: str) -> tuple[str, str]:
    scheme, sep, rest = field.partition("://")
    if not sep:
        return field, ""
    path, colon, target = rest.rpartition(":")
    port = target.isdigit() or ("/" in target and not target.startswith("/"))
    if colon and not port:  # `http://h:8080/x` keeps its port
        return f"{scheme}://{path}", target
    return field, ""


def _s3_params(bucket: str, path: str, options: dict[str, str]) -> dict[str, str]:
    params = {"Bucket": bucket, "Key": path.lstrip("/")}
    for key, value in options.items():
        if key.lower() not in _S3_OPTS:
            raise CliError(
                f"unknown s3 option {key!r}",
                f"use one of {', '.join(sorted(set(_S3_OPTS)))}",
            )
        params[_S3_OPTS[key.lower()]] = value
    return params


def _source(uri: str, options: dict[str, str], text: str) -> dict[str, Any]:
    parts = urlsplit(uri)
    scheme = parts.scheme.lower()
    if scheme == "ipfs" and parts.netloc:
        return {"Type": "ipfs", "Params": {"CID": parts.netloc}}
    if scheme in ("http", "https") and parts.netloc:
        return {"Type": "urlDownload", "Params": {"URL": uri}}
    if scheme == "s3" and parts.netloc:
        return {"Type": "s3", "Params": _s3_params(parts.netloc, parts.path, options)}
    if scheme == "file" and parts.path.startswith("/"):
        local: dict[str, Any] = {"SourcePath": parts.path}
        if any(options.get(k, "").lower() in ("true", "1", "t") for k in _RW):
            local["ReadWrite"] = True
        return {"Type": "local", "Params": local}
    raise CliError(
        f"invalid input {text!r}: cannot read source {uri!r}",
        "use ipfs://CID, http(s)://URL, s3://BUCKET/KEY or file:///PATH "
        "(a path on the compute node)",
    )


def parse_input(text: str, default_target: str = DEFAULT_TARGET) -> dict[str, Any]:
    """The InputSource (as plain data) an `-i` value describes."""
    uri, target, options = _fields(text)
    if not uri:
        raise CliError(f"invalid input {text!r}: no source URI", "e.g. -i ipfs://CID")
    target = target or default_target
    if not target.startswith("/"):
        raise CliError(f"invalid input {text!r}: target {target!r} is not absolute")
    return {"Source": _source(uri, options, text), "Alias": uri, "Target": target}


def inline_module(path: Path, target: str) -> dict[str, Any]:
    """An InputSource carrying the local file `path` inline, at `target`."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise CliError(
            f"cannot read {path}: {exc.strerror or exc}",
            "give the path of a .wasm file, a URL, or the target of an --input",
        ) from None
    if len(data) > MAX_INLINE:
        raise CliError(
            f"{path} is {len(data) // 1024 // 1024} MB: too large to send inline "
            f"(at most {MAX_INLINE // 1024 // 1024} MB)",
            "serve it over http(s) and pass the URL instead",
        )
    url = encode_data_url(data, "application/wasm")
    return {"Source": {"Type": "inline", "Params": {"URL": url}}, "Target": target}


def module_source(
    given: str, folder: str, inputs: list[dict[str, Any]]
) -> tuple[str, dict[str, Any] | None]:
    """Where a WASM module named on the command line lands in the task, and
    the InputSource that puts it there (None if an --input already does).

    `given` is the target of an --input, a URL / storage URI, or a local
    file (sent inline), optionally followed by `:TARGET`, the path it lands
    at (as with Bacalhau's `wasm run`); else it goes into `folder`.
    """
    if any(i["Target"] == given for i in inputs):
        return given, None
    given, target = _module_target(given)
    if "://" not in given and not Path(given).exists() and _is_cid(given):
        given = f"ipfs://{given}"  # a module added with `bacalao ipfs add`
    parts = urlsplit(given)
    fallback = f"{parts.netloc}.wasm" if parts.scheme == "ipfs" else "module.wasm"
    name = PurePosixPath(parts.path).name or fallback
    target = target or str(PurePosixPath(folder) / name)
    if "://" in given:
        return target, {
            "Source": _source(given, {}, given),
            "Alias": given,
            "Target": target,
        }
    return target, inline_module(Path(given), target)


def _module_target(given: str) -> tuple[str, str]:
    """`MODULE:TARGET` split in two (TARGET empty if not given)."""
    if "://" in given:
        module, target = _split_target(given)
    else:
        path, colon, target = given.partition(":")
        exists = colon and (Path(path).is_file() or _is_cid(path))
        module, target = (path, target) if exists else (given, "")
    if target and not target.startswith("/"):
        raise CliError(
            f"invalid module {given!r}: target {target!r} is not absolute",
            "e.g. main.wasm:/app/main.wasm",
        )
    return module, target


def _is_cid(text: str) -> bool:
    from ..ipfs.cid import CID, InvalidCID

    try:
        CID.parse(text)
    except InvalidCID:
        return False
    return True


__all__ = ["inline_module", "module_source", "parse_input"]
