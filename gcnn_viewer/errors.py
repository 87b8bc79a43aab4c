"""The project's own error types: what a user can cause and fix.

The command line prints any :class:`GcnnViewerError` as one line and exits non-zero; every other
exception is a bug and surfaces with its traceback. Qt-free and import-light on purpose.
"""

from __future__ import annotations


class GcnnViewerError(Exception):
    """An error the user can fix (bad path, bad value, corrupt file, missing data)."""


class ConfigError(GcnnViewerError, ValueError):
    """A setting with a bad type or value (a training option, a device, a data variant).

    Also a :class:`ValueError`, so Python callers that catch ``ValueError`` keep working."""
