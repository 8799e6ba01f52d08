"""Settings, declared once: typed, with a default and a help text.

Sources, later ones overriding earlier ones:
1. the defaults below;
2. `configs/svidok.toml` in the current directory (or the file named by `SVIDOK_CONFIG`);
3. `svidok.toml` inside the workspace;
4. environment variables `SVIDOK_<SECTION>_<NAME>` (e.g. `SVIDOK_MATCH_FACE_THRESHOLD=0.5`).

Each section is one frozen dataclass; every field carries `help` in its metadata, and a test
fails when one does not. `svidok settings` prints them all.
"""

from __future__ import annotations

import dataclasses
import os
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, get_type_hints


class SettingsError(ValueError):
    """A settings file or variable could not be read or has a wrong type."""


def setting(default: Any, help: str) -> Any:
    """Declare one setting with its default and help text."""
    if isinstance(default, (list, dict)):
        return field(default_factory=lambda: type(default)(default), metadata={"help": help})
    return field(default=default, metadata={"help": help})


@dataclass(frozen=True)
class ArchiveSettings:
    """How material is stored."""

    max_file_bytes: int = setting(
        8 * 1024**3, "Largest single file accepted into the archive, in bytes (bigger is rejected)."
    )
    chunk_bytes: int = setting(1024 * 1024, "Read/write block size when hashing and copying files.")


@dataclass(frozen=True)
class CollectSettings:
    """Collectors: Telegram, web previews, video pages."""

    user_agent: str = setting(
        "Svidok-archiver/0.1 (+human-rights documentation; contact your organisation)",
        "User-Agent sent by web collectors.",
    )
    telegram_api_id: int = setting(0, "Telegram API id (my.telegram.org) for `collect telegram`.")
    telegram_api_hash: str = setting("", "Telegram API hash for `collect telegram`.")
    telegram_phone: str = setting("", "Phone number of the collecting Telegram account.")
    telegram_resync_items: int = setting(
        200, "Most recent archived posts per channel re-checked by `collect telegram` for edits and deletions."
    )
    web_max_pages: int = setting(20, "Pages fetched backwards per channel by `collect telegram-web`.")
    download_timeout_s: float = setting(120.0, "Timeout for one media download, seconds.")
    retries: int = setting(3, "Retries for a failing request or download.")
    chromium_path: str = setting("/usr/bin/chromium", "Chromium used by the Playwright fallback.")
    page_timeout_s: float = setting(45.0, "Longest wait for a video page to load or to start its stream, seconds.")
    video_max_height: int = setting(720, "Tallest video format `collect video` picks (a smaller file with audio).")
    sources_file: str = setting("configs/sources.toml", "File listing sources for `collect --all`.")
    proxy: str = setting(
        "", "Proxy for every request of the web collectors (telegram-web, video: pages, media, yt-dlp, Chromium), "
        "so that sources do not see the organisation's address: socks5://127.0.0.1:9050 (Tor) or http://host:port; "
        "empty = direct. `collect telegram-web` needs an http:// proxy (Scrapy has no SOCKS support); SOCKS for "
        "the video stream downloader needs the socksio package."
    )


