"""The Scrapy project that collects posts from configured sources."""
