"""Response tiers, notification channels and bulletin drafting (built in later issues)."""
