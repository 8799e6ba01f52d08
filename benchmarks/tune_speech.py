"""Speech settings tuned on some speakers and judged on others (leave-speakers-out folds).

    nice -n 10 .venv/bin/python benchmarks/tune_speech.py [--folds 3] [--seed 0] [--candidates a,b] [--limit N]

1. The Ukrainian clips of ../shared/data/speech (9 speakers, 4 clips each) are split by speaker
   into folds (speakers shuffled with `--seed`, 3 folds of 3 speakers by default);
2. every candidate setting transcribes every clip once, language given ("uk"), through the
   shipped path (`analyzers.speech.transcribe` with a `SpeechOptions`); the texts are cached in
   ~/.cache/svidok/tune-speech/<candidate>-<hash>.json, so a rerun only scores (a faster-whisper
   keyword SpeechOptions cannot express, such as temperature, is fixed on the shared model for that
   candidate; a clip whose transcription raises is scored empty and named, as the analyzer would
   record nothing);
3. for each fold the candidate with the lowest WER on the other folds' speakers (the tuning
   speakers) is chosen, and its WER on the fold's own speakers (held out) is reported beside every
   candidate's, so the spread shows; ties keep today's defaults.
WER as in benchmarks/eval_speech.py (lower case, ё→е, punctuation and apostrophes removed),
pooled: edits over reference words of all clips in the set.
"""

from __future__ import annotations

import argparse
import contextlib
import csv
import hashlib
import json
import os
import random
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterator

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "benchmarks"))
SPEECH = REPO.parent / "shared" / "data" / "speech"
CACHE = Path.home() / ".cache" / "svidok" / "tune-speech"
LANGUAGE = "uk"

from eval_speech import baseline, wer_counts  # noqa: E402
from svidok.analyzers import speech  # noqa: E402
from svidok.analyzers.speech import SpeechOptions, transcribe  # noqa: E402


@dataclass(frozen=True)
class Clip:
    """One Ukrainian clip with its speaker and reference text."""

    path: Path
    speaker: str
    reference: str

    @property
    def name(self) -> str:
        """The clip's path under ../shared/data/speech/uk, its key in the cache."""
        return self.path.relative_to(SPEECH / "uk").as_posix()


@dataclass(frozen=True)
class Candidate:
    """A setting to try: the options given to the shipped path, and decoder keywords fixed on top."""

    name: str
    description: str
    options: SpeechOptions | None = None        # None: plain faster-whisper defaults (eval_speech's baseline)
    decoder: dict[str, Any] = field(default_factory=dict)   # faster-whisper keywords SpeechOptions cannot express
    guards: bool = True                         # False: diagnostic only, the made-up-text guards switched off
    choosable: bool = True                      # False: shown for comparison, never chosen (noise, diagnostics)

    def key(self) -> str:
        """What decides the texts: settings, model, faster-whisper version."""
        import faster_whisper

        settings = {"options": self.options.params() if self.options else "faster-whisper defaults, beam 5",
                    "decoder": self.decoder, "guards": self.guards, "model": speech.WhisperBase.version,
                    "faster_whisper": faster_whisper.__version__}
        digest = hashlib.sha256(json.dumps(settings, sort_keys=True).encode()).hexdigest()[:10]
        return f"{self.name}-{digest}"


TODAY = SpeechOptions()
CANDIDATES = [
    Candidate("today", "today's defaults (VAD, no conditioning, guards, beam 5)", TODAY),
    Candidate("plain", "plain faster-whisper defaults (no VAD, conditioning, no guards, beam 5)", None),
    Candidate("vad-off", "today, VAD off", SpeechOptions(vad=False)),
    Candidate("conditioning-on", "today, condition_on_previous_text on",
              SpeechOptions(condition_on_previous_text=True)),
    Candidate("no-fallback", "today, temperature 0 only (no temperature fallback)", TODAY, {"temperature": 0.0}),
    Candidate("no-speech-0.8", "today, no_speech_threshold 0.6 -> 0.8", SpeechOptions(no_speech_threshold=0.8)),
    Candidate("log-prob-1.5", "today, log_prob_threshold -1.0 -> -1.5", SpeechOptions(log_prob_threshold=-1.5)),
    Candidate("beam-1", "today, beam size 1", SpeechOptions(beam_size=1)),
    Candidate("beam-8", "today, beam size 8", SpeechOptions(beam_size=8)),
    Candidate("today-again", "today's defaults transcribed a second time: run-to-run noise", TODAY,
              choosable=False),
    Candidate("vad-off+conditioning-on", "diagnostic: today with VAD off and conditioning on (plain, but word "
              "timestamps and guards)", SpeechOptions(vad=False, condition_on_previous_text=True), choosable=False),
    Candidate("no-guards", "diagnostic: today without the guards of analyzers/speech_guards.py", TODAY,
              guards=False, choosable=False),
]
DEFAULT_GRID = "today,plain,vad-off,conditioning-on,no-fallback,no-speech-0.8"


