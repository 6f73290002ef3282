"""Service functions: the CLI and the API are thin shells over these."""
