"""Errors raised while staging inputs.

StorageError   an input could not be made available (message says which)
"""

from __future__ import annotations


class StorageError(Exception):
    """An input source could not be staged; the message names it and why."""
