"""The records speech recognition produces and the options it runs with.

Shared by the recogniser (`speech.py`), its guards against made-up text (`speech_guards.py`)
and the analyzer that stores transcripts (`speech_analyzer.py`).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from svidok.foundation.settings import AnalyzeSettings


@dataclass(frozen=True)
class Word:
    start: float
    end: float
    word: str
    probability: float


@dataclass
class Segment:
    start: float
    end: float
    text: str
    words: list[Word] = field(default_factory=list)
    avg_logprob: float = 0.0
    no_speech_prob: float = 0.0
    compression_ratio: float = 1.0

    def as_dict(self) -> dict[str, Any]:
        return {"start": round(self.start, 2), "end": round(self.end, 2), "text": self.text,
                "words": [asdict(w) for w in self.words]}


@dataclass
class Transcript:
    language: str
    language_probability: float
    duration_s: float
    segments: list[Segment] = field(default_factory=list)
    has_audio: bool = True

    @property
    def text(self) -> str:
        return " ".join(s.text for s in self.segments).strip()


@dataclass(frozen=True)
class SpeechOptions:
    """Decoding choices (stored with every transcript segment)."""

    beam_size: int = 5
    vad: bool = True
    condition_on_previous_text: bool = False
    compression_ratio_threshold: float = 2.4
    no_speech_threshold: float = 0.6
    log_prob_threshold: float = -1.0
    candidate_languages: tuple[str, ...] = ("ru", "uk")   # detection picks among these
    max_seconds: float = 3600.0
    max_hotword_chars: int = 600            # Whisper's prompt holds ~220 tokens

    cpu_threads: int = 2

    def params(self) -> dict[str, Any]:
        return {k: list(v) if isinstance(v, tuple) else v for k, v in asdict(self).items()}

    @classmethod
    def from_settings(cls, settings: "AnalyzeSettings") -> "SpeechOptions":
        return cls(beam_size=settings.speech_beam_size, max_seconds=settings.max_seconds_per_file,
                   cpu_threads=settings.speech_cpu_threads)
