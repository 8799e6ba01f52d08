"""What Whisper makes up, found and removed: repetition loops and text on silence.

Applied by `analyzers.speech.transcribe` to every transcript, in this order:
1. repetition loops inside a segment ("в плену в плену в плену в плену ...") are cut to one copy;
2. a segment repeating the previous one's text word for word is dropped from the third copy on;
3. segments that still compress too well (zlib ratio) are dropped;
4. silent segments (high no-speech probability and low log-probability) are dropped;
5. known hallucination phrases ("Субтитры сделал ...", "Продолжение следует...",
   "Дякую за перегляд") are dropped: subtitle credits always, sign-offs when confidence is low;
6. hotword insertions: Whisper sometimes continues its prompt after the speech and writes
   enrolled names nobody said ("..., Савченко Дмитрий Васильевич"); a run of hotword words
   holding a word with probability < HOTWORD_MIN_PROBABILITY is removed (on our festival
   clips names really spoken score >= 0.29 per word, inserted surnames 0.01-0.02).
"""

from __future__ import annotations

import re
import zlib
from dataclasses import replace
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from svidok.analyzers.transcript import Segment, SpeechOptions

LOOP_MIN_REPEATS = 4          # this many consecutive copies of an n-gram make a loop
LOOP_MAX_NGRAM = 8
ALWAYS_HALLUCINATED = ("субтитры сделал", "субтитры создавал", "субтитры делал", "субтитры подготовил",
                       "редактор субтитров", "корректор субтитров", "субтитрував", "amara org", "dimatorzok")
LOW_CONFIDENCE_HALLUCINATED = ("продолжение следует", "спасибо за просмотр", "спасибо за внимание",
                               "подписывайтесь на канал", "ставьте лайки", "до новых встреч",
                               "дякую за перегляд", "дякую за увагу", "підписуйтесь на канал",
                               "продовження буде", "до зустрічі", "тревожная музыка", "спокойная музыка",
                               "веселая музыка", "музыкальная заставка", "динамічна музика")
HOTWORD_MIN_PROBABILITY = 0.05
# words Whisper sampling (temperature fallback) makes of noise: a segment of only these, decoded
# unsure, is noise (seen: "Ах, ах." at no_speech 0.68 / logprob -0.97 on 6 s of white noise)
INTERJECTIONS = frozenset({"а", "ах", "ох", "ой", "эх", "ух", "э", "м", "мм", "хм", "ага", "угу", "ну", "о", "у",
                           "ай", "ой-ой", "ха", "хе"})
LOW_CONFIDENCE_LOGPROB = -0.6
LOW_CONFIDENCE_NO_SPEECH = 0.2

_PUNCT = re.compile(r"[^\w\s]+", re.UNICODE)


def normalise(text: str) -> str:
    """Lower case, ё→е, punctuation removed, spaces collapsed."""
    return " ".join(_PUNCT.sub(" ", text.lower().replace("ё", "е")).split())


def loop_free_indices(tokens: list[str], min_repeats: int = LOOP_MIN_REPEATS,
                      max_ngram: int = LOOP_MAX_NGRAM) -> list[int]:
    """Indices of the tokens to keep once every run of >= min_repeats copies of an n-gram is cut to one."""
    keep, i = [], 0
    while i < len(tokens):
        step = 1
        for n in range(1, min(max_ngram, (len(tokens) - i) // min_repeats) + 1):
            gram = tokens[i:i + n]
            copies = 1
            while tokens[i + copies * n:i + (copies + 1) * n] == gram:
                copies += 1
            if copies >= min_repeats:
                keep.extend(range(i, i + n))
                step = copies * n
                break
        else:
            keep.append(i)
        i += step
    return keep


def trim_loops(segment: "Segment") -> "Segment":
    """The segment with repetition loops cut to one copy (words and text kept consistent)."""
    if segment.words:
        tokens = [normalise(w.word) for w in segment.words]
        keep = loop_free_indices(tokens)
        if len(keep) == len(tokens):
            return segment
        words = [segment.words[i] for i in keep]
        text = "".join(w.word for w in words).strip()
        return replace(segment, words=words, text=text, end=max(words[-1].end, segment.start) if words else segment.start)
    tokens = segment.text.split()
    keep = loop_free_indices([normalise(t) for t in tokens])
    if len(keep) == len(tokens):
        return segment
    return replace(segment, text=" ".join(tokens[i] for i in keep))


def compression_ratio(text: str) -> float:
    data = text.encode("utf-8")
    return len(data) / len(zlib.compress(data)) if data else 0.0


def is_hallucination(segment: "Segment", options: "SpeechOptions") -> bool:
    """True for a segment that Whisper most likely invented."""
    text = normalise(segment.text)
    if not text:
        return True
    if segment.no_speech_prob > options.no_speech_threshold and segment.avg_logprob < options.log_prob_threshold:
        return True
    if compression_ratio(segment.text) > options.compression_ratio_threshold:
        return True
    if any(phrase in text for phrase in ALWAYS_HALLUCINATED):
        return True
    unsure = segment.avg_logprob < LOW_CONFIDENCE_LOGPROB or segment.no_speech_prob > LOW_CONFIDENCE_NO_SPEECH
    if unsure and set(text.split()) <= INTERJECTIONS:
        return True
    # Whisper thought it most likely no speech and was not sure of the words either: on noise its
    # temperature fallback samples subtitle lines ("ТЕЛЕФОННЫЙ ЗВОНОК", "Ах, ах.") at random
    if segment.no_speech_prob > options.no_speech_threshold and segment.avg_logprob < LOW_CONFIDENCE_LOGPROB:
        return True
    letters = [c for c in segment.text if c.isalpha()]
    if unsure and len(letters) > 3 and all(c.isupper() for c in letters):      # a sound caption, not speech
        return True
    return unsure and any(phrase in text for phrase in LOW_CONFIDENCE_HALLUCINATED)


def drop_unlikely_hotwords(segment: "Segment", hotwords: list[str]) -> "Segment":
    """The segment without runs of hotword words holding an improbable word (prompt continuation)."""
    vocabulary = {token for word in hotwords for token in normalise(word).split()}
    if not vocabulary or not segment.words:
        return segment
    keep, run = [], []
    for word in [*segment.words, None]:
        if word is not None and normalise(word.word) in vocabulary:
            run.append(word)
            continue
        if run and min(w.probability for w in run) >= HOTWORD_MIN_PROBABILITY:
            keep.extend(run)
        run = []
        if word is not None:
            keep.append(word)
    if len(keep) == len(segment.words):
        return segment
    return replace(segment, words=keep, text="".join(w.word for w in keep).strip())


def clean_segments(segments: list["Segment"], options: "SpeechOptions",
                   hotwords: list[str] | None = None) -> list["Segment"]:
    """Steps 1-6 of the module docstring."""
    out: list["Segment"] = []
    repeats = 0
    for segment in segments:
        segment = drop_unlikely_hotwords(trim_loops(segment), hotwords or [])   # 1, 6
        if out and normalise(segment.text) == normalise(out[-1].text):          # 2
            repeats += 1
            if repeats >= 2:
                continue
        else:
            repeats = 0
        if is_hallucination(segment, options):                                  # 3-5
            continue
        out.append(segment)
    return out
