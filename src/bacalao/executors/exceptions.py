"""Errors raised by executors.

ExecutorError          the task could not be run (message says why)
 ├─ ExecutionTimeout    the task ran longer than its timeout
 └─ EngineUnavailable   the engine itself is not usable on this node
"""

from __future__ import annotations


class ExecutorError(Exception):
    """The task could not be run or was killed; the message says why."""


class ExecutionTimeout(ExecutorError):
    """The task exceeded its execution timeout and was killed."""

    def __init__(self, seconds: float) -> None:
        super().__init__(f"timed out after {seconds:g} s")
        self.seconds = seconds


class EngineUnavailable(ExecutorError):
    """The engine (e.g. the Docker daemon) cannot be used right now."""