@dataclass(frozen=True)
class AnalyzeSettings:
    """Analyzers: frames, faces, speech."""

    base_fps: float = setting(2.0, "Base frame sampling rate for video, frames per second.")
    scene_threshold: float = setting(0.35, "Histogram change that counts as a scene cut (0-1).")
    duplicate_hash_distance: int = setting(
        4, "Frames whose perceptual hash differs by at most this many bits are skipped."
    )
    face_working_width: int = setting(960, "Frames are resized to at most this width for detection.")
    face_min_size: int = setting(40, "Smallest face side, pixels at working resolution, to keep.")
    face_upsample_budget: int = setting(
        1, "Extra upsampling passes tried when HOG finds nothing in a photo or frame."
    )
    face_fallback_detector: str = setting(
        "blazeface", "Detector tried when HOG (with its extra upsampling) finds no face in a photo or frame: "
        "blazeface (MediaPipe's BlazeFace, a few ms; its file comes with `make setup`), cnn (dlib's CNN, about 1 s "
        "per small photo on CPU) or none. Not used by the focused search between full ones in video."
    )
    face_cnn_fallback: bool = setting(
        False, "Old switch kept for existing configurations: true means face_fallback_detector = cnn."
    )
    face_jitter: int = setting(1, "Re-samplings averaged per face embedding (dlib num_jitters).")
    face_hog_upsample: int = setting(
        1, "Pyramid doublings for the HOG face detector (1 finds faces of about 40 working pixels)."
    )
    face_full_scan_every: int = setting(
        4, "In video, every Nth sampled frame (and each scene cut) is searched in full for faces; the frames "
        "between get a cheaper search focused on the faces already seen (1 = search every frame in full)."
    )
    face_workers: int = setting(
        1, "Processes searching video frames for faces at the same time (1 = all in the analyzing process; "
        "2 forks the analyzing process, so it is opt-in, and is used only while no other thread runs: "
        "`svidok analyze` transcribes in a thread beside the faces, which already keeps both cores busy)."
    )
    face_embed_every: int = setting(
        3, "In video, a face in the same place as one of the previous sampled frame is embedded only every Nth "
        "sampled frame, or when its quality is clearly better than that face's best so far (1 = embed every face)."
    )
    face_mirror: bool = setting(
        True, "Average each face embedding with that of its mirror image (2x embedding time, steadier distances)."
    )
    face_landmarks: int = setting(5, "Landmark model used to align faces before embedding: 5 or 68 points.")
    face_small_image_side: int = setting(
        200, "Pictures whose short side is below this many pixels are enlarged before detection (0 = never)."
    )
    face_model: str = setting(
        "fusion", "Face model that embeds faces, for analysis and enrollment alike: dlib, mobilefacenet, fr_feature or "
        "fusion (`svidok models list`; the plug-ins' files come with `make setup`). Every face and reference records "
        "its model and only faces and references of the same model are compared: after changing it, run "
        "`svidok analyze --reembed` so that the archive and the references are searchable with the new one."
    )
    nice: int = setting(
        10, "CPU priority given up by `svidok analyze` and `svidok worker` (Unix nice increment, 0-19): analysis "
        "then takes the cores the review UI and collectors leave free instead of slowing reviewers' pages."
    )
    speech_model: str = setting("base", "Whisper model packaged locally (only 'base' ships).")
    speech_beam_size: int = setting(5, "Beam size for Whisper decoding.")
    speech_default_language: str = setting(
        "", "Language when the source does not say (ru or uk); empty = detect once per file."
    )
    speech_hotwords: bool = setting(
        True, "Give enrolled persons' names (and variants) to Whisper as hotwords so spoken names come out right."
    )
    speech_cpu_threads: int = setting(2, "CPU threads Whisper may use.")
    max_seconds_per_file: float = setting(
        3600.0, "Longest media duration analyzed; longer files are cut at this point."
    )
    max_pixels: int = setting(80_000_000, "Images with more pixels are refused (decompression bombs).")


@dataclass(frozen=True)
class MatchSettings:
    """Matching: references, faces, names, sightings."""

    face_threshold: float = setting(
        0.0, "Largest face distance (after normalisation) that raises a candidate sighting; 0 = the active face "
        "model's calibrated threshold for the number of enrolled persons (analyzers/model_thresholds.toml, <= 5 % "
        "of distractors raising a candidate; it tightens as the register grows). "
        "Set it only to override that: distances differ between face models, so an override fits one model only."
    )
    name_threshold: float = setting(0.85, "Smallest name similarity (0-1) that counts as a name match.")
    reference_min_face: int = setting(60, "Smallest face side in a reference photo, pixels.")
    reference_min_sharpness: float = setting(
        20.0, "Smallest Laplacian variance of a reference face crop (blur check)."
    )
    reference_jitter: int = setting(
        10, "Re-samplings averaged per reference embedding (references are few, so more than archive faces)."
    )
    name_min_score: float = setting(
        0.6, "Smallest name score (0-1) that raises a name-only candidate: a full name, or a surname plus "
        "a supporting reason (unit, place, birth year)."
    )
    face_gallery_margin: float = setting(
        0.10, "A face about as close to another enrolled person (within this distance) is penalised."
    )
    ranked_search_size: int = setting(20, "Archived faces shown per reference in the ranked search.")


