"""Application services: the functions the CLI and the API both call."""