def ukrainian_clips(limit: int | None) -> list[Clip]:
    with (SPEECH / "uk" / "transcripts.tsv").open(encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle, delimiter="\t"))
    clips = [Clip(SPEECH / "uk" / row["clip"], row["speaker"], row["transcript"]) for row in rows]
    return clips[:limit] if limit else clips


def speaker_folds(clips: list[Clip], folds: int, seed: int) -> list[list[str]]:
    """The speakers, shuffled with `seed`, dealt into `folds` groups of (nearly) equal size."""
    speakers = sorted({c.speaker for c in clips})
    random.Random(seed).shuffle(speakers)
    return [sorted(speakers[i::folds]) for i in range(folds)]


@contextlib.contextmanager
def decoder_keywords(candidate: Candidate) -> Iterator[None]:
    """The shared Whisper model with the candidate's decoder keywords fixed, guards on or off."""
    whisper = speech.model(TODAY.cpu_threads).loaded
    clean = speech.clean_segments
    if candidate.decoder:
        original = whisper.transcribe
        whisper.transcribe = lambda *args, **kwargs: original(*args, **{**kwargs, **candidate.decoder})
    if not candidate.guards:
        speech.clean_segments = lambda segments, options, hotwords=None: segments
    try:
        yield
    finally:
        whisper.__dict__.pop("transcribe", None)
        speech.clean_segments = clean


def system(candidate: Candidate) -> Callable[[Path], str]:
    """(path) -> text, the way the candidate transcribes."""
    if candidate.options is None:
        return lambda path: baseline(path, LANGUAGE)
    return lambda path: transcribe(path, LANGUAGE, options=candidate.options).text


def cached_texts(candidate: Candidate, clips: list[Clip]) -> dict[str, str]:
    """clip path -> text, transcribing (and caching after every clip) what the cache lacks."""
    CACHE.mkdir(parents=True, exist_ok=True)
    cache_path = CACHE / f"{candidate.key()}.json"
    cache = json.loads(cache_path.read_text(encoding="utf-8")) if cache_path.is_file() else \
        {"candidate": candidate.description, "clips": {}}
    missing = [c for c in clips if c.name not in cache["clips"]]
    if missing:
        run = system(candidate)
        started, load = time.perf_counter(), os.getloadavg()[0]
        with decoder_keywords(candidate):
            for clip in missing:
                clip_started = time.perf_counter()
                entry = transcribed(run, clip)
                cache["clips"][clip.name] = {**entry, "seconds": round(time.perf_counter() - clip_started, 2)}
                tmp = cache_path.with_suffix(".tmp")
                tmp.write_text(json.dumps(cache, ensure_ascii=False, indent=1), encoding="utf-8")
                tmp.replace(cache_path)
        print(f"<!-- {candidate.name}: {len(missing)} clips transcribed in {time.perf_counter() - started:.0f} s, "
              f"load average {load:.2f} at the start, {os.getloadavg()[0]:.2f} at the end -->", flush=True)
    for name, entry in cache["clips"].items():
        if "error" in entry:
            print(f"\n_{candidate.name}: {name} failed ({entry['error']}); scored as an empty transcript, as the "
                  f"analyzer would record nothing._")
    return {c: entry["text"] for c, entry in cache["clips"].items()}


def transcribed(run: Callable[[Path], str], clip: Clip) -> dict[str, str]:
    """{"text": ...}, or an empty text and the error when transcription raised (the file would fail)."""
    try:
        return {"text": run(clip.path)}
    except Exception as exc:  # noqa: BLE001 - any failure of the shipped path is a result to report
        return {"text": "", "error": f"{type(exc).__name__}: {exc}"}


def wer(counts: dict[str, tuple[int, int]], clips: list[Clip]) -> float:
    edits = sum(counts[c.name][0] for c in clips)
    words = sum(counts[c.name][1] for c in clips)
    return edits / words if words else float("nan")


