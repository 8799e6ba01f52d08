"""Running TensorFlow Lite files with LiteRT (`ai-edge-litert`): one interpreter per model file."""

from __future__ import annotations

from typing import Any

from svidok.analyzers.models import ModelCard


def open_interpreter(name: str, card: ModelCard) -> Any:
    """A ready LiteRT interpreter (one thread) for the card's checked file; a missing file raises
    `ModelMissing` naming `make setup`, a missing LiteRT a RuntimeError saying the same."""
    try:
        from ai_edge_litert.interpreter import Interpreter
    except ImportError as exc:          # pragma: no cover - the lock installs it
        raise RuntimeError(f"{name} needs LiteRT: `make setup` installs ai-edge-litert") from exc
    interpreter = Interpreter(model_path=str(card.require()), num_threads=1)
    interpreter.allocate_tensors()
    return interpreter
