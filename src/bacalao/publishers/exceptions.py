"""Errors raised while publishing results.

PublishError   results could not be published (message says where and why)
"""

from __future__ import annotations


class PublishError(Exception):
    """Results could not be published; the message says where and why."""
