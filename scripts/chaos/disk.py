"""Disk full and recovery: a node whose repo runs out of space under load.

The node's repo is on a small tmpfs mounted for the scenario (the suite
runs as root here; without `mount` the scenario reports an error saying
so). Clients keep submitting noop jobs while the suite fills the tmpfs
to the last byte, holds it full for a while, then frees the space. The
node must refuse work while full with an answer that says why (a 4xx or
503 naming the disk, never a bare internal error), never exit, and take
and finish new work once space is back.
"""

from __future__ import annotations

import errno
import os
import re
import subprocess
import time
from pathlib import Path
from typing import Any

from cluster import Cluster, log
from judge import Submitter, noop_job, submit, tally
from reliability import Row

CLEAR = re.compile(r"disk|space|full|storage", re.I)


def disk_full(sizes: Any, work: Path) -> Row:
    row = Row(
        "disk-full",
        "disk full and recovery",
        f"one node (`serve`, orchestrator + compute, noop) with its repo on a "
        f"{sizes.disk_mb} MB tmpfs; 2 client threads submit noop jobs while "
        f"the tmpfs is filled to the last byte and held full for "
        f"{sizes.full_seconds:g} s, then freed; afterwards 5 more jobs. The "
        "node must refuse work while full, saying why, never exit, and "
        "finish every job it acknowledged.",
    )
    started = time.perf_counter()
    mount = work / "mnt"
    mount.mkdir(parents=True, exist_ok=True)
    _mount(mount, sizes.disk_mb)
    cluster = Cluster(work)
    try:
        node = cluster.add("solo", repo=mount / "solo")
        cluster.start(node)
        before = [submit(node.api_url, noop_job())[0] for _ in range(3)]
        crowd = Submitter(node.api_url, lambda: noop_job(0.1), 2, 100_000).start()
        time.sleep(1.0)
        filler = mount / "filler"
        filled = _fill(filler)
        log(f"disk-full: tmpfs full ({filled // 2**20} MB of filler)")
        time.sleep(sizes.full_seconds)
        refused_while_full = list(crowd.refused)
        filler.unlink()
        log("disk-full: space freed")
        time.sleep(2.0)
        crowd.stop()
        crowd.join()
        alive = node.running
        if not alive:  # counted as dead; restarted to see what it kept
            cluster.check_deaths()
            cluster.restart(node)
        after = [submit(node.api_url, noop_job()) for _ in range(5)]
        row.problems += _judge(refused_while_full, after, alive)
        acked = [*filter(None, before), *crowd.acked, *(a[0] for a in after if a[0])]
        row.jobs = tally(node.api_url, acked, sizes.settle)
        row.notes.append(
            f"{len(crowd.acked)} submissions acknowledged and "
            f"{len(crowd.refused)} refused around the full disk"
        )
        row.rounds = 1
    finally:
        cluster.stop()
        row.dead = list(cluster.deaths)
        subprocess.run(["umount", "-l", str(mount)], check=False)
    row.seconds = time.perf_counter() - started
    return row


def _mount(path: Path, megabytes: int) -> None:
    done = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", f"size={megabytes}m", "tmpfs", str(path)],
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        raise RuntimeError(f"cannot mount a tmpfs here: {done.stderr.strip()}")


def _fill(path: Path) -> int:
    """Write `path` until the file system has no byte left; bytes written."""
    written = 0
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        for chunk in (2**20, 4096, 1):
            block = b"\0" * chunk
            while True:
                try:
                    written += os.write(fd, block)
                except OSError as exc:
                    if exc.errno != errno.ENOSPC:
                        raise
                    break
    finally:
        os.close(fd)
    return written


def _judge(refused: list[str], after: list[tuple[str, str]], alive: bool) -> list[str]:
    problems = []
    if not alive:
        problems.append("the node exited (restarted to count its jobs)")
    unclear = [r for r in refused if r.startswith("HTTP 0") or not CLEAR.search(r)]
    if unclear:
        problems.append(
            f"{len(unclear)} of {len(refused)} refusals while full did not say "
            f"why, e.g. {unclear[0][:160]}"
        )
    failed = [why for job_id, why in after if not job_id]
    if failed:
        problems.append(
            f"{len(failed)} of 5 submissions after space was freed were refused, "
            f"e.g. {failed[0][:160]}"
        )
    return problems
