"""The FastAPI service and the dashboard (``api.app.create_app``).

This package's ``__init__`` stays import-light: the configuration imports
``api.settings`` and must not pull in FastAPI for a crawl.
"""
