"""Decisions that hold up, in a real browser (Debian Chromium driven by Playwright): the deliberate
"same person" step, comparing at one scale, amending, escalation to the admin, and shortcuts that
work on a Ukrainian keyboard layout."""

from __future__ import annotations

import pytest

from tests.review_ui.conftest import CHECKLIST, browser_login, same_person_in_browser

pytestmark = pytest.mark.browser
FILTER = "el => getComputedStyle(el).filter"


def _count(seeded) -> int:
    return seeded.ws.conn.execute("SELECT COUNT(*) FROM decision").fetchone()[0]


def _face_sides(page) -> list[float]:
    """The rendered side, in CSS pixels, of the face box in every face frame (references and crops)."""
    return page.evaluate("""() => [...document.querySelectorAll('.face-frame img[data-box]')].map(img => {
        const [top, right, bottom, left] = img.dataset.box.split(',').map(Number);
        return Math.max(right - left, bottom - top) * img.getBoundingClientRect().width / img.naturalWidth; })""")


def test_same_person_takes_a_deliberate_step_on_revealed_images(seeded, server, browser):
    requests: list[str] = []
    video, photo = seeded.sightings["video"], seeded.sightings["photo"]
    page = browser_login(browser, server, "rev1", requests, viewport={"width": 1280, "height": 800})
    page.goto(f"{server}/sightings/{video}")
    # the decision controls are in reach without scrolling far
    assert page.evaluate("() => document.querySelector('#confirm-open').getBoundingClientRect().top") < 2000
    # one (or two) presses of "c" record nothing: they open (and close) the step, whose button waits
    page.locator("h1").click()
    page.keyboard.press("c")
    assert page.locator("#confirm-step").evaluate("d => d.open") and page.locator("#confirm").is_disabled()
    assert page.locator("#confirm-step li.unmet").count() == 4
    page.keyboard.press("c")
    assert not page.locator("#confirm-step").evaluate("d => d.open") and page.url.endswith(f"/sightings/{video}")
    assert _count(seeded) == 0
    # reveal in steps: blurred, then sharp greyscale, then colour; "reveal all" for the rest
    first = page.locator(".face-frame img").first
    assert "blur" in first.evaluate(FILTER)
    first.click()
    page.wait_for_function("() => getComputedStyle(document.querySelector('.face-frame img')).filter"
                           " === 'grayscale(1)'", timeout=3000)
    first.click()
    page.wait_for_function("() => getComputedStyle(document.querySelector('.face-frame img')).filter === 'none'",
                           timeout=3000)
    assert page.locator("#revealed").input_value() == "0" and page.locator("#still-blurred").is_visible()
    page.click("#reveal-sharp")
    assert page.locator("#revealed").input_value() == "1" and not page.locator("#still-blurred").is_visible()
    # faces at one scale, zoomed together
    sides = _face_sides(page)
    assert len(sides) == 4 and max(sides) - min(sides) < 1
    page.locator("h1").click()
    page.keyboard.press("+")
    assert all(abs(z - s * 1.25) < 1 for z, s in zip(_face_sides(page), sides))
    # the step lists what is still missing, then records
    page.keyboard.press("c")
    assert page.locator("#confirm-step li.unmet").count() == 3 and page.locator("#confirm").is_disabled()
    same_person_in_browser(page, "scar above the left eyebrow matches")
    page.wait_for_url(f"**/sightings/{photo}?done={video}")
    row = seeded.ws.conn.execute("SELECT verdict, checklist, observation, revealed FROM decision").fetchone()
    assert row[0] == "confirm" and row[2] == "scar above the left eyebrow matches" and row[3] == 1
    assert all(f'"{k}": "{v}"' in row[1] for k, v in CHECKLIST.items())
    assert requests and all(url.startswith(server + "/") for url in requests)


