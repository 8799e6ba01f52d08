"""Material for `svidok demo`, made on the spot from what installed packages ship.

Nothing is downloaded and nothing comes from ../shared. No installed package ships two
photographs of one person, so the enrolled person's reference photo and the frames of the
clip are made from ONE public-domain photograph (scikit-image's `astronaut`, NASA) with real,
different transformations: crop, scale, small rotation, lighting, sensor noise and lossy
compression. The second, not-enrolled person is matplotlib's `grace_hopper` photograph (US
Navy, public domain). The speech was made once with Festival's Russian voice and is shipped in
svidok/demo/assets/ (see its README).

The material is a Telegram Desktop export of a Russian "channel": text posts, a photo and two
short video clips in which a person appears and says his name and unit.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
from PIL import Image, ImageEnhance

ASSETS = Path(__file__).resolve().parent / "assets"
FPS = 12
FRAME_SIZE = (640, 360)


@dataclass(frozen=True)
class DemoMaterial:
    export_dir: Path
    reference_photo: Path          # the enrolled person's photo (not a frame of the clip)
    enrolled_clip: str             # export-relative path of the clip with the enrolled person
    other_clip: str                # clip with the person who is not enrolled


def astronaut() -> Image.Image:
    from skimage import data

    return Image.fromarray(data.astronaut())


def grace_hopper() -> Image.Image:
    import matplotlib

    return Image.open(Path(matplotlib.get_data_path()) / "sample_data" / "grace_hopper.jpg").convert("RGB")


def speech_asset(stem: str) -> Path:
    matches = sorted(ASSETS.glob(f"{stem}.*"))
    audio = [p for p in matches if p.suffix in {".ogg", ".opus", ".flac", ".wav", ".mp3", ".m4a"}]
    if not audio:
        raise FileNotFoundError(f"demo speech asset {stem}.* is missing from {ASSETS}")
    return audio[0]


def reference_photo(out: Path) -> Path:
    """The 'family photo': a tighter crop, warmer light, slight tilt, saved as a phone JPEG."""
    image = astronaut().crop((110, 10, 340, 270)).rotate(-4, resample=Image.BICUBIC, fillcolor=(200, 190, 170))
    image = ImageEnhance.Color(ImageEnhance.Brightness(image).enhance(1.12)).enhance(0.85)
    image = image.resize((int(image.width * 1.3), int(image.height * 1.3)), Image.LANCZOS)
    image.save(out, "JPEG", quality=88)
    return out


def _frame(person: Image.Image, t: float, duration: float, seed: int) -> np.ndarray:
    """One video frame: the person on a dim background with slow zoom, sway, flicker and noise."""
    rng = np.random.default_rng(seed)
    canvas = Image.new("RGB", FRAME_SIZE, (38, 40, 44))
    progress = t / max(duration, 1e-6)
    scale = 0.62 + 0.10 * progress
    portrait = person.resize((int(person.width * scale), int(person.height * scale)), Image.BILINEAR)
    portrait = portrait.rotate(2.5 * np.sin(2 * np.pi * t / 3.0), resample=Image.BILINEAR, fillcolor=(38, 40, 44))
    portrait = ImageEnhance.Brightness(portrait).enhance(0.82 + 0.06 * np.sin(2 * np.pi * t * 1.7))
    x = (FRAME_SIZE[0] - portrait.width) // 2 + int(12 * np.sin(2 * np.pi * t / 5.0))
    y = max(0, (FRAME_SIZE[1] - portrait.height) // 2)
    canvas.paste(portrait, (x, y))
    pixels = np.asarray(canvas, dtype=np.int16) + rng.normal(0, 4, (FRAME_SIZE[1], FRAME_SIZE[0], 3)).astype(np.int16)
    return np.clip(pixels, 0, 255).astype(np.uint8)


def _read_audio(path: Path) -> tuple[np.ndarray, int]:
    import av

    with av.open(str(path)) as container:
        resampler = av.AudioResampler(format="fltp", layout="mono", rate=16000)
        chunks = []
        for frame in container.decode(audio=0):
            for out in resampler.resample(frame):
                chunks.append(out.to_ndarray())
        for out in resampler.resample(None):
            chunks.append(out.to_ndarray())
    return np.concatenate(chunks, axis=1).astype(np.float32), 16000


def make_clip(out: Path, person: Image.Image, speech: Path, seed: int, lead_in_s: float = 1.0) -> Path:
    """An MP4 (H.264 + AAC) of `person` on camera saying the words in `speech`."""
    import av

    samples, rate = _read_audio(speech)
    pad = np.zeros((1, int(lead_in_s * rate)), dtype=np.float32)
    samples = np.concatenate([pad, samples, pad], axis=1)
    duration = samples.shape[1] / rate
    with av.open(str(out), "w", format="mp4") as container:
        video = container.add_stream("libx264", rate=FPS, options={"crf": "30", "preset": "veryfast"})
        video.width, video.height, video.pix_fmt = FRAME_SIZE[0], FRAME_SIZE[1], "yuv420p"
        audio = container.add_stream("aac", rate=rate)
        audio.layout = "mono"
        for i in range(int(duration * FPS)):
            frame = av.VideoFrame.from_ndarray(_frame(person, i / FPS, duration, seed + i), format="rgb24")
            container.mux(video.encode(frame))
        container.mux(video.encode(None))
        block = 1024
        for start in range(0, samples.shape[1], block):
            frame = av.AudioFrame.from_ndarray(np.ascontiguousarray(samples[:, start:start + block]), format="fltp",
                                               layout="mono")
            frame.sample_rate, frame.pts = rate, start
            container.mux(audio.encode(frame))
        container.mux(audio.encode(None))
    return out


def _message(msg_id: int, when: datetime, text: str, **fields: object) -> dict[str, object]:
    return {"id": msg_id, "type": "message", "date": when.strftime("%Y-%m-%dT%H:%M:%S"),
            "date_unixtime": str(int(when.timestamp())), "from": "Военкор Донбасс (демо)", "from_id": "channel1001",
            "author": "Редакция", "text": text, "text_entities": [{"type": "plain", "text": text}], **fields}


def build(folder: Path) -> DemoMaterial:
    """Write the demo channel export and the reference photo into `folder`."""
    export = folder / "ChatExport_demo"
    (export / "video_files").mkdir(parents=True, exist_ok=True)
    (export / "photos").mkdir(parents=True, exist_ok=True)
    enrolled_clip, other_clip = "video_files/plennye_1.mp4", "video_files/plennye_2.mp4"
    person = astronaut().crop((60, 0, 400, 340))
    make_clip(export / enrolled_clip, person, speech_asset("captive_ru"), seed=11)
    make_clip(export / other_clip, grace_hopper().crop((40, 60, 480, 500)), speech_asset("other_ru"), seed=23)
    photo = grace_hopper().resize((384, 450))
    ImageEnhance.Contrast(photo).enhance(1.1).save(export / "photos/photo_3@12-03-2024_10-15-00.jpg", "JPEG",
                                                   quality=80)
    start = datetime(2024, 3, 12, 9, 0, tzinfo=UTC)
    messages = [
        _message(1, start, "Сводка за сутки: обстановка на направлении без существенных изменений."),
        _message(2, start + timedelta(minutes=40), "Очередные пленные. Смотрите видео с допросом.",
                 file=enrolled_clip, media_type="video_file", mime_type="video/mp4", duration_seconds=9),
        _message(3, start + timedelta(minutes=75), "Ещё один задержанный, фото с места.",
                 photo="photos/photo_3@12-03-2024_10-15-00.jpg", width=384, height=450),
        _message(4, start + timedelta(minutes=90), "Второе видео: задержанный рассказывает, откуда он.",
                 file=other_clip, media_type="video_file", mime_type="video/mp4", duration_seconds=7),
        _message(5, start + timedelta(minutes=120), "Видео недоступно в экспорте.",
                 file="(File not included. Change data exporting settings to download.)", media_type="video_file"),
    ]
    chat = {"name": "Военкор Донбасс (демо)", "type": "public_channel", "id": 1001, "messages": messages}
    (export / "result.json").write_text(json.dumps(chat, ensure_ascii=False, indent=1), encoding="utf-8")
    return DemoMaterial(export, reference_photo(folder / "family_photo_petrenko.jpg"), enrolled_clip, other_clip)
