"""Building a Job from `docker run`/`wasm run` flags, and printing it as YAML.

`job_spec` builds the spec as plain data, without the models, so a run
command that goes well never imports them: the node validates what it is
sent. `build_job` validates a spec with the same models the node uses and
reports a fault against the flag that caused it (`invalid --cpu: ...`):
`--dry-run` uses it, and a run command calls it when the node refuses a
spec, to say which flag was wrong. Imported only by the commands that
build jobs.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ..publishers import registry as publishers
from .errors import CliError
from .flags import NETWORKS
from .inputs import parse_input

if TYPE_CHECKING:
    from pydantic import ValidationError

    from ..models.job import Job

_ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_S3_PUBLISHER_OPTS = {
    "region": "Region",
    "endpoint": "Endpoint",
    "compress": "Compress",
}
_SERVER_FIELDS = ("ID", "State", "Version", "Revision", "CreateTime", "ModifyTime")

# Where in the job spec each flag lands (longest match wins).
_FLAG_AT: dict[tuple[object, ...], str] = {
    ("Name",): "--name",
    ("Namespace",): "--namespace",
    ("Priority",): "--priority",
    ("Count",): "--count",
    ("Tasks", 0, "InputSources"): "--input",
    ("Constraints",): "--constraints",
    ("Labels",): "--labels",
    ("Tasks", 0, "Name"): "--task-name",
    ("Tasks", 0, "Env"): "--env",
    ("Tasks", 0, "ResultPaths"): "--output",
    ("Tasks", 0, "Publisher"): "--publisher",
    ("Tasks", 0, "Resources", "CPU"): "--cpu",
    ("Tasks", 0, "Resources", "Memory"): "--memory",
    ("Tasks", 0, "Resources", "Disk"): "--disk",
    ("Tasks", 0, "Resources", "GPU"): "--gpu",
    ("Tasks", 0, "Network"): "--network",
    ("Tasks", 0, "Timeouts"): "--timeout",
    ("Image",): "IMAGE",
    ("Entrypoint",): "--entrypoint",
    ("WorkingDirectory",): "--workdir",
    ("EntryModule",): "MODULE",
}


@dataclass(frozen=True)
class JobFlags:
    """The job and task flags of a run command, as given."""

    name: str = ""
    namespace: str = "default"
    priority: int = 0
    count: int | None = None
    concurrency: int | None = None
    target: str = "any"
    constraints: str = ""
    selector: str = ""
    labels: tuple[str, ...] = ()
    task_name: str = "main"
    env: tuple[str, ...] = ()
    inputs: tuple[str, ...] = ()
    outputs: tuple[str, ...] = ()
    publisher: str = ""
    cpu: str = ""
    memory: str = ""
    disk: str = ""
    gpu: str = ""
    network: str = "Default"
    domains: tuple[str, ...] = ()
    timeout: int = 0
    queue_timeout: int = 0

    @classmethod
    def from_options(cls, options: Mapping[str, Any]) -> JobFlags:
        names = cls.__dataclass_fields__
        return cls(**{k: v for k, v in options.items() if k in names})

    @property
    def nodes(self) -> int:
        """--count, or the deprecated --concurrency (not both)."""
        if self.count is not None and self.concurrency is not None:
            raise CliError("--count and --concurrency are the same; give only --count")
        chosen = self.count if self.count is not None else self.concurrency
        return 1 if chosen is None else chosen

    @property
    def selector_text(self) -> str:
        """--constraints and the deprecated -s/--selector, ANDed."""
        return ",".join(t for t in (self.constraints, self.selector) if t.strip())


def docker_engine(
    image: str, args: Iterable[str], entrypoint: Iterable[str], workdir: str
) -> dict[str, Any]:
    params: dict[str, Any] = {"Image": image}
    entry = [part for item in entrypoint for part in item.split(",") if part]
    if entry:
        params["Entrypoint"] = entry
    arguments = list(args)
    if arguments:
        params["Parameters"] = arguments
    if workdir:
        params["WorkingDirectory"] = workdir
    return {"Type": "docker", "Params": params}


def wasm_engine(
    target: str,
    args: Iterable[str],
    entry_point: str,
    imports: Iterable[str] = (),
) -> dict[str, Any]:
    params: dict[str, Any] = {"EntryModule": target, "Entrypoint": entry_point}
    arguments = list(args)
    if arguments:
        params["Parameters"] = arguments
    modules = list(imports)
    if modules:
        params["ImportModules"] = modules
    return {"Type": "wasm", "Params": params}


def _pairs(items: Iterable[str], flag: str, *, split_commas: bool) -> dict[str, str]:
    pairs: dict[str, str] = {}
    for item in items:
        for part in item.split(",") if split_commas else [item]:
            key, sep, value = part.partition("=")
            if not key.strip() or (flag == "--env" and not sep):
                raise CliError(f"invalid {flag} {part!r}: expected KEY=VALUE")
            pairs[key.strip()] = value.strip() if split_commas else value
    return pairs


def _env(items: Iterable[str]) -> dict[str, str]:
    env = _pairs(items, "--env", split_commas=False)
    for name in env:
        if not _ENV_NAME.match(name):
            raise CliError(
                f"invalid --env name {name!r}: use letters, digits and _ "
                "(not starting with a digit)"
            )
    return env


def _outputs(items: Iterable[str]) -> list[dict[str, str]]:
    results = []
    for item in items:
        name, sep, path = item.partition(":")
        if not sep or not name or not path.startswith("/"):
            raise CliError(f"invalid --output {item!r}: expected NAME:/absolute/path")
        results.append({"Name": name, "Path": path})
    return results


def _publisher(text: str) -> dict[str, Any]:
    """`-p TYPE` or `-p s3://BUCKET/KEY[,opt=region=R,opt=endpoint=URL,...]`."""
    if text.startswith("s3://"):
        return _s3_publisher(text)
    if text not in publishers.names() or text == "s3":
        choices = ", ".join(publishers.cli_forms())
        raise CliError(f"invalid --publisher {text!r}: one of {choices}")
    return {"Type": text}


def _s3_publisher(text: str) -> dict[str, Any]:
    uri, *options = next(csv.reader([text]))
    bucket, _, key = uri[5:].partition("/")
    if not bucket:
        raise CliError(f"invalid --publisher {text!r}: expected s3://BUCKET/KEY")
    params: dict[str, Any] = {"Bucket": bucket, "Key": key}
    for option in options:
        name, sep, value = option.strip().removeprefix("opt=").partition("=")
        param = _S3_PUBLISHER_OPTS.get(name.strip().lower())
        if not sep or param is None:
            known = ", ".join(f"opt={o}=..." for o in _S3_PUBLISHER_OPTS)
            raise CliError(
                f"invalid --publisher {text!r}: unknown option {option!r}",
                f"use {known}",
            )
        params[param] = (
            value.strip().lower() == "true" if param == "Compress" else value
        )
    return {"Type": "s3", "Params": params}


def _network(flags: JobFlags) -> dict[str, Any] | None:
    name = next(n for n in NETWORKS if n.lower() == flags.network.lower())
    if flags.domains and name != "HTTP":
        raise CliError("--domain only applies with --network HTTP")
    if name == "Default":
        return None
    return {"Type": name, **({"Domains": list(flags.domains)} if flags.domains else {})}


def _non_empty(**values: Any) -> dict[str, Any]:
    return {k: v for k, v in values.items() if v}


def flag_inputs(flags: JobFlags) -> list[dict[str, Any]]:
    """The InputSources of the -i/--input flags."""
    return [parse_input(text) for text in flags.inputs]


def _task(
    engine: dict[str, Any], flags: JobFlags, inputs: list[dict[str, Any]]
) -> dict[str, Any]:
    task: dict[str, Any] = {"Name": flags.task_name, "Engine": engine}
    optional: dict[str, Any] = {
        "Env": _env(flags.env),
        "InputSources": inputs,
        "ResultPaths": _outputs(flags.outputs),
        "Publisher": _publisher(flags.publisher) if flags.publisher else None,
        "Resources": _non_empty(
            CPU=flags.cpu, Memory=flags.memory, Disk=flags.disk, GPU=flags.gpu
        ),
        "Network": _network(flags),
        "Timeouts": _non_empty(
            TotalTimeout=flags.timeout, QueueTimeout=flags.queue_timeout
        ),
    }
    task.update({k: v for k, v in optional.items() if v})
    return task


def job_spec(
    engine: dict[str, Any], flags: JobFlags, inputs: list[dict[str, Any]] | None = None
) -> dict[str, Any]:
    """The job spec the flags describe, as plain data (not validated beyond
    the flags' own syntax). `inputs` are the task's InputSources; None means
    those of -i/--input."""
    everywhere = flags.target == "all"
    spec: dict[str, Any] = {
        "Name": flags.name,
        "Namespace": flags.namespace,
        "Type": "ops" if everywhere else "batch",
        "Priority": flags.priority,
        "Count": 0 if everywhere else flags.nodes,
        "Labels": _pairs(flags.labels, "--labels", split_commas=True),
        "Constraints": _constraints(flags.selector_text),
        "Tasks": [
            _task(engine, flags, flag_inputs(flags) if inputs is None else inputs)
        ],
    }
    return spec


def _constraints(text: str) -> list[dict[str, Any]]:
    if not text.strip():
        return []
    from ..models.selectors import SelectorError, parse_selector

    try:
        constraints = parse_selector(text)
    except SelectorError as exc:
        raise CliError(f"invalid --constraints: {exc}") from None
    return [c.model_dump(mode="json") for c in constraints]


def build_job(
    engine: dict[str, Any], flags: JobFlags, inputs: list[dict[str, Any]] | None = None
) -> Job:
    """The job the flags describe; `CliError` naming the flag at fault.
    `inputs` are the task's InputSources; None means those of -i/--input."""
    return validated(job_spec(engine, flags, inputs))


def validated(spec: dict[str, Any]) -> Job:
    """`spec` as a Job; `CliError` naming the flag at fault."""
    from pydantic import ValidationError

    from ..models.engines import UnknownEngine, engine_params
    from ..models.job import Job

    try:
        job = Job.model_validate(spec)
        engine_params(job.task.Engine)
    except ValidationError as exc:
        raise _flag_error(exc) from None
    except UnknownEngine as exc:  # pragma: no cover - commands pick the engine
        raise CliError(str(exc)) from None
    return job


def _flag_error(exc: ValidationError) -> CliError:
    lines = []
    for error in exc.errors():
        loc = tuple(error["loc"])
        flag = next(
            (_FLAG_AT[loc[:n]] for n in range(len(loc), 0, -1) if loc[:n] in _FLAG_AT),
            ".".join(str(p) for p in loc) or "job",
        )
        lines.append(f"invalid {flag}: {error['msg'].removeprefix('Value error, ')}")
    return CliError("\n".join(lines))


def job_yaml(job: Job) -> str:
    """The job as a spec a person would write: defaults left out, except the
    fields that say what the job is (Name, Namespace, Type, Count, task Name)."""
    import yaml

    data = job.model_dump(mode="json", by_alias=True, exclude_defaults=True)
    for name in _SERVER_FIELDS:
        data.pop(name, None)
    head = {
        "Name": job.Name,
        "Namespace": job.Namespace,
        "Type": job.Type,
        "Count": job.Count,
    }
    spec = {**{k: v for k, v in head.items() if v != ""}, **data}
    spec["Tasks"] = [
        {"Name": task.Name, **dumped}
        for task, dumped in zip(job.Tasks, data["Tasks"], strict=True)
    ]
    text: str = yaml.safe_dump(spec, sort_keys=False, allow_unicode=True)
    return text.rstrip("\n")


__all__ = [
    "JobFlags",
    "build_job",
    "docker_engine",
    "flag_inputs",
    "job_spec",
    "job_yaml",
    "validated",
    "wasm_engine",
]