def report(candidates: list[Candidate], clips: list[Clip], folds: list[list[str]]) -> None:
    counts = {}
    for candidate in candidates:
        texts = cached_texts(candidate, clips)
        counts[candidate.name] = {c.name: wer_counts(c.reference, texts[c.name]) for c in clips}
    words = sum(counts[candidates[0].name][c.name][1] for c in clips)
    print(f"\n### WER on all {len(clips)} Ukrainian clips ({words} reference words)\n")
    print("| candidate | WER | word errors |\n|---|---|---|")
    for candidate in candidates:
        errors = sum(counts[candidate.name][c.name][0] for c in clips)
        print(f"| {candidate.name}: {candidate.description} | {wer(counts[candidate.name], clips):.3f} | {errors} |")
    chosen_held_out: list[Clip] = []
    chosen_counts: dict[str, tuple[int, int]] = {}
    for number, held_speakers in enumerate(folds, 1):
        held = [c for c in clips if c.speaker in held_speakers]
        tuning = [c for c in clips if c.speaker not in held_speakers]
        rows = [(cand.name, wer(counts[cand.name], tuning), wer(counts[cand.name], held)) for cand in candidates]
        choosable = [row for row, cand in zip(rows, candidates) if cand.choosable]
        best = min(choosable, key=lambda row: (round(row[1], 6), row[0] != "today"))
        print(f"\n### Fold {number}: held out {', '.join(held_speakers)} ({len(held)} clips); "
              f"tuned on the other {len(tuning)} clips\n")
        print("| candidate | WER tuning speakers | WER held-out speakers | held-out vs today |\n|---|---|---|---|")
        today_held = wer(counts["today"], held) if "today" in counts else float("nan")
        for name, tuning_wer, held_wer in rows:
            mark = " **(chosen)**" if name == best[0] else "" if (name, tuning_wer, held_wer) in choosable else \
                " (not choosable)"
            print(f"| {name}{mark} | {tuning_wer:.3f} | {held_wer:.3f} | {held_wer - today_held:+.3f} |")
        print(f"\nChosen on the tuning speakers: **{best[0]}**, held-out WER {best[2]:.3f} "
              f"(today's defaults {today_held:.3f}).")
        chosen_held_out += held
        chosen_counts.update({c.name: counts[best[0]][c.name] for c in held})
    if "today" in counts:
        print(f"\nAll folds pooled, held-out WER of the per-fold choice: {wer(chosen_counts, chosen_held_out):.3f}; "
              f"today's defaults: {wer(counts['today'], chosen_held_out):.3f}.")
    per_speaker(candidates, counts, clips)


def per_speaker(candidates: list[Candidate], counts: dict[str, dict[str, tuple[int, int]]],
                clips: list[Clip]) -> None:
    """WER per speaker for every candidate: how consistent a difference is across speakers."""
    speakers = sorted({c.speaker for c in clips}, key=lambda s: (len(s), s))
    print("\n### WER per speaker\n\n| candidate | " + " | ".join(speakers) + " | better / worse than today |")
    print("|---" * (len(speakers) + 2) + "|")
    for candidate in candidates:
        rates = [wer(counts[candidate.name], [c for c in clips if c.speaker == s]) for s in speakers]
        today = [wer(counts["today"], [c for c in clips if c.speaker == s]) for s in speakers] \
            if "today" in counts else rates
        better = sum(r < t - 1e-9 for r, t in zip(rates, today))
        worse = sum(r > t + 1e-9 for r, t in zip(rates, today))
        print(f"| {candidate.name} | " + " | ".join(f"{r:.3f}" for r in rates) + f" | {better} / {worse} |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--folds", type=int, default=3, help="Speaker folds (default 3).")
    parser.add_argument("--seed", type=int, default=0, help="Seed of the speaker shuffle (default 0).")
    parser.add_argument("--candidates", default=DEFAULT_GRID,
                        help=f"Comma-separated candidates (default {DEFAULT_GRID}; all: "
                             f"{','.join(c.name for c in CANDIDATES)}).")
    parser.add_argument("--limit", type=int, default=None, help="Only the first N clips (a smoke test).")
    args = parser.parse_args()
    if not (SPEECH / "uk" / "transcripts.tsv").is_file():
        print("_Skipped: ../shared/data/speech is absent._")
        return
    by_name = {c.name: c for c in CANDIDATES}
    unknown = [n for n in args.candidates.split(",") if n not in by_name]
    if unknown:
        parser.error(f"unknown candidates: {', '.join(unknown)}")
    clips = ukrainian_clips(args.limit)
    folds = speaker_folds(clips, args.folds, args.seed)
    report([by_name[n] for n in args.candidates.split(",")], clips, folds)


if __name__ == "__main__":
    main()
