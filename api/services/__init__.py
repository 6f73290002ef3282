"""Service functions the API routes and the CLI both call (thin shells over these)."""
