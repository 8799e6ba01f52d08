"""Every command has help with an example; the workspace commands behave as the contract says."""

from __future__ import annotations

import click

from svidok.cli.main import main


def _commands(group: click.Group, prefix: str = ""):
    for name, command in group.commands.items():
        yield f"{prefix}{name}", command
        if isinstance(command, click.Group):
            yield from _commands(command, f"{prefix}{name} ")


def test_every_command_has_help_with_an_example():
    missing = []
    for name, command in _commands(main):
        if isinstance(command, click.Group):
            if not (command.help or "").strip():
                missing.append(name)
        elif "Example:" not in (command.help or ""):
            missing.append(name)
        for param in command.params:
            if isinstance(param, click.Option) and not param.help:
                missing.append(f"{name} {param.opts[0]}")
    assert not missing, f"commands/options without help or example: {missing}"


def test_init_is_idempotent_and_private(run_json, workspace_path, database_backend):
    assert run_json("init") == {"workspace": str(workspace_path.resolve())}
    assert run_json("init") == {"workspace": str(workspace_path.resolve())}
    assert workspace_path.stat().st_mode & 0o777 == 0o700
    database = {"svidok.db"} if database_backend == "sqlite" else set()   # else: on the server
    assert {p.name for p in workspace_path.iterdir()} >= {*database, "media", "derived", "references"}


def test_missing_workspace_is_one_clear_error(run_cli, tmp_path):
    result = run_cli("items", "list", "--workspace", str(tmp_path / "nowhere"))
    assert result.exit_code == 1
    assert "no workspace at" in result.output and "Traceback" not in result.output


def test_items_list_json(run_json, tmp_path):
    from tests.factories import channel_export

    run_json("ingest", "tdesktop", str(channel_export(tmp_path / "e")))
    items = run_json("items", "list")
    assert len(items) == 7
    first = next(i for i in items if i["source_id"] == "777/1")
    assert set(first) >= {"id", "source", "source_id", "posted_at", "text", "media_sha256"}
    assert len(first["media_sha256"]) == 1 and len(first["media_sha256"][0]) == 64
