"""Run the review UI: loopback only unless the user explicitly allows otherwise, and then only
over TLS — served by uvicorn itself (`--cert`/`--key`) or by a reverse proxy in front
(`--behind-proxy`: its `X-Forwarded-Proto`/`-For` headers are trusted from `forwarded_allow_ips`
only, and a request that did not come through it as HTTPS is refused)."""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from pathlib import Path
from typing import Any


class RemoteBindRefused(ValueError):
    """A non-loopback address was asked for without --allow-remote, or without TLS."""


@dataclass(frozen=True)
class Transport:
    """How the UI is reached: plain HTTP on loopback, TLS by uvicorn, or TLS at a proxy in front."""

    cert: Path | None = None
    key: Path | None = None
    behind_proxy: bool = False
    forwarded_allow_ips: str = "127.0.0.1"

    @property
    def tls(self) -> bool:
        return self.cert is not None and self.key is not None

    @property
    def scheme(self) -> str:
        return "https" if self.tls or self.behind_proxy else "http"


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def check_host(host: str, allow_remote: bool, transport: Transport = Transport()) -> bool:
    """True when the bind is remote (allowed); raises when remote and not allowed or not over TLS."""
    if (transport.cert is None) != (transport.key is None):
        raise RemoteBindRefused("--cert and --key go together")
    if is_loopback(host):
        return False
    if not allow_remote:
        raise RemoteBindRefused(f"refusing to bind {host}: not a loopback address (add --allow-remote if you must)")
    if not (transport.tls or transport.behind_proxy):
        raise RemoteBindRefused(f"refusing to serve {host} without TLS: give --cert FILE --key FILE, or put a TLS"
                                " reverse proxy in front and add --behind-proxy (README: Remote reviewers)")
    return True


class RequireHttps:
    """ASGI middleware for a remote bind behind a proxy: only requests the proxy forwarded as HTTPS."""

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] == "http" and scope.get("scheme") != "https":
            from starlette.responses import PlainTextResponse

            response = PlainTextResponse("use the HTTPS address of this review UI", status_code=403)
            await response(scope, receive, send)
            return
        await self.app(scope, receive, send)


def serve(workspace_root: Path, host: str, port: int, transport: Transport = Transport()) -> None:
    """Serve the UI for one workspace until stopped (Ctrl-C). uvicorn uses httptools and uvloop (C HTTP
    parser and event loop, in the `ui` extra) when they are installed; its pure-Python h11/asyncio
    fallback spends about 0.1 ms more CPU on each request (twice the cost of the HTTP layer)."""
    import uvicorn

    from svidok.foundation.workspace import Workspace
    from svidok.review_ui.app import create_app

    ws = Workspace.open(workspace_root)
    app: Any = create_app(ws)
    if transport.behind_proxy and not is_loopback(host):
        app = RequireHttps(app)
    tls = {"ssl_certfile": str(transport.cert), "ssl_keyfile": str(transport.key)} if transport.tls else {}
    try:
        uvicorn.run(app, host=host, port=port, log_level="warning", server_header=False,
                    proxy_headers=transport.behind_proxy, forwarded_allow_ips=transport.forwarded_allow_ips, **tls)
    finally:
        ws.close()
