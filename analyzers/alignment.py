"""Face alignment for the ArcFace-style embedders: five points, one similarity transform, 112×112.

    dlib 68 landmarks ──five_points──▶ eyes, nose tip, mouth corners ──align_arcface──▶ 112×112 RGB chip

The five points are the eye centres (mean of points 36–41 and 42–47), the nose tip (30) and
the mouth corners (48, 54), in image pixels. The chip comes from the least-squares similarity
transform (rotation, uniform scale, shift; Umeyama 1991) that carries them onto the standard
ArcFace 112×112 template, sampled bilinearly (black beyond the picture's edge, as insightface does).
"""

from __future__ import annotations

from typing import Any

import numpy as np

ARCFACE_112 = np.array([(38.2946, 51.6963), (73.5318, 51.5014), (56.0252, 71.7366),
                        (41.5493, 92.3655), (70.7299, 92.2041)], dtype=np.float64)


def five_points(shape68: Any) -> np.ndarray:
    """(5, 2) float64 points from a dlib 68-point `full_object_detection` or a (68, 2) array."""
    pts = _as_array(shape68)
    if len(pts) != 68:
        raise ValueError(f"five_points needs 68 landmarks, got {len(pts)}")
    return np.stack([pts[36:42].mean(axis=0), pts[42:48].mean(axis=0), pts[30], pts[48], pts[54]])


def similarity_transform(src: np.ndarray, dst: np.ndarray) -> np.ndarray:
    """The 2×3 matrix of the similarity transform that best maps `src` points onto `dst` (least squares)."""
    src, dst = np.asarray(src, np.float64), np.asarray(dst, np.float64)
    src_mean, dst_mean = src.mean(axis=0), dst.mean(axis=0)
    src_c, dst_c = src - src_mean, dst - dst_mean
    covariance = dst_c.T @ src_c / len(src)
    u, singular, vt = np.linalg.svd(covariance)
    sign = np.eye(2)
    if np.linalg.det(u) * np.linalg.det(vt) < 0:
        sign[1, 1] = -1.0
    rotation = u @ sign @ vt
    variance = (src_c ** 2).sum() / len(src)
    scale = float(np.trace(np.diag(singular) @ sign) / variance) if variance > 0 else 1.0
    shift = dst_mean - scale * rotation @ src_mean
    return np.hstack([scale * rotation, shift[:, None]])


def align_arcface(image: np.ndarray, points: np.ndarray, size: int = 112) -> np.ndarray:
    """The face whose five `points` (image pixels) are given, as a size×size RGB chip."""
    import cv2

    template = ARCFACE_112 * (size / 112.0)
    matrix = similarity_transform(points, template)
    return cv2.warpAffine(np.ascontiguousarray(image), matrix, (size, size), flags=cv2.INTER_LINEAR)


def _as_array(shape: Any) -> np.ndarray:
    if isinstance(shape, np.ndarray):
        return shape.astype(np.float64)
    return np.array([[p.x, p.y] for p in shape.parts()], dtype=np.float64)
