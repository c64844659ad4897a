"""One plugin shape: the registries every part reads agree, and the node
advertises only what works on it."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from bacalao.dataplane import DataConfig, DataPlane
from bacalao.models.job import Job
from bacalao.orchestrator.exceptions import InvalidJob
from bacalao.orchestrator.submission import check_job
from bacalao.publishers import registry as publishers
from bacalao.storage import registry as sources

from ..cli.support import run_cli
from .conftest import Moto


def test_every_kind_is_a_plugin_module():
    for names, registry in (
        (sources.names(), sources),
        (publishers.names(), publishers),
    ):
        for name in names:
            module = registry.load(name)
            assert callable(module.build), name
            assert callable(module.check_params), name


def test_cli_help_lists_the_registries():
    text = " ".join(run_cli("docker", "run", "--help").stdout.split())
    for form in publishers.cli_forms():
        assert form in text
    for form in sources.cli_forms():
        assert form in text


def test_cli_refuses_a_publisher_no_node_has():
    result = run_cli("docker", "run", "-p", "ipfs-cluster", "busybox")
    assert result.exit_code != 0
    assert "one of ipfs, local, noop, s3://BUCKET/KEY, s3managed" in result.stderr


def _job(**task: object) -> Job:
    spec = {"Engine": {"Type": "docker", "Params": {"Image": "busybox"}}, **task}
    return Job.model_validate({"Type": "batch", "Count": 1, "Tasks": [spec]})


def _fault(job: Job) -> str:
    """The field `check_job` blames, or "" if it accepts the job."""
    try:
        check_job(job)
    except InvalidJob as exc:
        return f"{exc.field}: {exc}"
    return ""


def test_the_api_accepts_exactly_the_registered_types():
    for name in sources.names():
        params = {"URL": "data:,x"} if name == "inline" else {}
        source = {"Source": {"Type": name, "Params": params}, "Target": "/i"}
        fault = _fault(_job(InputSources=[source]))
        assert fault == "" or "Source.Params" in fault, fault  # params at fault
    for name in publishers.names():
        fault = _fault(_job(Publisher={"Type": name}))
        assert fault == "" or "Publisher.Params" in fault, fault
    fault = _fault(_job(Publisher={"Type": "filecoin"}))
    assert fault.startswith("Job.Tasks.0.Publisher.Type")
    assert "one of ipfs, local, noop, s3, s3managed" in fault


async def test_a_node_offers_s3_only_with_credentials(moto: Moto, s3_env: None):
    with_creds = DataPlane(DataConfig())
    await with_creds.start()
    try:
        assert "s3" in with_creds.sources.types
        assert "s3" in with_creds.publishers.types
        assert "s3managed" not in with_creds.publishers.types, "no bucket set"
        assert "local" not in with_creds.sources.types, "no allow-list"
    finally:
        await with_creds.aclose()


async def test_a_node_without_credentials(no_s3_env: None):
    plane = DataPlane(DataConfig(allowed_local_paths=("/srv/**",)))
    await plane.start()
    try:
        assert plane.sources.types == (
            "inline",
            "local",
            "localDirectory",
            "urlDownload",
        )
        assert plane.publishers.types == ("local", "noop")
    finally:
        await plane.aclose()


def imported_by(code: str) -> str:
    """What `code`, run in a fresh interpreter on our sources, prints."""
    src = Path(__file__).resolve().parents[2] / "src"
    result = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        check=True,
        timeout=30,
        env={"PYTHONPATH": str(src)},
    )
    return result.stdout.strip()


def test_registries_import_nothing_heavy():
    code = (
        "import sys\n"
        "from bacalao.storage import registry as s\n"
        "from bacalao.publishers import registry as p\n"
        "s.names(); p.names()\n"
        "heavy = ('trio', 'pydantic', 'aioboto3', 'botocore', 'httpx')\n"
        "print(sorted(m for m in heavy if m in sys.modules))\n"
    )
    assert imported_by(code) == "[]"


def test_storage_does_not_import_executors():
    code = (
        "import sys\n"
        "import bacalao.storage.staging, bacalao.storage.sources\n"
        "import bacalao.publishers.set\n"
        "print(sorted(m for m in sys.modules if m.startswith('bacalao.executors')))\n"
    )
    assert imported_by(code) == "[]"
    from bacalao.executors.base import StagedInput as FromExecutors
    from bacalao.storage.base import StagedInput

    assert FromExecutors is StagedInput
