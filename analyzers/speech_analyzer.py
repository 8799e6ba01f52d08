"""The speech analyzer: transcript segments for every video and audio file.

For one media file:
1. the language is the source's (the media's, else the linking item's), else the setting
   `analyze.speech_default_language`, else detected once per file (analyzers/speech.py);
2. the names of persons with an active consent (and their variants) become Whisper hotwords,
   so that a captive saying his name is transcribed right (setting `analyze.speech_hotwords`);
3. the file is transcribed; a file without an audio stream records nothing;
4. one `transcript_segment` row per segment, with its words, the model and the parameters.
The full-text index picks the new rows up (analyzers/text_index.py).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar

from svidok.analyzers.base import AnalysisOutcome, BackgroundAnalyzer, MediaFile

if TYPE_CHECKING:
    from svidok.analyzers.speech import SpeechOptions, Transcript
    from svidok.foundation.workspace import Workspace

LANGUAGES = ("ru", "uk")


@dataclass(frozen=True)
class SpeechJob:
    """What transcribing one file needs from the workspace."""

    options: "SpeechOptions"
    language: str | None
    language_source: str
    hotwords: list[str]


@dataclass(frozen=True)
class Transcribed:
    job: SpeechJob
    transcript: "Transcript"


class SpeechAnalyzer(BackgroundAnalyzer):
    """Whisper transcripts, language fixed per file, enrolled names as hotwords."""

    name: ClassVar[str] = "speech"
    version: ClassVar[str] = "1"
    accepts: ClassVar[tuple[str, ...]] = ("video", "audio")

    def gather(self, media: MediaFile, workspace: "Workspace") -> SpeechJob:
        from svidok.analyzers.speech import SpeechOptions

        settings = workspace.settings.analyze
        language, language_source = source_language(media, workspace)                    # 1
        hotwords = enrolled_names(workspace) if settings.speech_hotwords else []           # 2
        return SpeechJob(SpeechOptions.from_settings(settings), language, language_source, hotwords)

    def compute(self, media: MediaFile, gathered: SpeechJob) -> Transcribed:
        from svidok.analyzers.speech import transcribe

        job = gathered
        return Transcribed(job, transcribe(media.path, job.language, job.hotwords, job.options))  # 3

    def store(self, media: MediaFile, computed: Transcribed, workspace: "Workspace") -> AnalysisOutcome:
        from svidok.analyzers.speech import model

        transcript, job = computed.transcript, computed.job
        if not transcript.has_audio:
            return AnalysisOutcome({"transcripts": 0})
        whisper = model(job.options.cpu_threads)
        params = {**job.options.params(), "language": transcript.language, "language_source": job.language_source,
                  "language_probability": round(transcript.language_probability, 3),
                  "hotwords": len(job.hotwords), "analyzer": f"{self.name} {self.version}"}
        write_segments(workspace, media.sha256, transcript, whisper.name, whisper.version, params)  # 4
        return AnalysisOutcome({"transcripts": len(transcript.segments)})

    def clear(self, media: MediaFile, workspace: "Workspace") -> None:
        workspace.conn.execute("DELETE FROM transcript_segment WHERE media_sha256 = ?", (media.sha256,))


def source_language(media: MediaFile, workspace: "Workspace") -> tuple[str | None, str]:
    """The language to transcribe in and where it came from (source, item, setting, detected)."""
    if media.language in LANGUAGES:
        return media.language, "source"
    row = workspace.conn.execute(
        "SELECT item.language FROM item_media JOIN item ON item.id = item_media.item_id"
        " WHERE item_media.media_sha256 = ? AND item.language IN ('ru', 'uk') ORDER BY item.id LIMIT 1",
        (media.sha256,),
    ).fetchone()
    if row is not None:
        return row[0], "item"
    default = workspace.settings.analyze.speech_default_language
    if default in LANGUAGES:
        return default, "setting"
    return None, "detected"


def enrolled_names(workspace: "Workspace") -> list[str]:
    """Names and name variants of persons with an active consent."""
    rows = workspace.conn.execute(
        "SELECT name, name_variants FROM person WHERE EXISTS"
        " (SELECT 1 FROM consent WHERE consent.person_id = person.id AND consent.revoked_at IS NULL)"
        " ORDER BY id"
    ).fetchall()
    names: list[str] = []
    for name, variants in rows:
        names.append(name)
        try:
            names.extend(v for v in json.loads(variants or "[]") if isinstance(v, str))
        except json.JSONDecodeError:
            pass
    return names


def write_segments(workspace: "Workspace", sha256: str, transcript: "Transcript", model_name: str,
                   model_version: str, params: dict[str, Any]) -> None:
    params_json = json.dumps(params, ensure_ascii=False, sort_keys=True)
    workspace.conn.executemany(
        "INSERT INTO transcript_segment (media_sha256, start_s, end_s, text, language, words, model,"
        " model_version, params) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [(sha256, s.start, s.end, s.text, transcript.language,
          json.dumps(s.as_dict()["words"], ensure_ascii=False), model_name, model_version, params_json)
         for s in transcript.segments],
    )
