"""Collectors: get material from a source into the archive (items + media, with provenance)."""
