"""The operator's default publisher fills in for jobs that name none."""

from __future__ import annotations

from bacalao.models.job import Job
from bacalao.orchestrator.submission import JobDefaults, prepare_job


def _job(**task: object) -> Job:
    spec = {"Engine": {"Type": "docker", "Params": {"Image": "busybox"}}, **task}
    return Job.model_validate({"Type": "batch", "Count": 1, "Tasks": [spec]})


def test_a_job_without_publisher_gets_the_default():
    stored = prepare_job(
        _job(), node_id="n", now_ns=1, defaults=JobDefaults(publisher="local")
    )
    assert stored.task.Publisher.Type == "local"


def test_a_named_publisher_is_kept_and_no_default_means_none():
    named = _job(Publisher={"Type": "noop"})
    kept = prepare_job(
        named, node_id="n", now_ns=1, defaults=JobDefaults(publisher="local")
    )
    assert kept.task.Publisher.Type == "noop"
    plain = prepare_job(_job(), node_id="n", now_ns=1, defaults=JobDefaults())
    assert plain.task.Publisher.is_empty
