"""What a recipient finds in a package: a bilingual summary (HTML and PDF) showing the images by
meaning, the consent record, case notes, a chain of custody from capture to export, readable
UTF-8 JSON, BagIt 1.0 as one file, and no path of the exporting machine anywhere."""

from __future__ import annotations

import json
import re
import zipfile
import zlib
from pathlib import Path

import bagit
import pytest

from svidok.cases.export import export_case
from svidok.matching.face_matcher import active_face_threshold


@pytest.fixture
def package(case_ready, tmp_path):
    ws = case_ready.seed.ws
    local = str(tmp_path / "analyst" / "Downloads" / "polon_video.mp4")      # as `ingest files` records it
    ws.conn.execute("UPDATE item_media SET source_ref = ? WHERE media_sha256 = ?", (local, case_ready.seed.video_sha))
    first = export_case(ws, case_ready.case, "court", tmp_path / "out", "officer")   # its path lands in the audit log
    return export_case(ws, case_ready.case, "icrc", tmp_path / "out", "officer"), first


def _all_text(bag: Path) -> dict[str, bytes]:
    """Every file of the bag, PDF streams inflated, so that a search sees what a reader could."""
    out = {}
    for path in bag.rglob("*"):
        if path.is_file():
            data = path.read_bytes()
            if path.suffix == ".pdf":
                data += b"".join(_inflate(m) for m in re.findall(rb"stream\r?\n(.*?)endstream", data, re.DOTALL))
            out[str(path.relative_to(bag))] = data
    return out


def _inflate(chunk: bytes) -> bytes:
    try:
        return zlib.decompressobj().decompress(chunk)
    except zlib.error:
        return b""


def test_bagit_1_0_in_one_zip_file(package):
    result, _ = package
    assert (result.bag / "bagit.txt").read_text().startswith("BagIt-Version: 1.0\n")
    bag = bagit.Bag(str(result.bag))
    assert bag.validate() and bag.version_info == (1, 0)
    with zipfile.ZipFile(result.package) as archive:
        inside = {n.split("/", 1)[1] for n in archive.namelist()}
        assert {n.split("/", 1)[0] for n in archive.namelist()} == {result.bag.name}
    on_disk = {str(p.relative_to(result.bag)) for p in result.bag.rglob("*") if p.is_file()}
    assert inside == on_disk and {"signature/tagmanifest-sha256.txt.sig", "data/summary.pdf"} <= inside


def test_summary_shows_faces_frames_transcript_reasons_decisions_in_both_languages(case_ready, package):
    result, _ = package
    html = (result.bag / "data" / "summary.html").read_text(encoding="utf-8")
    for folder in ("references", "crops", "frames"):
        for image in (result.bag / "data" / folder).iterdir():
            assert f'src="{folder}/{image.name}"' in html
    assert 'class="zoom"' in html                       # the reference face, zoomed to the crops' scale
    assert "0:02.0" in html and "0:03.5" in html         # key frames with their times
    assert "<mark>Петренко</mark> <mark>Олександр</mark>" in html
    threshold = active_face_threshold(case_ready.seed.ws).threshold          # the active face model's, calibrated
    assert "Обличчя на записі схоже на фото від родини №1" in html and f"distance 0.41 (threshold {threshold}" in html
    assert "«Петренко Олександр» у розшифровці мовлення (0:03.2)" in html
    assert "rev1: шрам над лівою бровою" in html and "очі / eyes: схожі / similar" in html
    assert "Що означає оцінка" in html and "not a probability" in html and "is not an identification" in html
    assert "faster-whisper base" in html and "dlib_face_recognition_resnet_model_v1" in html
    assert "Родину повідомлено / family informed" in html
    assert "Case opened</span></th><td>" in html and "by officer" in html
    pdf = (result.bag / "data" / "summary.pdf").read_bytes()
    assert pdf.startswith(b"%PDF-") and pdf.count(b"/Subtype /Image") + pdf.count(b"/Subtype/Image") >= 4


def test_consent_record_notes_and_utf8_json(case_ready, package):
    result, _ = package
    data = result.bag / "data"
    consents = json.loads((data / "consent.json").read_text(encoding="utf-8"))
    assert [(c["given_by"], c["relation"], c["given_on"]) for c in consents] == [("Марія Петренко", "mother",
                                                                               "2024-01-10")]
    assert "share-icrc" in consents[0]["scopes"] and "document_ref" in consents[0]
    assert "brother" not in (data / "consent.json").read_text()       # identification-only: not relied on, not sent
    raw = (data / "case.json").read_bytes()
    assert "Петренко Олександр Іванович".encode() in raw and b"\\u04" not in raw
    case = json.loads(raw)
    assert case["case"]["opened_by"] == "officer" and case["case"]["notes"][0]["text"].startswith("Родину")
    sighting = case["sightings"][0]
    assert sighting["references"] == [case_ready.seed.references["share"]]
    assert sighting["reasons_explained"][0]["en"].startswith("The face in the footage")
    assert case["score"]["face_threshold"] == active_face_threshold(case_ready.seed.ws).threshold
    assert case["signing_key_sha256"] == result.signing_key_sha256


def test_custody_runs_from_capture_to_this_export(case_ready, package):
    result, _ = package
    custody = json.loads((result.bag / "data" / "custody.json").read_text(encoding="utf-8"))
    steps = [s["step"] for s in custody["steps"]]
    assert {"capture", "analysis", "consent", "enrollment", "matching", "decision", "case", "export"} <= set(steps)
    assert steps[-1] == "export" and custody["steps"][-1]["audit_seq"] == custody["audit_verify"]["entries"]
    capture = next(s for s in custody["steps"] if s["step"] == "capture")
    assert capture["details"]["url"] == "https://t.me/rybar/123"
    assert capture["details"]["sha256"] == case_ready.seed.video_sha and capture["who"] == "collectors.telethon_channel 1.0"
    assert [s["who"] for s in custody["steps"] if s["step"] == "decision"] == ["rev1", "rev2"]
    earlier = [e for e in custody["entries"] if e["action"] == "case.export"]
    assert earlier and earlier[0]["redacted"] and earlier[0]["details"]["bag"].startswith("…/case-1-court-")


def test_no_local_path_anywhere(package, tmp_path):
    result, first = package
    forbidden = [str(tmp_path).encode(), str(result.bag.parent).encode()]
    for bag in (result.bag, first.bag):
        leaks = {name for name, data in _all_text(bag).items() if any(f in data for f in forbidden)}
        assert not leaks
    provenance = json.loads((result.bag / "data" / "provenance.json").read_text())
    media = next(p for p in provenance if p["kind"] == "original")
    assert media["captured_from"][0]["source_ref"] == "…/polon_video.mp4"
