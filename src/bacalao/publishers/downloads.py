"""Published S3 results as URLs a client can download without credentials.

`bacalao job get` must not need AWS credentials: the node it asks turns
each `s3` result into pre-signed GET URLs (valid `presign_expiry`
seconds), signed with the node's own credentials:

    an archive (Key ends in .tar.gz)  → urlDownload {URL}   (as `local`)
    a prefix (Key ends in /)          → urlFiles {Files: [{Path, URL, Size}]}

Any other result is returned unchanged; so is an `s3` one when the node
cannot sign it (the client then says why it cannot download it).
"""

from __future__ import annotations

from typing import Any

from ..models.job import SpecConfig
from ..s3 import keys, transfer
from ..s3.errors import S3Error
from ..s3.service import S3Service
from ..storage.base import lower_params

URL_FILES = "urlFiles"


async def downloadable(spec: SpecConfig, s3: S3Service) -> SpecConfig:
    """`spec` with an S3 result replaced by pre-signed URLs (see above)."""
    if spec.Type != "s3" or s3.problem is not None:
        return spec
    params = lower_params(spec.Params)
    bucket, key = str(params.get("bucket") or ""), str(params.get("key") or "")
    if not bucket:
        return spec
    where = s3.where(str(params.get("region") or ""), str(params.get("endpoint") or ""))
    try:
        if not key.endswith("/") and key:
            url = await s3.presign(where, bucket, key)
            return SpecConfig(Type="urlDownload", Params={"URL": url})
        return await _tree(s3, where, bucket, key)
    except S3Error:
        return spec


async def _tree(s3: S3Service, where: Any, bucket: str, prefix: str) -> SpecConfig:
    found = await s3.call(
        where,
        lambda client: transfer.list_objects(client, bucket, prefix),
        f"listing s3://{bucket}/{prefix}",
    )
    files = []
    for key, size in found:
        try:
            path = keys.relative(key, prefix)
        except ValueError:
            continue
        if path is not None:
            url = await s3.presign(where, bucket, key)
            files.append({"Path": path, "URL": url, "Size": size})
    name = prefix.rstrip("/").rpartition("/")[2] or bucket
    return SpecConfig(Type=URL_FILES, Params={"Name": name, "Files": files})
