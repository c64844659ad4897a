"""`bacalao job get`: download a job's results and unpack them into a folder.

Each execution's published result (`urlDownload`, as the local publisher
makes) is streamed and unpacked as it arrives, with a progress bar on a
terminal. A result published to S3 comes as pre-signed URLs the node
made (`urlDownload` of an archive, or `urlFiles`: one URL per file of a
tree), so no AWS credentials are needed here. One execution's results
land straight in the output folder (`stdout`, `stderr`, `exitCode`, one
folder per result path); several are merged as Bacalhau merges them
(stdout, stderr and exitCode appended, the rest side by side), or with
`--raw` kept apart under `raw/<execution>/`. Archives are unpacked with
tarfile's `data` filter and files are written only inside the folder.
"""

from __future__ import annotations

import sys
import time
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING, Any

import click

from .context import api_options, client_for
from .errors import CliError
from .output import short

if TYPE_CHECKING:
    from ..client.api import Client, Download

APPENDED = ("stdout", "stderr", "exitCode")
RAW = "raw"


def _size(n: float) -> str:
    for unit in ("B", "KB", "MB", "GB"):
        if n < 1024 or unit == "GB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024
    return f"{n:.1f} GB"  # pragma: no cover - the loop returns


class Bar:
    """A progress bar on stderr: drawn in place on a terminal, one line else."""

    def __init__(self, label: str, total: int | None, live: bool) -> None:
        self.label, self.total, self.live = label, total, live
        self.done = 0
        self.drawn = 0.0

    def add(self, n: int) -> None:
        self.done += n
        if self.live and time.monotonic() - self.drawn > 0.1:
            self._draw()

    def _draw(self) -> None:
        self.drawn = time.monotonic()
        if self.total:
            part = min(self.done / self.total, 1.0)
            bar = "#" * int(part * 30)
            text = f"{self.label} [{bar:<30}] {part:4.0%} of {_size(self.total)}"
        else:
            text = f"{self.label} {_size(self.done)}"
        click.echo("\r\x1b[K" + text, nl=False, err=True, color=True)

    def close(self) -> None:
        if self.live:
            self._draw()
            click.echo(err=True)
        else:
            click.echo(f"{self.label} {_size(self.done)}", err=True)


@dataclass(frozen=True)
class Files:
    """A result published as one URL per file (`urlFiles`)."""

    name: str
    files: list[tuple[str, str, int]]  # (path in the result, URL, size)


Result = str | Files  # an archive's URL, or files


def _results(client: Client, job_id: str) -> list[Result]:
    results = client.results(job_id).Items
    if not results:
        raise CliError(
            f"job {job_id} has no published results (yet)",
            "a job publishes results when it has a publisher, e.g. "
            "`docker run -p local ...`; check its state with `job describe`",
        )
    return [_result(spec.Type, spec.Params) for spec in results]


def _result(kind: str, raw: dict[str, Any]) -> Result:
    params = {k.lower(): v for k, v in raw.items()}
    if kind.lower() == "urldownload" and isinstance(params.get("url"), str):
        return str(params["url"])
    if kind == "urlFiles" and isinstance(params.get("files"), list):
        files = [
            (str(f.get("Path", "")), str(f.get("URL", "")), int(f.get("Size") or 0))
            for f in params["files"]
            if isinstance(f, dict)
        ]
        return Files(str(params.get("name") or "result"), files)
    if kind == "s3":
        where = f"s3://{params.get('bucket', '')}/{params.get('key', '')}"
        raise CliError(
            f"the results are in {where}, and the node asked cannot sign "
            "download URLs for them (it has no S3 credentials for that bucket)",
            "ask a node that has (--api-host/--api-port), or copy them with "
            "an S3 client",
        )
    raise CliError(
        f"cannot download results published as {kind!r} yet",
        "publish with `-p local` or `-p s3://...` to download them with `job get`",
    )


def _name(result: Result) -> str:
    if isinstance(result, Files):
        return result.name
    url = result
    from urllib.parse import urlsplit

    name = PurePosixPath(urlsplit(url).path).name
    return name.removesuffix(".tar.gz").removesuffix(".tgz") or "result"


