"""`svidok transcribe FILE` (no workspace needed) and `svidok search QUERY` (posts and transcripts)."""

from __future__ import annotations

from pathlib import Path

import click

from svidok.cli.base import CommandContext, CommandError, common_options, stderr


@click.command("transcribe")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--language", type=click.Choice(["ru", "uk"]), default=None,
              help="Spoken language; default: setting analyze.speech_default_language, else detected once.")
@click.option("--hotword", "hotwords", multiple=True,
              help="A name or word to favour (repeatable), e.g. the name of a missing person.")
@common_options
def transcribe_cmd(cc: CommandContext, file: Path, language: str | None, hotwords: tuple[str, ...]) -> None:
    """Transcribe one audio or video file with Whisper (Russian/Ukrainian), without a workspace.

    Example:

        svidok transcribe clip.mp4 --language ru --hotword "Петренко Александр" --json
    """
    from svidok.analyzers.base import AnalysisError
    from svidok.analyzers.speech import SpeechOptions, transcribe
    from svidok.foundation.settings import load_settings

    settings = load_settings().analyze
    language = language or settings.speech_default_language or None
    stderr.print(f"transcribing {file.name} …")
    try:
        transcript = transcribe(file, language, list(hotwords), SpeechOptions.from_settings(settings))
    except AnalysisError as exc:
        raise CommandError(str(exc)) from None
    data = {
        "language": transcript.language,
        "language_probability": round(transcript.language_probability, 3),
        "duration_s": round(transcript.duration_s, 2),
        "has_audio": transcript.has_audio,
        "text": transcript.text,
        "segments": [s.as_dict() for s in transcript.segments],
    }

    def show(d: dict) -> None:
        for s in d["segments"]:
            click.echo(f"[{s['start']:7.2f} – {s['end']:7.2f}] {s['text']}")
        stderr.print(f"language {d['language']} ({d['language_probability']}), {d['duration_s']} s")

    cc.emit(data, show)


@click.command("search")
@click.argument("query")
@click.option("--limit", type=int, default=20, show_default=True, help="Most hits to show (best first).")
@common_options
def search_cmd(cc: CommandContext, query: str, limit: int) -> None:
    """Search post texts and transcripts; Russian/Ukrainian word forms match each other.

    Example:

        svidok search "Петренко плен" --limit 10 --json
    """
    from svidok.analyzers.text_index import search

    with cc.workspace() as ws:
        hits = [h.as_dict() for h in search(ws.conn, query, limit)]

    def show(data: list[dict]) -> None:
        for h in data:
            where = f"item {h['item_id']}" if h["kind"] == "post" else \
                f"{(h['media_sha256'] or '')[:12]} @ {h['start_s']:.1f}s"
            click.echo(f"{h['kind']:10} {where:28} {h['snippet']}")
        stderr.print(f"{len(data)} hit(s)")

    cc.emit(hits, show)


COMMANDS: list[click.Command] = [transcribe_cmd, search_cmd]
