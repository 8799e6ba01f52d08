"""Speech benchmarks: WER/RTF, name recall with and without hotwords, search word forms.

    .venv/bin/python benchmarks/eval_speech.py [--limit N] [--skip-baseline] [--skip-names] [--beams 5,1]

1. WER and real-time factor on ../shared/data/speech (36 Ukrainian clips, 8 kHz FLAC, and the
   5 `recorded` Russian clips), language given as a configured source would: the plain
   faster-whisper baseline (beam 5, no VAD, defaults) against `analyzers.speech.transcribe`;
2. name recall on Russian clips generated with festival festvox-ru ("Меня зовут <surname> ..."),
   without hotwords, and with all enrolled names (spoken + 8 unspoken) as hotwords; unspoken
   enrolled names appearing in a transcript are counted as insertions;
3. word-form recall of the search index (analyzers/text_index.py) against plain words and trigrams.
Sections whose inputs are missing (shared data, festival's text2wave) are skipped with a note.
"""

from __future__ import annotations

import argparse
import csv
import re
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
SPEECH = REPO.parent / "shared" / "data" / "speech"

from svidok.analyzers.speech import SpeechOptions, load_audio, model, transcribe  # noqa: E402
from svidok.analyzers.text_index import fts_query  # noqa: E402
from svidok.foundation.text import stems  # noqa: E402

SPOKEN = [("Петренко", "Александр Иванович"), ("Коваленко", "Богдан Сергеевич"), ("Шевчук", "Андрей Петрович"),
          ("Бондаренко", "Олег Викторович"), ("Ткаченко", "Дмитрий Васильевич"), ("Кравчук", "Игорь Николаевич"),
          ("Мельник", "Сергей Иванович"), ("Гнатюк", "Юрий Степанович"), ("Лысенко", "Максим Олегович"),
          ("Марченко", "Владимир Андреевич")]
UNSPOKEN = ["Савченко Руслан", "Руденко Тарас", "Козак Василий", "Поліщук Михайло", "Ющенко Артем",
            "Левченко Денис", "Кушнір Остап", "Гончаренко Ярослав"]


def normalise(text: str) -> list[str]:
    text = text.lower().replace("ё", "е").replace("’", "'").replace("ʼ", "'")
    return re.sub(r"[^\w'\s]+", " ", text).replace("'", "").split()


def wer_counts(reference: str, hypothesis: str) -> tuple[int, int]:
    from rapidfuzz.distance import Levenshtein

    ref, hyp = normalise(reference), normalise(hypothesis)
    return Levenshtein.distance(ref, hyp), len(ref)


def clips(limit: int | None) -> list[tuple[Path, str, str, float]]:
    """(path, language, reference, duration) for the Ukrainian and recorded Russian clips."""
    out = []
    with (SPEECH / "uk" / "transcripts.tsv").open(encoding="utf-8") as handle:
        for row in csv.DictReader(handle, delimiter="\t"):
            out.append((SPEECH / "uk" / row["clip"], "uk", row["transcript"], float(row["duration_s"])))
    out = out[:limit] if limit else out
    seen = set()
    with (SPEECH / "ru" / "transcripts_all.tsv").open(encoding="utf-8") as handle:
        for row in csv.DictReader(handle, delimiter="\t"):
            if row["kind"] == "recorded" and row["clip"] not in seen:
                seen.add(row["clip"])
                out.append((SPEECH / "ru" / row["clip"], "ru", row["transcript"], 0.0))
    return out


def baseline(path: Path, language: str) -> str:
    audio = load_audio(path, 3600)
    segments, _ = model().loaded.transcribe(audio, language=language, beam_size=5)
    return " ".join(s.text.strip() for s in segments)


def ours(beam_size: int):  # noqa: ANN201 - a system: (path, language) -> text
    options = SpeechOptions(beam_size=beam_size)
    return lambda path, language: transcribe(path, language, options=options).text


def wer_section(limit: int | None, skip_baseline: bool, beams: list[int]) -> None:
    if not (SPEECH / "uk" / "transcripts.tsv").is_file():
        print("\n_WER: skipped, ../shared/data/speech is absent._")
        return
    data = clips(limit)
    audio_s = sum(load_audio(p, 3600).size / 16000 for p, *_ in data)
    model().loaded
    systems = [(f"ours: VAD, no conditioning, guards, beam {beam}", ours(beam)) for beam in beams]
    if not skip_baseline:
        systems.insert(0, ("baseline: faster-whisper defaults, beam 5", baseline))
    print(f"\n### WER on {len(data)} clips ({audio_s:.0f} s of audio), whisper base int8, 2 CPU threads\n")
    print("| system | WER uk | WER ru | WER all | RTF |\n|---|---|---|---|---|")
    for label, run in systems:
        errors = {"uk": [0, 0], "ru": [0, 0]}
        started = time.perf_counter()
        for path, language, reference, _ in data:
            e, n = wer_counts(reference, run(path, language))
            errors[language][0] += e
            errors[language][1] += n
        elapsed = time.perf_counter() - started
        total = [sum(v[0] for v in errors.values()), sum(v[1] for v in errors.values())]
        rates = [f"{e / n:.3f}" if n else "-" for e, n in (errors["uk"], errors["ru"], total)]
        print(f"| {label} | {' | '.join(rates)} | {elapsed / audio_s:.3f} |")