def _unpack(download: Download, target: Path, bar: Bar) -> None:
    import tarfile

    target.mkdir(parents=True, exist_ok=True)
    try:
        with tarfile.open(fileobj=download, mode="r|*") as tar:  # type: ignore[call-overload]
            for member in tar:
                tar.extract(member, target, filter="data")
                bar.add(member.size if member.isfile() else 0)
    except tarfile.FilterError as exc:
        raise CliError(
            f"refused to unpack the results at {download.url}: {exc}",
            "the archive reaches outside the output folder; do not trust its source",
        ) from None
    except tarfile.TarError as exc:
        raise CliError(
            f"the results at {download.url} could not be unpacked: {exc}",
            "run `job get` again; if it persists the node's copy is damaged",
        ) from None


def fetch(client: Client, result: Result, target: Path, live: bool) -> None:
    """Download one result into `target`: an archive (streamed and unpacked
    as it arrives) or a result's files one by one."""
    if isinstance(result, Files):
        fetch_files(client, result, target, live)
        return
    url = result
    with client.open_download(url) as download:
        bar = Bar(f"Downloading {_name(url)[:12]}", download.unpacked, live)
        try:
            _unpack(download, target, bar)
        finally:
            bar.close()


def fetch_files(client: Client, result: Files, target: Path, live: bool) -> None:
    """Download each file of `result` to its path under `target`."""
    total = sum(size for _, _, size in result.files)
    bar = Bar(f"Downloading {result.name[:12]}", total, live)
    try:
        for relative, url, _size in result.files:
            path = _inside(target, relative)
            path.parent.mkdir(parents=True, exist_ok=True)
            last = [0]

            def progress(done: int, _total: int | None, last: list[int] = last) -> None:
                bar.add(done - last[0])
                last[0] = done

            with path.open("wb") as sink:
                client.download(url, sink, progress)
    finally:
        bar.close()


def _inside(folder: Path, relative: str) -> Path:
    parts = PurePosixPath(relative).parts
    if not parts or relative.startswith("/") or ".." in parts:
        raise CliError(
            f"refused to write {relative!r}: it is not a path inside the output folder",
            "do not trust the node that listed it",
        )
    return folder.joinpath(*parts)


def merge(parts: list[Path], into: Path) -> None:
    """Move each part's files into `into`; stdout/stderr/exitCode appended."""
    import shutil

    for part in parts:
        for path in sorted(part.rglob("*")):
            if path.is_dir():
                continue
            relative = path.relative_to(part)
            target = into / relative
            target.parent.mkdir(parents=True, exist_ok=True)
            if str(relative) in APPENDED:
                with target.open("ab") as out, path.open("rb") as src:
                    shutil.copyfileobj(src, out)
            else:
                shutil.move(path, target)


def download_results(
    client: Client, job_id: str, output_dir: Path | None, *, raw: bool = False
) -> Path:
    """Download and unpack every result of the job; the folder they are in."""
    results = _results(client, job_id)
    out = output_dir or Path(f"job-{short(job_id)}")
    live = bool(getattr(sys.stderr, "isatty", lambda: False)())
    click.echo(f"Fetching results of job '{job_id}'...")
    if len(results) == 1 and not raw:
        fetch(client, results[0], out, live)
    else:
        parts = [out / RAW / _name(result) for result in results]
        for result, part in zip(results, parts, strict=True):
            fetch(client, result, part, live)
        if not raw:
            import shutil

            merge(parts, out)
            shutil.rmtree(out / RAW)
    click.echo(f"Results for job '{job_id}' have been written to...")
    click.echo(str(out))
    return out


@click.command(
    "get",
    epilog="""\b
Examples:
  bacalao job get j-5f0e3b2a
  bacalao job get j-5f0e3b2a --output-dir ./results
  bacalao job get j-5f0e3b2a --raw""",
)
@click.argument("job_id", metavar="ID")
@click.option(
    "--output-dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Where to put the results (default: ./job-<short ID>).",
)
@click.option(
    "--raw", is_flag=True, help="Keep each execution's results apart under raw/."
)
@click.option(
    "--download-timeout-secs",
    type=click.IntRange(min=1),
    default=300,
    show_default=True,
    help="Give up a download after this long without data.",
)
@api_options
@click.pass_context
def get(
    ctx: click.Context,
    job_id: str,
    output_dir: Path | None,
    raw: bool,
    download_timeout_secs: int,
) -> None:
    """Download a job's results (by job ID, prefix or name) into a folder."""
    client = client_for(ctx)
    client.timeout = download_timeout_secs
    job = client.get_job(job_id).Job
    download_results(client, job.ID, output_dir, raw=raw)


__all__ = ["download_results", "fetch", "get", "merge"]
