"""collectors.safe_urls: which URLs from a hostile page are followed, and the proxy setting."""

from __future__ import annotations

import pytest

from svidok.collectors.safe_urls import (
    ProxyError,
    UnsafeUrl,
    checked_proxy,
    is_followable,
    is_socks,
    refusal,
    require_followable,
)


@pytest.mark.parametrize("url", ["https://cdn4.telegram-cdn.org/file/x.jpg?token=1", "http://127.0.0.1:8080/a",
                                 "HTTPS://Example.org/"])
def test_http_urls_are_followed(url):
    assert is_followable(url) and refusal(url) is None and require_followable(url) == url


@pytest.mark.parametrize("url, why", [
    ("file:///etc/passwd", "not an http(s) URL"), ("FILE:///etc/passwd", "not an http(s) URL"),
    ("data:image/png;base64,AAAA", "not an http(s) URL"), ("ftp://127.0.0.1/x", "not an http(s) URL"),
    ("s3://bucket/key", "not an http(s) URL"), ("chrome://sandbox", "not an http(s) URL"),
    ("javascript:alert(1)", "not an http(s) URL"), ("/etc/passwd", "not an http(s) URL"),
    ("http:///etc/passwd", "names no host"), ("http://[::1/", "not a valid URL"), ("", "no URL"), (None, "no URL"),
])
def test_other_urls_are_refused_with_a_reason(url, why):
    assert not is_followable(url) and why in refusal(url)
    with pytest.raises(UnsafeUrl, match="no URL|refused"):
        require_followable(url)


def test_a_long_url_is_cut_in_the_reason():
    assert len(refusal("file:///" + "a" * 10_000)) < 200


@pytest.mark.parametrize("value, proxy", [("", None), ("  ", None), ("socks5://127.0.0.1:9050", "socks5://127.0.0.1:9050"),
                                          ("http://proxy.example:3128", "http://proxy.example:3128"),
                                          ("socks5h://user:pw@10.0.0.1:1080", "socks5h://user:pw@10.0.0.1:1080")])
def test_proxy_setting(value, proxy):
    assert checked_proxy(value) == proxy
    assert is_socks(proxy) == bool(proxy and proxy.startswith("socks"))


@pytest.mark.parametrize("value", ["tor", "127.0.0.1:9050", "socks4://h:1", "ftp://h:21", "http://h", "http://h:x"])
def test_a_proxy_setting_that_cannot_work_is_an_error(value):
    with pytest.raises(ProxyError, match="collect.proxy"):
        checked_proxy(value)
