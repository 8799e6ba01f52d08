"""Builders for realistic inputs: Telegram Desktop exports, small images."""

from __future__ import annotations

import io
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

START = datetime(2024, 3, 1, 9, 0, tzinfo=UTC)


def jpeg_bytes(seed: int = 0, size: tuple[int, int] = (64, 48)) -> bytes:
    """A small real JPEG whose bytes differ per seed."""
    from PIL import Image

    image = Image.new("RGB", size, ((seed * 37) % 256, (seed * 91) % 256, (seed * 13) % 256))
    image.putpixel((seed % size[0], 0), (255 - (seed % 256), 0, 0))
    out = io.BytesIO()
    image.save(out, "JPEG", quality=90)
    return out.getvalue()


def message(msg_id: int, text: Any = "", **fields: Any) -> dict[str, Any]:
    when = START + timedelta(minutes=msg_id)
    return {"id": msg_id, "type": "message", "date": when.strftime("%Y-%m-%dT%H:%M:%S"),
            "date_unixtime": str(int(when.timestamp())), "from": "Военный канал", "from_id": "channel777",
            "text": text, "text_entities": [], **fields}


def write_export(folder: Path, messages: list[dict[str, Any]], files: dict[str, bytes] | None = None,
                 name: str = "Военный канал", chat_id: int = 777, account: bool = False) -> Path:
    """Write a Telegram Desktop export folder: result.json plus media files."""
    folder.mkdir(parents=True, exist_ok=True)
    for rel, data in (files or {}).items():
        path = folder / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
    chat = {"name": name, "type": "public_channel", "id": chat_id, "messages": messages}
    document = {"about": "export", "chats": {"about": "chats", "list": [chat]}} if account else chat
    (folder / "result.json").write_text(json.dumps(document, ensure_ascii=False, indent=1), encoding="utf-8")
    return folder


def channel_export(folder: Path) -> Path:
    """A small channel export covering the formats Telegram Desktop writes."""
    messages = [
        message(1, "Пленные рассказали о себе", photo="photos/photo_1@01-03-2024_09-01-00.jpg",
                width=64, height=48),
        message(2, ["Смотрите ", {"type": "link", "text": "https://example.org/v"}, " ", {"type": "bold",
                "text": "видео"}], file="video_files/clip.mp4", media_type="video_file", mime_type="video/mp4"),
        message(3, "Голосовое", file="voice_messages/audio_1.ogg", media_type="voice_message"),
        message(4, "Без файла", photo="(File not included. Change data exporting settings to download.)"),
        message(5, "Переслано", forwarded_from="Другой канал"),
        {"id": 6, "type": "service", "date": "2024-03-01T09:06:00", "date_unixtime": str(int(START.timestamp()) + 360),
         "actor": "Военный канал", "actor_id": "channel777", "action": "pin_message", "message_id": 1, "text": "",
         "text_entities": []},
        message(7, "Кружок", file="round_video_messages/file_7.mp4", media_type="round_video_message"),
    ]
    files = {
        "photos/photo_1@01-03-2024_09-01-00.jpg": jpeg_bytes(1),
        "video_files/clip.mp4": mp4_bytes(),
        "voice_messages/audio_1.ogg": ogg_bytes(),
        "round_video_messages/file_7.mp4": mp4_bytes(seed=7),
    }
    return write_export(folder, messages, files)


def mp4_bytes(seed: int = 0, frames: int = 6) -> bytes:
    """A tiny real H.264 MP4 made with PyAV."""
    import av
    import numpy as np

    out = io.BytesIO()
    with av.open(out, "w", format="mp4") as container:
        stream = container.add_stream("libx264", rate=6)
        stream.width, stream.height, stream.pix_fmt = 64, 48, "yuv420p"
        for i in range(frames):
            image = np.full((48, 64, 3), (seed * 40 + i * 20) % 256, dtype=np.uint8)
            for packet in stream.encode(av.VideoFrame.from_ndarray(image, format="rgb24")):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)
    return out.getvalue()


def ogg_bytes() -> bytes:
    """A short real Ogg/Opus file (a tone) made with PyAV."""
    import av
    import numpy as np

    out = io.BytesIO()
    with av.open(out, "w", format="ogg") as container:
        stream = container.add_stream("libopus", rate=48000)
        stream.layout = "mono"
        t = np.arange(48000 // 2) / 48000
        samples = (0.2 * np.sin(2 * np.pi * 440 * t)).astype(np.float32)[None, :]
        frame = av.AudioFrame.from_ndarray(samples, format="flt", layout="mono")
        frame.sample_rate = 48000
        for packet in stream.encode(frame):
            container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)
    return out.getvalue()


# what a "same person" decision needs (cases/review_rules.py): every feature assessed, one similar, an
# observation, and the UI's attestation that the images were revealed
CHECKLIST = {"face_shape": "similar", "hairline": "not-visible", "eyebrows": "similar", "eyes": "similar",
             "nose": "similar", "ears": "not-visible", "mouth": "similar", "marks": "similar"}
OBSERVATION = "scar above the left eyebrow matches"


def evidence(observation: str = OBSERVATION) -> dict:
    """Keyword arguments of `record_decision` (and fields of a JSON decision) for a complete "same person"."""
    return {"checklist": dict(CHECKLIST), "observation": observation, "revealed": True}
