"""`svidok package verify`: check an evidence package (signature, manifests, timestamp, audit tip)."""

from __future__ import annotations

from pathlib import Path

import click
from rich.markup import escape

from svidok.cli.base import CommandContext, CommandError, common_options, stderr
from svidok.foundation.workspace import Workspace


@click.group()
def package() -> None:
    """Evidence packages written by `svidok case export`."""


@package.command("verify")
@click.argument("file", type=click.Path(path_type=Path))
@click.option("--public-key", "public_key", type=click.Path(path_type=Path, dir_okay=False), default=None,
              help="The organisation's published Ed25519 public key (PEM); the package must be signed with it.")
@click.option("--tsa-ca", "tsa_ca", type=click.Path(path_type=Path, dir_okay=False), default=None,
              help="PEM certificate(s) of the trusted time-stamping authority (default: export.tsa_ca_file).")
@common_options
def package_verify(cc: CommandContext, file: Path, public_key: Path | None, tsa_ca: Path | None) -> None:
    """Check an evidence package (the .zip, or an unpacked bag folder): every file against the
    BagIt manifests, the Ed25519 signature, the RFC 3161 timestamp if there is one, and the
    audit tip it records.

    When the workspace (--workspace, $SVIDOK_WORKSPACE or ./svidok-workspace) exists, the
    package is also checked against it: signed with its key, and its audit tip still in its
    audit chain. Without one, the audit tip is checked inside the package only. Exits 1
    unless everything checks.

    Example:

        svidok package verify case-1-icrc-20250301T120000Z.zip --public-key org.pub.pem --json
    """
    from svidok.cases.package_verify import VerifyOptions, verify_package
    from svidok.cases.timestamp import TimestampError, load_roots

    ws = Workspace.open(cc.workspace_path) if Workspace.exists(cc.workspace_path) else None
    try:
        ca = tsa_ca or (ws.settings.export.tsa_ca_file if ws else "")
        options = VerifyOptions(ws, public_key.read_bytes() if public_key else None, load_roots(ca) if ca else [])
        report = verify_package(file, options)
    except (OSError, TimestampError) as exc:
        raise CommandError(str(exc)) from None
    finally:
        if ws is not None:
            ws.close()
    cc.emit(report.as_dict(), _show)
    if not report.ok:
        raise SystemExit(1)


def _show(data: dict) -> None:
    for p in data["problems"]:
        stderr.print(f"[bold red]{p['kind']}:[/] {escape(p['what'])}")
    for w in data["warnings"]:
        stderr.print(f"[yellow]warning:[/] {escape(w)}")
    stamp = f", timestamped {data['timestamp']}" if data.get("timestamp") else ""
    verdict = "[bold green]OK[/]" if data["ok"] else "[bold red]NOT OK[/]"
    stderr.print(f"{verdict}: {escape(data['package'])} ({data.get('files', '?')} files{stamp})")


COMMANDS: list[click.Command] = [package]