@dataclass(frozen=True)
class ReviewSettings:
    """Review UI and decisions."""

    host: str = setting("127.0.0.1", "Address the review UI binds to.")
    port: int = setting(8765, "Port of the review UI.")
    confirmations_needed: int = setting(2, "Independent reviewer confirmations that confirm a sighting.")
    rejections_needed: int = setting(2, "Independent reviewer rejections that reject a sighting.")
    extra_reviews: int = setting(
        0, "Reviews a sighting may get beyond max(confirmations_needed, rejections_needed) before it goes to an "
        "admin as a conflict: 0 = a confirmation (or rejection) and an 'unsure' go to the admin; 1 = a third "
        "reviewer decides them (two 'unsure' still go to the admin). See cases/review_rules.py."
    )
    login_max_failures: int = setting(5, "Failed logins before a user is locked out for a while.")
    lockout_seconds: int = setting(300, "How long a locked-out user must wait.")
    session_hours: int = setting(12, "Login session lifetime, hours.")


@dataclass(frozen=True)
class ExportSettings:
    """Evidence packages: who signs them, and the time-stamping authority (cases/package_sign.py)."""

    organisation: str = setting("Svidok", "Organisation named in evidence packages (bag-info.txt and the summary).")
    signing_key_file: str = setting(
        "", "Ed25519 private key (PEM) that signs evidence packages; empty = <workspace>/keys/"
        "package-signing-ed25519.pem, created on the first export (mode 0600), public key beside it."
    )
    tsa_url: str = setting(
        "", "RFC 3161 time-stamping authority URL for package signatures and audit anchors (`svidok audit anchor`);"
        " empty = no timestamp.")
    tsa_ca_file: str = setting(
        "", "PEM file of the certificate(s) trusted for timestamps (the TSA's root); checked at export and by "
        "`package verify`. Empty = only the certificate inside the timestamp is checked (reported as a warning)."
    )
    tsa_timeout_s: float = setting(30.0, "Timeout of one request to the time-stamping authority, seconds.")


@dataclass(frozen=True)
class DatabaseSettings:
    """Where the archive's records live (the files always stay in the workspace folder)."""

    url: str = setting(
        "", "Empty: SQLite inside the workspace (svidok.db). postgresql://USER@HOST:PORT/DB: a shared PostgreSQL "
        "database for a team (README, Team deployment); the workspace folder then holds the files and local settings."
    )
    pool_wait_s: float = setting(
        30.0, "Longest wait for the database's write turn (another writer's transaction), seconds."
    )


@dataclass(frozen=True)
class BrokerSettings:
    """The task queue for `svidok worker` and `--enqueue` (Celery over Redis; svidok/pipeline/tasks.py)."""

    url: str = setting(
        "", "Empty: no task queue, everything runs in-process. redis://HOST:PORT/DB: the Redis broker that "
        "`svidok worker`, `analyze --enqueue` and `collect --all --enqueue` use (env SVIDOK_BROKER_URL)."
    )
    visibility_timeout_s: int = setting(
        7200, "A task taken by a worker that dies (kill -9, power loss) is delivered again after this many "
        "seconds; keep it above the longest task (a long video), or a slow task is delivered twice."
    )
    max_retries: int = setting(8, "Retries of a failing task (broker or database unreachable, media not yet visible).")
    max_deliveries: int = setting(
        3, "A media file whose analysis this many workers died in (crash, kill, out of memory) is recorded as "
        "failed instead of being delivered again (the next `svidok analyze` or `--enqueue` tries it once more; 0: no bound)."
    )
    retry_backoff_max_s: int = setting(
        300, "Longest wait before a retry, seconds (waits double from 1 s up to this, with jitter)."
    )
    connect_timeout_s: float = setting(
        5.0, "How long `--enqueue` and `svidok status` wait for the broker before saying it is unreachable, seconds."
    )


