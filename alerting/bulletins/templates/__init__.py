"""Built-in bulletin templates (Jinja2 files, registered by name in alerting.bulletins.loader)."""
