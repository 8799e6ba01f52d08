"""The int8 scan: results identical to an exhaustive float64 search, near-ties included."""

from __future__ import annotations

import numpy as np
import pytest

from svidok.matching import vector_index, vector_quantized
from svidok.matching.vector_index import FaceIndex

pytestmark = pytest.mark.skipif(not vector_quantized.available(), reason="onnxruntime is not installed")


@pytest.fixture(autouse=True)
def many_searches(monkeypatch) -> None:  # noqa: ANN001
    """As in the review UI and the workers: large indexes are searched through their int8 copy."""
    monkeypatch.setattr(vector_quantized, "_many_searches", True)


def _index(vectors: np.ndarray, tmp_path, quantized: bool = True) -> FaceIndex:  # noqa: ANN001
    """A FaceIndex over memory-mapped files, as load_face_index opens them (ids 1..N)."""
    tmp_path = tmp_path / ("int8" if quantized else "float32")
    tmp_path.mkdir()
    np.save(tmp_path / "v.npy", vectors)
    mapped = np.load(tmp_path / "v.npy", mmap_mode="r")
    norms = np.einsum("ij,ij->i", vectors, vectors).astype(np.float32)
    if not quantized:
        return FaceIndex(np.arange(1, len(vectors) + 1), mapped, norms)
    paths = [tmp_path / f"{part}.npy" for part in ("codes", "rows", "columns")]
    vector_quantized.write_quantized(mapped, *paths)
    matrix = vector_quantized.load_quantized(*paths)
    return FaceIndex(np.arange(1, len(vectors) + 1), mapped, np.asarray(matrix.rows[vector_quantized.SQ_NORM]), matrix)


def _exhaustive(vectors: np.ndarray, query: np.ndarray) -> np.ndarray:
    diff = vectors.astype(np.float64) - np.asarray(query, np.float32).astype(np.float64)
    return (diff * diff).sum(axis=1)


def _unit(rows: np.ndarray) -> np.ndarray:
    return (rows / np.linalg.norm(rows, axis=-1, keepdims=True)).astype(np.float32)


def _near_ties(rng: np.random.Generator, dim: int, n: int) -> tuple[np.ndarray, np.ndarray, float, float]:
    """Unit vectors, a query, and faces planted around the threshold and around the 20th place at
    gaps (1e-4 .. 1e-7) far below the int8 estimates' error, plus exact duplicates."""
    vectors = _unit(rng.standard_normal((n, dim)))
    query = _unit(rng.standard_normal(dim))
    other = rng.standard_normal(dim)
    other = _unit(other - (other @ query) * query)

    def at(distance: float) -> np.ndarray:        # a unit vector at this distance from the query
        cos = 1 - distance ** 2 / 2
        return _unit(cos * query + np.sqrt(1 - cos ** 2) * other)

    threshold, kth = 0.9, 0.7
    planted = [at(threshold + gap) for gap in (-1e-4, -1e-6, -1e-7, 0.0, 1e-7, 1e-6, 1e-4)]
    planted += [at(0.5 + 0.01 * i) for i in range(19)]              # 19 clearly nearer than the 20th place
    planted += [at(kth + gap) for gap in (-1e-6, 0.0, 0.0, 1e-7, 1e-5)]   # the 20th place: a near-tie and a tie
    rows = rng.choice(n, len(planted), replace=False)
    vectors[rows] = planted
    vectors[rng.choice(n, 30)] = vectors[rows[0]]                   # the same face archived again
    return vectors, query, threshold, kth


