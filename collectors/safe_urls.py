"""Which URLs a collector follows, and through which proxy it sends its requests.

Everything a collector reads comes from the captors' side. A URL taken from a page (a photo's
`background-image`, a `<video>` source, an HLS segment, key or variant, a stream the browser
saw) is followed only when it is http(s) with a host: `file://`, `data:`, `ftp://`, `s3://`,
`chrome://` ... are refused, so a hostile page cannot make a collector read local files or talk
another protocol. Every collector that follows URLs from a page asks `refusal(url)` first.

`collect.proxy` names one proxy for all collector traffic (`socks5://127.0.0.1:9050` for Tor,
or `http://host:port`); `checked_proxy` reads the setting, so that a typo fails loudly instead
of the collector going out directly.
"""

from __future__ import annotations

from urllib.parse import urlsplit

FOLLOWED_SCHEMES = ("http", "https")
PROXY_SCHEMES = ("http", "socks5", "socks5h")
SOCKS_SCHEMES = ("socks5", "socks5h")


class UnsafeUrl(ValueError):
    """A page asked a collector to follow a URL it must not follow."""


class ProxyError(ValueError):
    """The `collect.proxy` setting cannot be used."""


def refusal(url: str | None) -> str | None:
    """Why `url` may not be followed (one clear sentence), or None when it may."""
    if not url:
        return "no URL"
    shown = url if len(url) <= 120 else url[:117] + "..."
    try:
        parts = urlsplit(url.strip())
    except ValueError:
        return f"refused {shown!r}: not a valid URL"
    if parts.scheme.lower() not in FOLLOWED_SCHEMES:
        return f"refused {shown!r}: not an http(s) URL"
    if not parts.hostname:
        return f"refused {shown!r}: the URL names no host"
    return None


def is_followable(url: str | None) -> bool:
    """True for an http(s) URL with a host."""
    return refusal(url) is None


def require_followable(url: str) -> str:
    """`url` itself, or UnsafeUrl saying why it may not be followed."""
    why = refusal(url)
    if why:
        raise UnsafeUrl(why)
    return url


def checked_proxy(value: str) -> str | None:
    """The `collect.proxy` setting: None for a direct connection, else the proxy URL.

    Raises ProxyError for anything but `http://host:port`, `socks5://host:port` or
    `socks5h://host:port`.
    """
    value = value.strip()
    if not value:
        return None
    try:
        parts = urlsplit(value)
        port = parts.port
    except ValueError:
        raise ProxyError(f"collect.proxy {value!r}: not a valid proxy URL") from None
    if parts.scheme.lower() not in PROXY_SCHEMES or not parts.hostname or port is None:
        raise ProxyError(f"collect.proxy {value!r}: expected http://host:port or socks5://host:port")
    return value


def is_socks(proxy: str | None) -> bool:
    """True when `proxy` is a SOCKS proxy (which Scrapy cannot use)."""
    return bool(proxy) and urlsplit(proxy).scheme.lower() in SOCKS_SCHEMES
