"""One router per resource, each with its own prefix, tag and models."""
