"""Tingfeng (听风): the application shell — configuration and the ``tingfeng`` command."""

__version__ = "0.1.0"
