"""The export page: a case officer sees the person's consents and scopes, is offered only the
recipients those allow, builds the signed package, sees it checked (its SHA-256, the signing key's,
the timestamp) and downloads the .zip, which `svidok package verify` accepts. Others are refused."""

from __future__ import annotations

import dataclasses
import hashlib
import json
import re
import subprocess
import sys

import pytest

from svidok.cases.decisions import record_decision
from svidok.cases.users import get_user
from tests.cases.local_tsa import local_tsa
from tests.conftest import REPO
from tests.factories import evidence

OPTIONS = re.compile(r'<option value="([^"]+)">')


def _case(seeded, client, sighting: str = "video", person: int | None = None) -> str:
    """Two reviewers confirm the sighting; the officer opens the person's case and attaches it."""
    ws, sid = seeded.ws, seeded.sightings[sighting]
    for name in ("rev1", "rev2"):
        record_decision(ws, sid, get_user(ws, seeded.users[name]), "confirm", **evidence(f"{name}: same scar"))
    opened = client.post("/cases", data={"csrf": client.csrf, "person": str(person or seeded.person)},
                         follow_redirects=False)
    url = opened.headers["location"]
    assert client.post(f"{url}/attach", data={"csrf": client.csrf, "sighting": str(sid)}).status_code == 200
    return url


def _exports(seeded) -> set[str]:
    return {p.name for p in (seeded.ws.root / "exports").iterdir()}


def test_the_case_page_offers_only_recipients_the_consents_allow(seeded, client_for):
    officer = client_for("officer")
    url = _case(seeded, officer)
    page = officer.get(url).text
    assert set(OPTIONS.findall(page.split('id="recipient"')[1].split("</select>")[0])) == \
        {"icrc", "court", "prosecutor", "internal"}                     # share-icrc + court + identification
    assert "share-ombudsman" in page.split('id="refused-recipients"')[1] and 'id="consents"' in page
    twin = officer.get(url, headers={"Accept": "application/json"}).json()
    assert set(twin["recipients"]) == {"icrc", "court", "prosecutor", "internal"}
    assert sorted(c["relation"] for c in twin["consents"]) == ["brother", "mother"]
    other = _case(seeded, officer, "other", seeded.other_person)      # identification only
    assert OPTIONS.findall(officer.get(other).text.split('id="recipient"')[1].split("</select>")[0]) == ["internal"]


def test_a_recipient_outside_the_consent_scopes_is_refused(seeded, client_for):
    officer = client_for("officer")
    url = _case(seeded, officer)
    before = _exports(seeded)
    for recipient in ("ombudsman", "coordination-hq", "newspaper"):
        refused = officer.post(f"{url}/export", data={"csrf": officer.csrf, "recipient": recipient},
                               headers={"Accept": "application/json"})
        assert refused.status_code == 409, refused.text
        assert "share-" in refused.json()["error"] or "unknown recipient" in refused.json()["error"]
    assert _exports(seeded) == before


def test_roles_without_export_permission_are_refused(seeded, client_for):
    officer = client_for("officer")
    url = _case(seeded, officer)
    built = officer.post(f"{url}/export", data={"csrf": officer.csrf, "recipient": "court"},
                         headers={"Accept": "application/json"}).json()
    for name in ("rev1", "admin", "analyst"):
        client = client_for(name)
        assert client.post(f"{url}/export", data={"csrf": client.csrf, "recipient": "court"}).status_code == 403
        assert client.get(built["download"]).status_code == 403
    assert 'id="export"' not in client_for("admin").get(url).text    # admins see the case, not the export form
    assert client_for(None).get(built["download"], follow_redirects=False).status_code == 303


def test_the_downloaded_package_is_the_one_checked_and_verifies(seeded, client_for, tmp_path):
    officer = client_for("officer")
    url = _case(seeded, officer)
    page = officer.post(f"{url}/export", data={"csrf": officer.csrf, "recipient": "icrc"})
    assert page.status_code == 200 and 'id="bag-valid" class="ok"' in page.text
    link = re.search(r'<a href="([^"]+)" id="download"', page.text).group(1)
    shown_sha = re.search(r'id="package-sha256">([0-9a-f]{64})<', page.text).group(1)
    key_sha = re.search(r'id="signing-key-sha256">([0-9a-f]{64})<', page.text).group(1)
    download = officer.get(link)
    assert download.status_code == 200 and download.headers["content-type"] == "application/zip"
    assert "attachment" in download.headers["content-disposition"]
    assert hashlib.sha256(download.content).hexdigest() == shown_sha
    package = tmp_path / link.rsplit("/", 1)[1]
    package.write_bytes(download.content)
    checked = subprocess.run([sys.executable, "-m", "svidok.cli", "package", "verify", str(package), "--workspace",
                              str(seeded.ws.root), "--json"], cwd=REPO, capture_output=True, text=True, timeout=300,
                             check=False)
    report = json.loads(checked.stdout)
    assert checked.returncode == 0 and report["ok"], report
    assert report["signing_key_sha256"] == key_sha and report["timestamp"] is None
    assert seeded.ws.audit.entries(limit=1)[0]["action"] == "case.package.download"


def test_a_download_needs_an_audited_export_and_a_consent_still_in_force(seeded, client_for):
    officer = client_for("officer")
    url = _case(seeded, officer)
    built = officer.post(f"{url}/export", data={"csrf": officer.csrf, "recipient": "court"},
                         headers={"Accept": "application/json"}).json()
    assert built["verify"]["ok"] and built["package_sha256"] and not built["timestamped"]
    stray = seeded.ws.root / "exports" / built["package"].replace("court", "icrc")
    stray.write_bytes(b"PK")                                        # a zip no export of this case recorded
    assert officer.get(f"{url}/packages/{stray.name}").status_code == 404
    assert officer.get(f"{url}/packages/..%2Fsvidok.db").status_code == 404
    seeded.ws.conn.execute("UPDATE consent SET revoked_at = '2024-09-01' WHERE person_id = ?", (seeded.person,))
    refused = officer.get(built["download"])
    assert refused.status_code == 409 and "court" in refused.text


@pytest.fixture
def tsa_app(app, tmp_path):
    with local_tsa(tmp_path / "tsa") as tsa:
        ws = app.state.ws
        ws.settings = dataclasses.replace(ws.settings, export=dataclasses.replace(
            ws.settings.export, tsa_url=tsa.url, tsa_ca_file=str(tsa.ca)))
        yield tsa


def test_a_timestamped_package_shows_its_time(seeded, client_for, tsa_app):
    officer = client_for("officer")
    url = _case(seeded, officer)
    page = officer.post(f"{url}/export", data={"csrf": officer.csrf, "recipient": "court"})
    assert page.status_code == 200 and 'id="bag-valid" class="ok"' in page.text and tsa_app.requests
    stamp = re.search(r'<dd id="timestamp">([^<]+)</dd>', page.text).group(1)
    assert re.match(r"\d{4}-\d\d-\d\d", stamp)
