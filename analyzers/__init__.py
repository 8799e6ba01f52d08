"""Analyzers: turn archived media into derived records (frames, faces, tracks, transcripts)."""
