"""Observers must never break what they observe.

A metric or span that cannot be written is logged (with its traceback)
and dropped; the commit, report or run that called the observer goes on.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable
from typing import ParamSpec

log = logging.getLogger("bacalao.telemetry")

P = ParamSpec("P")


def never_raises(observe: Callable[P, None]) -> Callable[P, None]:
    """`observe`, with any exception it raises logged instead."""

    @functools.wraps(observe)
    def guarded(*args: P.args, **kwargs: P.kwargs) -> None:
        try:
            observe(*args, **kwargs)
        except Exception:
            log.exception("telemetry: %s failed", observe.__qualname__)

    return guarded
