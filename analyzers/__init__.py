"""Analyzers: turn archived media into derived records (frames, faces, tracks, transcripts)."""

from svidok.foundation import offline  # noqa: F401 - model libraries must not phone home
