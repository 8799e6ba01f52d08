"""Nothing leaves the machine: loading the speech models sends no request anywhere.

All traffic of a child process is routed through a local proxy that records what it is asked
for; the child imports Svidok, runs Whisper's VAD (onnxruntime) and waits long enough for
library telemetry to fire (onnxruntime's fires 5-10 s after a session starts).
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import threading

import pytest

from tests.conftest import REPO

CHILD = """
import time
import numpy as np
import svidok.analyzers.speech  # noqa: F401 - the way Svidok loads the models
from faster_whisper.vad import get_speech_timestamps
get_speech_timestamps(np.zeros(16000 * 2, dtype=np.float32))
time.sleep({wait})
"""


def _recording_proxy() -> tuple[int, list[str]]:
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(8)
    seen: list[str] = []

    def serve() -> None:
        while True:
            conn, _ = server.accept()
            seen.append(conn.recv(256).split(b"\r\n")[0].decode(errors="replace"))
            conn.close()

    threading.Thread(target=serve, daemon=True).start()
    return server.getsockname()[1], seen


@pytest.mark.models
def test_speech_models_do_not_phone_home():
    port, seen = _recording_proxy()
    proxy = f"http://127.0.0.1:{port}"
    env = {k: v for k, v in os.environ.items() if k not in {"ORT_DISABLE_TELEMETRY"}}
    env.update(http_proxy=proxy, https_proxy=proxy, HTTP_PROXY=proxy, HTTPS_PROXY=proxy, no_proxy="", NO_PROXY="")
    done = subprocess.run([sys.executable, "-c", CHILD.format(wait=12)], cwd=REPO, env=env, capture_output=True,
                          text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert seen == [], f"requests left the machine: {seen}"
