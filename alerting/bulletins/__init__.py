"""Bulletin drafts: templates, drafting from an incident, Weibo text and .docx export."""
