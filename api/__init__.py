"""The FastAPI service and dashboard pages (built in later issues)."""
