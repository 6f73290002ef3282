"""Bulk imports into the store: JSON lines and the CED research layout."""
