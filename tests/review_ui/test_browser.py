"""The review flow in a real browser (Debian Chromium driven by Playwright): keyboard review,
a blind second review, and a case officer's export of a bag that validates. (The deliberate
"same person" step, amending, escalation and the Ukrainian layout: test_browser_decisions.py.)"""

from __future__ import annotations

from pathlib import Path

import bagit
import pytest

from tests.review_ui.conftest import browser_login, same_person_in_browser

pytestmark = pytest.mark.browser


def test_keyboard_review_blind_second_review_and_export(seeded, server, browser):
    requests: list[str] = []
    video, photo = seeded.sightings["video"], seeded.sightings["photo"]
    # 1. first reviewer: the queue by keyboard, media shielded until clicked, confirm with "c"
    rev1 = browser_login(browser, server, "rev1", requests)
    assert rev1.url.endswith("/queue") and rev1.locator(".queue-row").count() == 4
    assert rev1.locator(".queue-row.selected").get_attribute("data-href") == f"/sightings/{video}"
    rev1.keyboard.press("j")
    assert rev1.locator(".queue-row.selected").get_attribute("data-href") == f"/sightings/{photo}"
    rev1.keyboard.press("k")
    rev1.keyboard.press("Enter")
    rev1.wait_for_url(f"**/sightings/{video}")
    image = rev1.locator(".shielded img").first
    assert "blur" in image.evaluate("e => getComputedStyle(e).filter")
    assert rev1.locator("#clip").evaluate("v => v.muted") is True
    image.click()
    image.click()
    rev1.wait_for_function("() => getComputedStyle(document.querySelector('.shielded img')).filter === 'none'",
                           timeout=3000)
    same_person_in_browser(rev1, "scar above the left eyebrow matches")
    rev1.wait_for_url(f"**/sightings/{photo}?done={video}")
    assert str(video) in rev1.locator("#flash").inner_text()
    # 2. second reviewer decides blind
    rev2 = browser_login(browser, server, "rev2", requests)
    rev2.goto(f"{server}/sightings/{video}")
    assert rev2.locator("#decisions-hidden").is_visible()
    assert "scar above the left eyebrow" not in rev2.content()
    same_person_in_browser(rev2, "same ears and nose")
    rev2.wait_for_url(f"**/sightings/{photo}?done={video}")
    rev2.goto(f"{server}/sightings/{video}")
    assert rev2.locator("#decisions .decision").count() == 2
    assert "scar above the left eyebrow" in rev2.locator("#decisions").inner_text()
    assert seeded.ws.conn.execute("SELECT status FROM sighting WHERE id = ?", (video,)).fetchone()[0] == "confirmed"
    # 3. the case officer opens the case, attaches the sighting and exports for the ICRC
    officer = browser_login(browser, server, "officer", requests)
    assert officer.url.endswith("/cases")
    officer.select_option("#open-case select", str(seeded.person))
    officer.click("#open-case button")
    officer.select_option("#attach select", str(video))
    officer.click("#attach button")
    assert officer.locator(f'#timeline a[href="/sightings/{video}"]').count() == 1
    officer.select_option("#recipient", "icrc")
    officer.click("#export-button")
    bag = Path(officer.locator("#bag-path").inner_text())
    assert bagit.Bag(str(bag)).is_valid()
    assert int(officer.locator("#bag-files").inner_text()) == sum(1 for p in (bag / "data").rglob("*") if p.is_file())
    # nothing the browser loaded came from anywhere but the app
    assert requests and all(url.startswith(server + "/") for url in requests)
