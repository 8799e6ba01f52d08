"""The archive face index: exact search, memory-mapped cache rebuilt when faces change."""

from __future__ import annotations

import json

import numpy as np
import pytest

from svidok.analyzers.face_spaces import FaceSpace
from svidok.matching.vector_index import cache_dir, load_face_index

TEST_SPACE = FaceSpace("test", "1")          # the model and version _add_faces writes


def _add_faces(ws, vectors: np.ndarray) -> list[int]:  # noqa: ANN001
    with ws.transaction():
        ws.conn.execute("INSERT INTO media (sha256, size, mime, ext, first_seen, path)"
                        " VALUES ('m', 1, 'image/jpeg', 'jpg', 'now', 'media/m.jpg') ON CONFLICT DO NOTHING")
        return [ws.conn.execute("INSERT INTO face (media_sha256, box, embedding, model, model_version)"
                                " VALUES ('m', ?, ?, 'test', '1') RETURNING id", (json.dumps([0, 1, 1, 0]),
                                                                      v.astype(np.float32).tobytes())).scalar_one()
                for v in vectors]


def test_search_is_exact_and_cache_follows_the_database(fresh_workspace) -> None:
    rng = np.random.default_rng(3)
    vectors = rng.standard_normal((500, 128)).astype(np.float32) * 0.1
    ids = _add_faces(fresh_workspace, vectors)
    index = load_face_index(fresh_workspace, TEST_SPACE)
    query = vectors[42] + 0.001
    found, dist = index.nearest(query, 5)
    brute = np.linalg.norm(vectors - query, axis=1)
    assert found.tolist() == [ids[i] for i in np.argsort(brute)[:5]]
    assert np.allclose(dist, np.sort(brute)[:5], atol=1e-4)
    within, _ = index.within(query, float(np.sort(brute)[2]) + 1e-4)
    assert sorted(within.tolist()) == sorted(ids[i] for i in np.argsort(brute)[:3])
    assert np.allclose(index.distances(query)[0], brute, atol=1e-4)
    files = sorted(p.name for p in cache_dir(fresh_workspace).iterdir())
    assert len(files) == 2 and isinstance(index.vectors, np.memmap)

    new_id = _add_faces(fresh_workspace, vectors[:1] + 5.0)[0]          # the archive grew: cache is stale
    index = load_face_index(fresh_workspace, TEST_SPACE)
    assert len(index) == 501 and index.nearest(vectors[0] + 5.0, 1)[0].tolist() == [new_id]
    assert len(list(cache_dir(fresh_workspace).iterdir())) == 2          # the old cache files are gone


def test_nearest_is_exact_when_the_answer_lies_beyond_the_first_block(monkeypatch) -> None:
    from svidok.matching import vector_index
    from svidok.matching.vector_index import FaceIndex

    monkeypatch.setattr(vector_index, "CHUNK_ROWS", 100)      # the candidate bound comes from rows 0-99
    rng = np.random.default_rng(7)
    vectors = rng.normal(size=(5000, 128)).astype(np.float32)
    index = FaceIndex(np.arange(1, 5001), vectors, np.einsum("ij,ij->i", vectors, vectors))
    for query in (vectors[4321] + 0.01, rng.normal(size=128).astype(np.float32)):
        ids, distances = index.nearest(query, 20)
        brute = np.linalg.norm(vectors - query, axis=1)
        assert list(ids) == list(np.argsort(brute)[:20] + 1)
        assert np.allclose(distances, np.sort(brute)[:20], atol=1e-3)


@pytest.mark.parametrize("quantize_from", [100_000, 1000])       # float32 only; with the int8 copy
def test_processes_rebuilding_at_once_each_get_a_whole_index(fresh_workspace, monkeypatch, quantize_from) -> None:
    """Workers on a shared folder: rebuilds at the same moment neither clobber nor delete each other's index."""
    import threading

    from svidok.foundation.workspace import Workspace
    from svidok.matching import vector_index

    monkeypatch.setattr(vector_index, "QUANTIZE_MIN_ROWS", quantize_from)

    rng = np.random.default_rng(5)
    ids = _add_faces(fresh_workspace, rng.standard_normal((3000, 128)).astype(np.float32))
    results, errors = [], []

    def load() -> None:
        try:
            with Workspace.open(fresh_workspace.root) as ws:
                index = load_face_index(ws, TEST_SPACE)
                codes = None if index.quantized is None else int(np.asarray(index.quantized.codes, np.int64).sum())
                results.append((index.ids.tolist(), float(np.asarray(index.vectors).sum()), codes,
                                index.nearest(np.asarray(index.vectors[7]), 1)[0].tolist()))
        except Exception as exc:  # noqa: BLE001 - the assertion below shows it
            errors.append(exc)

    threads = [threading.Thread(target=load) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert errors == [] and len(results) == 6
    assert all(r == results[0] for r in results) and results[0][0] == ids and results[0][3] == [ids[7]]
    assert (results[0][2] is None) == (quantize_from > len(ids))
    assert len(list(cache_dir(fresh_workspace).iterdir())) == (2 if quantize_from > len(ids) else 5)
    assert not [p for p in cache_dir(fresh_workspace).iterdir() if p.name.startswith(".tmp-")]
