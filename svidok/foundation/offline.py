"""Nothing leaves the machine: switch off the phone-home behaviour of libraries we load.

Imported by `core` and `analyzers` before any model library, so it is in force in every
entry point (CLI, UI, tests, benchmarks). Found by tests that route all traffic through a
refusing proxy: onnxruntime (loaded by faster-whisper's VAD) sends usage telemetry to
Microsoft a few seconds after a session starts unless ORT_DISABLE_TELEMETRY is set
(`onnxruntime.disable_telemetry_events()` does not stop it on Linux).
"""

from __future__ import annotations

import os

OFFLINE_ENV = {
    "ORT_DISABLE_TELEMETRY": "1",          # onnxruntime 1DS telemetry
    "HF_HUB_OFFLINE": "1",                 # never fetch models from a hub
    "HF_HUB_DISABLE_TELEMETRY": "1",
    "DO_NOT_TRACK": "1",
    "SCRAPY_TELEMETRY": "0",
}


def enforce() -> None:
    """Set the switches for this process and every child it starts."""
    os.environ.update(OFFLINE_ENV)


enforce()