@dataclass(frozen=True)
class Settings:
    """All settings, one section per stage."""

    archive: ArchiveSettings = field(default_factory=ArchiveSettings)
    collect: CollectSettings = field(default_factory=CollectSettings)
    analyze: AnalyzeSettings = field(default_factory=AnalyzeSettings)
    match: MatchSettings = field(default_factory=MatchSettings)
    review: ReviewSettings = field(default_factory=ReviewSettings)
    export: ExportSettings = field(default_factory=ExportSettings)
    database: DatabaseSettings = field(default_factory=DatabaseSettings)
    broker: BrokerSettings = field(default_factory=BrokerSettings)


def _coerce(value: Any, kind: type, where: str) -> Any:
    if isinstance(value, str) and kind is not str:
        try:
            if kind is bool:
                if value.lower() not in {"1", "0", "true", "false", "yes", "no"}:
                    raise ValueError(value)
                return value.lower() in {"1", "true", "yes"}
            return kind(value)
        except ValueError:
            raise SettingsError(f"{where}: expected {kind.__name__}, got {value!r}") from None
    if kind is float and isinstance(value, int) and not isinstance(value, bool):
        return float(value)
    if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
        raise SettingsError(f"{where}: expected {kind.__name__}, got {value!r}")
    return value


def _section_types(section_cls: type) -> dict[str, type]:
    return {k: v for k, v in get_type_hints(section_cls).items()}


def _apply(settings: Settings, overrides: dict[str, dict[str, Any]], where: str) -> Settings:
    sections = {}
    for section in dataclasses.fields(Settings):
        current = getattr(settings, section.name)
        wanted = overrides.get(section.name, {})
        types = _section_types(type(current))
        unknown = set(wanted) - set(types)
        if unknown:
            raise SettingsError(f"{where}: unknown setting(s) {section.name}.{', '.join(sorted(unknown))}")
        values = {k: _coerce(v, types[k], f"{where} {section.name}.{k}") for k, v in wanted.items()}
        sections[section.name] = dataclasses.replace(current, **values)
    unknown_sections = set(overrides) - set(sections)
    if unknown_sections:
        raise SettingsError(f"{where}: unknown section(s) {', '.join(sorted(unknown_sections))}")
    return Settings(**sections)


def _read_toml(path: Path) -> dict[str, Any]:
    try:
        with path.open("rb") as handle:
            return tomllib.load(handle)
    except tomllib.TOMLDecodeError as exc:
        raise SettingsError(f"{path}: not valid TOML ({exc})") from None


def _env_overrides(environ: dict[str, str]) -> dict[str, dict[str, str]]:
    overrides: dict[str, dict[str, str]] = {}
    for section in dataclasses.fields(Settings):
        prefix = f"SVIDOK_{section.name.upper()}_"
        for key, value in environ.items():
            if key.startswith(prefix):
                overrides.setdefault(section.name, {})[key[len(prefix):].lower()] = value
    return overrides


def load_settings(workspace: Path | None = None, environ: dict[str, str] | None = None) -> Settings:
    """Read settings from defaults, config files and the environment."""
    environ = dict(os.environ if environ is None else environ)
    settings = Settings()
    config = Path(environ.get("SVIDOK_CONFIG", "configs/svidok.toml"))
    if config.is_file():
        settings = _apply(settings, _read_toml(config), str(config))
    if workspace is not None and (workspace / "svidok.toml").is_file():
        settings = _apply(settings, _read_toml(workspace / "svidok.toml"), str(workspace / "svidok.toml"))
    return _apply(settings, _env_overrides(environ), "environment")


def describe_settings() -> list[dict[str, Any]]:
    """Every setting with its section, type, default and help (for docs and `svidok settings`)."""
    rows = []
    defaults = Settings()
    for section in dataclasses.fields(Settings):
        current = getattr(defaults, section.name)
        types = _section_types(type(current))
        for item in dataclasses.fields(current):
            rows.append(
                {
                    "section": section.name,
                    "name": item.name,
                    "type": types[item.name].__name__,
                    "default": getattr(current, item.name),
                    "help": item.metadata.get("help", ""),
                    "env": f"SVIDOK_{section.name.upper()}_{item.name.upper()}",
                }
            )
    return rows