def festival(text: str, out: Path) -> Path:
    txt = out.with_suffix(".txt")
    txt.write_text(text, encoding="utf-8")
    subprocess.run(["text2wave", "-eval", "(voice_msu_ru_nsh_clunits)", str(txt), "-o", str(out)], check=True,
                   capture_output=True)
    return out


def names_section() -> None:
    if shutil.which("text2wave") is None:
        print("\n_Names: skipped, festival (text2wave) with festvox-ru is not installed._")
        return
    enrolled = [f"{s} {n}" for s, n in SPOKEN] + UNSPOKEN
    unspoken_surnames = {normalise(n)[0] for n in UNSPOKEN}
    print(f"\n### Name recall on {len(SPOKEN)} festival clips, {len(enrolled)} enrolled names as hotwords\n")
    print("| hotwords | surnames right | first names right | unspoken names inserted |\n|---|---|---|---|")
    with tempfile.TemporaryDirectory() as tmp:
        paths = [festival(f"Меня зовут {s} {n}. Я из Киева.", Path(tmp) / f"{i}.wav")
                 for i, (s, n) in enumerate(SPOKEN)]
        for label, hotwords in (("none", None), ("enrolled names", enrolled)):
            surnames = firsts = inserted = 0
            for path, (surname, given) in zip(paths, SPOKEN):
                words = normalise(transcribe(path, "ru", hotwords).text)
                surnames += normalise(surname)[0] in words
                firsts += normalise(given)[0] in words
                inserted += len(unspoken_surnames & set(words))
            print(f"| {label} | {surnames}/{len(SPOKEN)} | {firsts}/{len(SPOKEN)} | {inserted} |")


SEARCH_CASES = [  # (query, document that should match)
    ("Петренко", "Меня зовут Петренка Алексей"), ("Петренко", "Передайте Петренкові привіт"),
    ("плен", "я нахожусь в плену"), ("пленные", "колонна пленных"), ("бригада", "из 36-й бригады"),
    ("Харькова", "Я живу в Харькове"), ("Харьков", "Я из Харькова"), ("Мариуполь", "вышли из Мариуполя"),
    ("морская пехота", "бригада морской пехоты"), ("полон", "він у полоні"), ("Ёлкин", "фамилия Елкин"),
]
SEARCH_NEGATIVES = [("плен", "пленум партии"), ("Коваль", "Коваленко Богдан")]


def search_section() -> None:
    def found(tokenizer: str, column_of: str, query: str, document: str) -> bool:
        conn = sqlite3.connect(":memory:")
        conn.execute(f"CREATE VIRTUAL TABLE t USING fts5(x, tokenize = '{tokenizer}')")
        conn.execute("INSERT INTO t VALUES (?)", (stems(document) if column_of == "stems" else document,))
        if column_of == "stems":
            expression = fts_query(query)
        elif tokenizer == "trigram":
            expression = " ".join(f'"{w}"' for w in query.split())
        else:
            expression = " ".join(f'"{w}"' for w in query.split())
        return bool(conn.execute("SELECT count(*) FROM t WHERE t MATCH ?", (expression,)).fetchone()[0])

    variants = [("words (unicode61, exact)", "unicode61", "text"), ("trigram, query as typed", "trigram", "text"),
                ("ours: stems + prefix", "unicode61 remove_diacritics 0", "stems")]
    print(f"\n### Search: {len(SEARCH_CASES)} word-form pairs that should match, {len(SEARCH_NEGATIVES)} that should not\n")
    print("| index | found | false matches |\n|---|---|---|")
    for label, tokenizer, column in variants:
        hits = sum(found(tokenizer, column, q, d) for q, d in SEARCH_CASES)
        false = sum(found(tokenizer, column, q, d) for q, d in SEARCH_NEGATIVES)
        print(f"| {label} | {hits}/{len(SEARCH_CASES)} | {false}/{len(SEARCH_NEGATIVES)} |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--limit", type=int, default=None, help="Only the first N Ukrainian clips.")
    parser.add_argument("--skip-baseline", action="store_true", help="Do not run the plain baseline.")
    parser.add_argument("--skip-names", action="store_true", help="Skip the festival name section.")
    parser.add_argument("--beams", default=str(SpeechOptions().beam_size),
                        help="Comma-separated beam sizes to measure our transcription at (default: the setting's).")
    args = parser.parse_args()
    search_section()
    if not args.skip_names:
        names_section()
    wer_section(args.limit, args.skip_baseline, [int(b) for b in args.beams.split(",")])


if __name__ == "__main__":
    main()
