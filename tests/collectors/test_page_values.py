"""collectors.page_values: numbers and media bytes from hostile pages."""

from __future__ import annotations

import pytest

from svidok.collectors.page_values import (
    MAX_COUNT,
    OutOfRange,
    bounded,
    content_refusal,
    expected_majors,
    number_or_none,
    parse_id,
)
from tests.collectors.fake_tme_server import jpeg, mp4, ogg


def test_ids():
    assert parse_id("2147483647", "post id") == 2**31 - 1
    for text, why in [("0", "out of range"), ("2147483648", "out of range"), ("9" * 30, "out of range"),
                      ("9" * 5000, "out of range"), ("١٢", "not a number"), ("-1", "not a number"),
                      ("", "not a number")]:
        with pytest.raises(OutOfRange, match=why) as raised:
            parse_id(text, "post id")
        assert str(raised.value).startswith("post id") and len(str(raised.value)) < 120


def test_counts_and_metadata_numbers():
    assert bounded(MAX_COUNT, "views", MAX_COUNT) == MAX_COUNT
    with pytest.raises(OutOfRange, match="views 9007199254740993 is out of range"):
        bounded(MAX_COUNT + 1, "views", MAX_COUNT)
    assert [number_or_none(v, 100) for v in (5, 2.5, -1, 101, float("inf"), float("nan"), True, "7", None)] == \
        [5, 2.5, None, None, None, None, None, None, None]


@pytest.mark.parametrize("role, data", [("photo", jpeg((1, 2, 3))), ("video_thumbnail", jpeg((1, 2, 3))),
                                        ("video", mp4((1, 2, 3))), ("round_video", mp4((1, 2, 3))), ("voice", ogg()),
                                        ("link_preview", jpeg((1, 2, 3))), ("file", b"<html>anything</html>")])
def test_media_of_the_promised_type_pass(role, data):
    assert content_refusal(role, data) is None


@pytest.mark.parametrize("role, data, said", [
    ("photo", b"<!doctype html><html><body>Login</body></html>", "the photo is text/html, not image/*"),
    ("photo", b"root:x:0:0:root:/root:/bin/bash\n", "text/plain"),
    ("video", jpeg((1, 2, 3)), "image/jpeg, not video/*"),
    ("voice", mp4((1, 2, 3)), "not audio/*"), ("sticker", b"\xff\x00\x81\xc0" * 10, "application/octet-stream"),
])
def test_media_of_another_type_are_refused(role, data, said):
    assert said in content_refusal(role, data)


def test_what_the_store_checks_again():
    assert expected_majors("photo") == ("image",) and expected_majors("voice") == ("audio",)
    assert expected_majors("sticker") == () and expected_majors("file") == ()