@pytest.mark.parametrize(("dim", "seed"), [(128, 0), (128, 1), (704, 0), (704, 1), (37, 0)])
def test_int8_search_equals_the_exhaustive_search(tmp_path, dim: int, seed: int) -> None:
    """(Planted faces lie in one plane with the query, so their estimates err one way: two seeds
    per length give both ways, and a margin of 0 fails.)"""
    rng = np.random.default_rng([dim, seed])
    vectors, query, threshold, _ = _near_ties(rng, dim, 3000)
    index, brute = _index(vectors, tmp_path), _exhaustive(vectors, query)
    assert index.quantized is not None and index.quantized.codes.dtype == np.int8
    for k in (1, 20, 21, 25, 3000):
        ids, distances = index.nearest(query, k)
        expected = np.lexsort((np.arange(len(brute)), brute))[:k]    # ties: the lower id first
        assert ids.tolist() == (expected + 1).tolist()
        assert np.array_equal(distances, np.sqrt(brute[expected]).astype(np.float32))
    for limit in (threshold, float(np.sqrt(brute[brute > 0.01].min())), 0.0, 10.0):
        ids, distances = index.within(query, limit)
        expected = np.flatnonzero(brute <= limit ** 2)
        assert ids.tolist() == (expected + 1).tolist()
        assert np.array_equal(distances, np.sqrt(brute[expected]).astype(np.float32))


def test_int8_and_float32_scans_agree_and_the_bound_prunes(tmp_path) -> None:
    """Clustered, anisotropic vectors (columns 100x apart, as real embeddings): the same answers
    from either scan; the int8 one rescores a small share of the rows."""
    rng = np.random.default_rng(11)
    spread = np.exp(rng.uniform(np.log(0.002), np.log(0.2), 192))
    centres = rng.standard_normal((400, 192)) * spread
    vectors = _unit(centres[rng.integers(0, 400, 20_000)] + 0.6 * rng.standard_normal((20_000, 192)) * spread)
    quantized, plain = _index(vectors, tmp_path), _index(vectors, tmp_path, quantized=False)
    for query in (vectors[5], vectors[777] * 0.5 + vectors[778] * 0.5, _unit(rng.standard_normal(192))):
        a, b = quantized.search_nearest(query, 20), plain.search_nearest(query, 20)
        assert a.ids.tolist() == b.ids.tolist() and np.array_equal(a.distances, b.distances)
        assert a.rescored < len(vectors) // 10
        a, b = quantized.search_within(query, 0.8), plain.search_within(query, 0.8)
        assert a.ids.tolist() == b.ids.tolist() and np.array_equal(a.distances, b.distances)
        assert a.rescored < max(10 * len(a.ids), 200)


def test_zero_rows_and_queries_and_blocks_beyond_the_first(tmp_path, monkeypatch) -> None:
    monkeypatch.setattr(vector_quantized, "BLOCK_ROWS", 1024)     # several margins, the last block short
    rng = np.random.default_rng(2)
    vectors = rng.standard_normal((5000, 64)).astype(np.float32) * 3
    vectors[[0, 4000]] = 0.0
    index = _index(vectors, tmp_path)
    assert index.quantized.codes.shape == (64, 5000) and index.quantized.block_max.shape == (3, 5)
    for query in (np.zeros(64, np.float32), vectors[4999] + 0.001, rng.standard_normal(64)):
        brute = _exhaustive(vectors, query)
        expected = np.lexsort((np.arange(len(brute)), brute))[:20]
        assert index.nearest(query, 20)[0].tolist() == (expected + 1).tolist()
        assert index.within(query, 9.0)[0].tolist() == (np.flatnonzero(brute <= 81.0) + 1).tolist()


def test_the_margin_holds_for_every_row(tmp_path) -> None:
    """The estimates' stated margin covers the exact value of every row, for many queries."""
    rng = np.random.default_rng(4)
    vectors = rng.standard_normal((4000, 704)).astype(np.float32) * rng.uniform(0.1, 3, (4000, 1)).astype(np.float32)
    index = _index(vectors, tmp_path)
    worst = 0.0
    for query in rng.standard_normal((20, 704)).astype(np.float32) * rng.uniform(0.01, 5, (20, 1)).astype(np.float32):
        exact = _exhaustive(vectors, query) - float(query.astype(np.float64) @ query.astype(np.float64))
        for start, estimate, margin in index._estimates(query):
            error = np.abs(estimate.astype(np.float64) - exact[start:start + len(estimate)])
            worst = max(worst, float(error.max() / margin))
    assert 0.001 < worst < 1.0


