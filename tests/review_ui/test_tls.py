"""Remote reviewers: `svidok serve` answers other machines only over TLS.

The certificate is made with the `openssl req` command the README shows (a self-signed
certificate for a LAN); the server is the real `svidok serve` in a subprocess on 127.0.0.1.
"""

from __future__ import annotations

import os
import socket
import ssl
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from tests.conftest import REPO

OPENSSL = ["openssl", "req", "-x509", "-newkey", "ed25519", "-days", "365", "-nodes",
           "-keyout", "svidok.key", "-out", "svidok.crt", "-subj", "/CN=svidok.lan",
           "-addext", "subjectAltName=DNS:svidok.lan,IP:127.0.0.1"]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def cert(tmp_path) -> tuple[Path, Path]:
    subprocess.run(OPENSSL, cwd=tmp_path, check=True, capture_output=True)
    return tmp_path / "svidok.crt", tmp_path / "svidok.key"


def svidok(workspace: Path, *args: str) -> subprocess.Popen:
    env = {**os.environ, "SVIDOK_WORKSPACE": str(workspace)}
    return subprocess.Popen([sys.executable, "-m", "svidok.cli", "serve", *args], env=env, cwd=REPO,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def wait_until_listening(port: int, server: subprocess.Popen) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        assert server.poll() is None, server.communicate()[1]
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.1)
    raise AssertionError("the server did not start")


def test_remote_without_tls_is_refused(fresh_workspace):
    server = svidok(fresh_workspace.root, "--host", "0.0.0.0", "--allow-remote", "--port", str(free_port()))
    _, err = server.communicate(timeout=60)
    assert server.returncode == 1 and "without TLS" in err


def test_remote_over_tls_answers_https_with_secure_cookies_and_refuses_plain_http(fresh_workspace, cert):
    crt, key = cert
    port = free_port()
    server = svidok(fresh_workspace.root, "--host", "0.0.0.0", "--allow-remote", "--port", str(port),
                    "--cert", str(crt), "--key", str(key))
    try:
        wait_until_listening(port, server)
        page = httpx.get(f"https://127.0.0.1:{port}/login", verify=ssl.create_default_context(cafile=str(crt)), timeout=10)
        assert page.status_code == 200 and "password" in page.text
        assert all("secure" in c.lower() for c in page.headers.get_list("set-cookie"))
        with pytest.raises(httpx.HTTPError):
            httpx.get(f"http://127.0.0.1:{port}/login", timeout=10)
    finally:
        server.terminate()
        server.wait(timeout=10)


def test_behind_a_proxy_only_what_it_forwarded_as_https_is_answered(fresh_workspace):
    port = free_port()
    server = svidok(fresh_workspace.root, "--host", "0.0.0.0", "--allow-remote", "--port", str(port),
                    "--behind-proxy")
    try:
        wait_until_listening(port, server)
        direct = httpx.get(f"http://127.0.0.1:{port}/login", timeout=10)
        assert direct.status_code == 403
        proxied = httpx.get(f"http://127.0.0.1:{port}/login", headers={"X-Forwarded-Proto": "https",
                                                                      "X-Forwarded-For": "192.0.2.7"}, timeout=10)
        assert proxied.status_code == 200
        assert all("secure" in c.lower() for c in proxied.headers.get_list("set-cookie"))
    finally:
        server.terminate()
        server.wait(timeout=10)
