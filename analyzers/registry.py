"""The analyzers `svidok analyze` runs, in order (faces before anything that needs them)."""

from __future__ import annotations

from svidok.analyzers.base import Analyzer


def default_analyzers() -> list[Analyzer]:
    """Instantiate the analyzers; imports are lazy so `svidok --help` stays fast."""
    analyzers: list[Analyzer] = []
    # Each analyzer module registers itself here with one line:
    from svidok.analyzers.face_analyzer import FaceAnalyzer

    analyzers.append(FaceAnalyzer())
    from svidok.analyzers.near_duplicates import PerceptualAnalyzer

    analyzers.append(PerceptualAnalyzer())
    from svidok.analyzers.speech_analyzer import SpeechAnalyzer

    analyzers.append(SpeechAnalyzer())
    return analyzers