def test_quantized_index_is_written_and_used_above_the_size(fresh_workspace, monkeypatch) -> None:
    from tests.matching.test_vector_index import TEST_SPACE, _add_faces

    monkeypatch.setattr(vector_index, "QUANTIZE_MIN_ROWS", 100)
    rng = np.random.default_rng(8)
    vectors = _unit(rng.standard_normal((300, 704)))
    ids = _add_faces(fresh_workspace, vectors)
    index = vector_index.load_face_index(fresh_workspace, TEST_SPACE)
    assert index.quantized is not None and len(list(vector_index.cache_dir(fresh_workspace).iterdir())) == 5
    again = vector_index.load_face_index(fresh_workspace, TEST_SPACE)         # opened from the files
    assert isinstance(again.quantized.codes, np.memmap)
    found, _ = again.nearest(vectors[123], 3)
    assert found[0] == ids[123]
    _add_faces(fresh_workspace, vectors[:1])                                   # the archive grew: rebuilt
    grown = vector_index.load_face_index(fresh_workspace, TEST_SPACE)
    assert len(grown) == 301 and len(grown.quantized) == 301
    assert grown.nearest(vectors[0], 2)[0].tolist() == [ids[0], grown.ids[-1]]
    assert len(list(vector_index.cache_dir(fresh_workspace).iterdir())) == 5


def test_a_one_shot_process_scans_float32_until_the_copy_is_packed(tmp_path, monkeypatch) -> None:
    monkeypatch.setattr(vector_quantized, "_many_searches", False)            # `svidok enroll`, `svidok match`
    rng = np.random.default_rng(9)
    vectors = _unit(rng.standard_normal((2000, 64)))
    index = _index(vectors, tmp_path)
    assert not index.uses_quantized                                           # packing would cost more
    ids, _ = index.nearest(vectors[7], 1)
    assert ids.tolist() == [8] and not index.quantized.ready
    vector_quantized.expect_many_searches()                                   # `svidok serve`, `svidok worker`
    assert index.uses_quantized
    assert index.nearest(vectors[7], 1)[0].tolist() == [8] and index.quantized.ready
    monkeypatch.setattr(vector_quantized, "_many_searches", False)
    assert index.uses_quantized                                               # packed already: it pays now


def test_a_small_gallery_is_searched_through_the_int8_copy_with_the_same_hits(tmp_path, monkeypatch) -> None:
    from svidok.matching import face_matcher
    from svidok.matching.face_matcher import FaceMatcher, Gallery
    from svidok.foundation.settings import MatchSettings

    rng = np.random.default_rng(10)
    archive = _unit(rng.standard_normal((5000, 96)))
    refs = _unit(archive[[3, 3, 900, 4100]] + 0.05 * rng.standard_normal((4, 96)))   # 3 persons, one with 2
    for near in (17, 18, 19):                                                         # close faces of person 0
        archive[near] = _unit(refs[0] + 0.02 * rng.standard_normal(96))
    index = _index(archive.astype(np.float32), tmp_path)
    gallery = Gallery(refs.astype(np.float32), np.array([11, 12, 13, 14]), np.array([7, 8, 9]), np.array([0, 2, 3]))
    matcher = FaceMatcher(MatchSettings())
    calls: list[int] = []
    monkeypatch.setattr(FaceIndex, "within", lambda self, q, d, real=FaceIndex.within: calls.append(1) or real(self, q, d))
    small = matcher._scan(index, gallery, 0.6)
    assert len(calls) == 4 and index.quantized.ready                          # per reference, through the copy
    monkeypatch.setattr(face_matcher, "PER_REFERENCE_SEARCH", 0)               # the whole-gallery float32 scan
    whole = matcher._scan(index, gallery, 0.6)
    assert len(calls) == 4 and sorted(small) == sorted(whole)
    assert {(0, 18), (0, 19), (0, 20), (0, 4), (1, 901), (2, 4101)} <= set(small)   # (person row, face id)
