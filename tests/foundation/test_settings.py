"""Settings: declared once, documented, read from TOML and the environment."""

from __future__ import annotations

import pytest

from svidok.foundation.settings import SettingsError, describe_settings, load_settings


def test_every_setting_has_help():
    rows = describe_settings()
    assert rows and all(len(r["help"]) > 10 for r in rows), [r["name"] for r in rows if len(r["help"]) <= 10]


def test_toml_then_workspace_then_environment(tmp_path):
    config = tmp_path / "svidok.toml"
    config.write_text("[match]\nface_threshold = 0.5\n[review]\nport = 9000\n")
    (tmp_path / "ws").mkdir()
    (tmp_path / "ws" / "svidok.toml").write_text("[review]\nport = 9100\n")
    settings = load_settings(tmp_path / "ws", {"SVIDOK_CONFIG": str(config), "SVIDOK_ANALYZE_BASE_FPS": "3"})
    assert (settings.match.face_threshold, settings.review.port, settings.analyze.base_fps) == (0.5, 9100, 3.0)


@pytest.mark.parametrize("environ, message", [
    ({"SVIDOK_REVIEW_PORT": "eighty"}, "expected int"),
    ({"SVIDOK_MATCH_NO_SUCH": "1"}, "unknown setting"),
])
def test_bad_settings_are_clear_errors(environ, message):
    with pytest.raises(SettingsError, match=message):
        load_settings(None, {"SVIDOK_CONFIG": "/nonexistent", **environ})


def test_example_config_is_valid():
    from pathlib import Path

    example = Path(__file__).resolve().parents[2] / "configs" / "svidok.example.toml"
    load_settings(None, {"SVIDOK_CONFIG": str(example)})
