"""`svidok faces FILE...`: find and embed faces in local photos and videos (no workspace)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click
from rich.table import Table

from svidok.cli.base import CommandContext, CommandError, common_options, stderr


@click.command("faces")
@click.argument("files", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option("--no-embedding", is_flag=True, help="Leave the numbers out of the output (shorter).")
@common_options
def faces_cmd(cc: CommandContext, files: tuple[Path, ...], no_embedding: bool) -> None:
    """Detect and embed the faces in photos and videos; needs no workspace.

    Videos are sampled as `svidok analyze` samples them (scene cuts plus a base rate, near-
    duplicate frames skipped). Boxes are [top, right, bottom, left] in original pixels; `time`
    is seconds into a video (null for photos). A file that cannot be read gets an `error`
    entry; the command fails only when every file does.

    Example:

        svidok faces photo.jpg clip.mp4 --json
    """
    from svidok.analyzers.base import AnalysisError
    from svidok.analyzers.faces import FaceOptions, detect_faces
    from svidok.analyzers.frames import FrameOptions, iter_frames
    from svidok.foundation.settings import load_settings

    settings = load_settings().analyze
    face_options, frame_options = FaceOptions.from_settings(settings), FrameOptions.from_settings(settings)
    results: list[dict[str, Any]] = []
    for path in files:
        entry: dict[str, Any] = {"file": str(path), "faces": []}
        try:
            if not path.is_file():
                raise AnalysisError("not a file (a folder?)" if path.exists() else "no such file")
            for frame in iter_frames(path, None, frame_options):
                for face in detect_faces(frame.image, face_options):
                    entry["faces"].append(_face_json(face, frame.time_s, no_embedding))
        except AnalysisError as exc:
            entry = {"file": str(path), "faces": [], "error": str(exc)}
            stderr.print(f"[yellow]{path}:[/] {exc}")
        results.append(entry)
    if all("error" in entry for entry in results):
        raise CommandError("no file could be analyzed: " + "; ".join(f"{e['file']}: {e['error']}" for e in results))
    cc.emit(results, _show)


def _face_json(face: Any, time_s: float | None, no_embedding: bool) -> dict[str, Any]:
    data: dict[str, Any] = {"box": list(face.box), "time": None if time_s is None else round(time_s, 3),
                            "quality": face.quality.as_dict(), "model": face.model}
    if not no_embedding:
        data["embedding"] = [round(float(x), 6) for x in face.embedding]
    return data


def _show(results: list[dict[str, Any]]) -> None:
    table = Table("file", "faces", "best quality", "error")
    for entry in results:
        best = max((f["quality"]["score"] for f in entry["faces"]), default=None)
        table.add_row(entry["file"], str(len(entry["faces"])), "" if best is None else f"{best:.2f}",
                      entry.get("error", ""))
    stderr.print(table)


COMMANDS: list[click.Command] = [faces_cmd]
