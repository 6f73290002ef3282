"""The one error type of the service layer."""

from __future__ import annotations


class ServiceError(Exception):
    """A problem the user can fix (bad option value, unwritable path...), in one message
    that names what was wrong and where. Shells show it as is: the CLI as one line with
    exit status 2, the API as a 400/422 response."""