def test_not_the_same_person_needs_a_reason_and_the_decision_can_be_amended(seeded, server, browser):
    photo = seeded.sightings["photo"]
    page = browser_login(browser, server, "rev1")
    page.goto(f"{server}/sightings/{photo}")
    page.locator("h1").click()
    page.keyboard.press("r")
    assert page.locator("#reject").is_disabled()
    page.fill("#observation", "the ears are shaped differently")
    page.click("#reject")
    page.wait_for_url(f"**done={photo}")
    page.click("#flash-amend")
    page.wait_for_url(f"**/sightings/{photo}")
    assert page.locator("#own-decision .verdict").inner_text() == "інша особа"
    assert page.locator("#observation").input_value() == "the ears are shaped differently"
    same_person_in_browser(page, "same ears after all, frame at 3.5 s")
    page.wait_for_url(f"**/sightings/{photo}?done={photo}")
    assert page.locator("#own-decision .verdict").inner_text() == "та сама особа"
    row = seeded.ws.conn.execute("SELECT verdict, amended_at FROM decision").fetchone()
    assert row[0] == "confirm" and row[1]
    [amend] = [e for e in seeded.ws.audit.entries() if e["action"] == "decision.amend"]
    assert amend["details"]["previous"]["verdict"] == "reject" and amend["details"]["verdict"] == "confirm"


def test_two_unsure_reach_the_admin_with_the_reason(seeded, server, browser):
    photo = seeded.sightings["photo"]
    for name in ("rev1", "rev2"):
        page = browser_login(browser, server, name)
        page.goto(f"{server}/sightings/{photo}")
        page.locator("h1").click()
        page.keyboard.press("u")
        page.wait_for_url(f"**done={photo}")
    queue = browser_login(browser, server, "rev3")
    assert queue.locator("#wait-admin").inner_text() == "1"
    assert f"/sightings/{photo}" not in [r.get_attribute("data-href") for r in queue.locator(".queue-row").all()]
    admin = browser_login(browser, server, "admin")
    admin.goto(f"{server}/admin/conflicts")
    conflict = admin.locator(f"#conflict-{photo}")
    assert "не дали результату" in conflict.locator(".conflict-reason").inner_text()
    assert conflict.locator(".decision").count() == 2
    conflict.locator("textarea[name=reason]").fill("the face is never visible")
    conflict.locator("button[value=reject]").click()
    assert admin.locator("#no-conflicts").is_visible()
    assert seeded.ws.conn.execute("SELECT status FROM sighting WHERE id = ?", (photo,)).fetchone()[0] == "rejected"


def _press(page, key: str, code: str) -> None:
    """A keydown as a Ukrainian (ЙЦУКЕН) layout sends it: a Cyrillic `key`, the physical key's `code`."""
    page.evaluate("([key, code]) => document.activeElement.dispatchEvent(new KeyboardEvent('keydown',"
                  " {key, code, bubbles: true, cancelable: true}))", [key, code])


def test_shortcuts_work_on_a_ukrainian_layout(seeded, server, browser):
    video, photo = seeded.sightings["video"], seeded.sightings["photo"]
    page = browser_login(browser, server, "rev1")
    assert page.locator(".queue-row.selected").get_attribute("data-href") == f"/sightings/{video}"
    _press(page, "о", "KeyJ")
    assert page.locator(".queue-row.selected").get_attribute("data-href") == f"/sightings/{photo}"
    _press(page, "л", "KeyK")
    assert page.locator(".queue-row.selected").get_attribute("data-href") == f"/sightings/{video}"
    page.goto(f"{server}/sightings/{video}")
    _press(page, "п", "KeyG")                                     # reveal all, greyscale
    assert page.locator("#revealed").input_value() == "1"
    _press(page, "с", "KeyC")                                     # "same person" step
    assert page.locator("#confirm-step").evaluate("d => d.open")
    _press(page, "к", "KeyR")                                     # "not the same person" step instead
    assert page.locator("#reject-step").evaluate("d => d.open")
    assert not page.locator("#confirm-step").evaluate("d => d.open")
    _press(page, "Escape", "Escape")
    assert not page.locator("#reject-step").evaluate("d => d.open")
    _press(page, "г", "KeyU")                                     # unsure
    page.wait_for_url(f"**done={video}")
    assert seeded.ws.conn.execute("SELECT verdict FROM decision").fetchone()[0] == "unsure"
