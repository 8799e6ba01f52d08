"""Consent revocation reaches every local copy of a reference photo an export made: the photo in
the bag, the bag's summary.pdf (which shows it) and the package's .zip (which holds it)."""

from __future__ import annotations

from svidok.cases.export import export_case, packages_holding


def test_the_photo_the_pdf_and_the_zip_are_local_copies(case_ready, tmp_path):
    ws = case_ready.seed.ws
    inside = export_case(ws, case_ready.case, "court", ws.root / "exports", "officer")
    outside = export_case(ws, case_ready.case, "icrc", tmp_path / "usb", "officer")
    photo = ws.conn.execute("SELECT photo_sha256 FROM reference WHERE id = ?",
                            (case_ready.seed.references["share"],)).fetchone()[0]
    found = {p.bag: p for p in packages_holding(ws, {photo})}
    assert set(found) == {str(inside.bag), str(outside.bag)}
    local = found[str(inside.bag)]
    rel = lambda p: str(p.relative_to(ws.root))
    assert local.local_copies == (rel(next((inside.bag / "data" / "references").iterdir())),
                                  rel(inside.bag / "data" / "summary.pdf"), rel(inside.package))
    assert local.recipient == "court" and local.photos == (photo,)
    assert found[str(outside.bag)].local_copies == ()                  # outside the workspace: named, not deleted
    inside.bag.rename(inside.bag.with_name("moved"))                   # the zip alone is still found by its members
    assert rel(inside.package) in {c for p in packages_holding(ws, {photo}) for c in p.local_copies}
