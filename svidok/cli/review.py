"""`svidok user add`, `svidok serve`, `svidok case ...`: the review UI and the case workflow."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from svidok.cli.base import CommandContext, CommandError, common_options, stderr


@click.group()
def user() -> None:
    """Review UI users (analyst, reviewer, case-officer, admin)."""


@user.command("add")
@click.argument("name")
@click.option("--role", required=True, type=click.Choice(["analyst", "reviewer", "case-officer", "admin"]),
              help="What the user may do in the review UI.")
@click.option("--password-stdin", is_flag=True, help="Read the password from stdin instead of generating one.")
@common_options
def user_add(cc: CommandContext, name: str, role: str, password_stdin: bool) -> None:
    """Create a UI user. Without --password-stdin a strong password is generated and printed once.

    Example:

        echo 'a long passphrase here' | svidok user add olena --role reviewer --password-stdin --json
    """
    from svidok.cases.users import UserError, add_user, generate_password

    password = sys.stdin.readline().rstrip("\r\n") if password_stdin else generate_password()
    with cc.workspace() as ws:
        try:
            user_id = add_user(ws, name, role, password)
        except UserError as exc:
            raise CommandError(str(exc)) from None
    data = {"id": user_id, "name": name, "role": role}
    if not password_stdin:
        data["password"] = password
    cc.emit(data, lambda d: stderr.print(f"user {name} ({role}) created, id {user_id}"
                                         + (f"; password (shown once): {password}" if not password_stdin else "")))


@click.command()
@click.option("--host", default=None, help="Address to bind (default: review.host, 127.0.0.1).")
@click.option("--port", type=int, default=None, help="Port (default: review.port, 8765).")
@click.option("--allow-remote", is_flag=True, help="Allow binding to a non-loopback address (needs TLS).")
@click.option("--cert", type=click.Path(exists=True, dir_okay=False, path_type=Path), default=None,
              help="TLS certificate (PEM) to serve HTTPS with (with --key).")
@click.option("--key", type=click.Path(exists=True, dir_okay=False, path_type=Path), default=None,
              help="TLS private key (PEM) of --cert.")
@click.option("--behind-proxy", is_flag=True,
              help="A TLS reverse proxy is in front: trust its X-Forwarded-Proto/-For headers.")
@click.option("--forwarded-allow-ips", default="127.0.0.1", show_default=True,
              help="Addresses of the proxy whose headers are trusted (with --behind-proxy).")
@common_options
def serve(cc: CommandContext, host: str | None, port: int | None, allow_remote: bool, cert: Path | None,
          key: Path | None, behind_proxy: bool, forwarded_allow_ips: str) -> None:
    """Start the review UI (runs until stopped with Ctrl-C).

    Other machines are served only over TLS: --allow-remote needs --cert and --key, or a TLS
    reverse proxy in front with --behind-proxy (then only requests it forwarded as HTTPS are
    answered). Session cookies are Secure whenever the UI is reached over HTTPS.

    Example:

        svidok serve --port 8765
        svidok serve --host 0.0.0.0 --allow-remote --cert svidok.crt --key svidok.key
    """
    from svidok.review_ui.server import RemoteBindRefused, Transport, check_host
    from svidok.review_ui.server import serve as run_server

    with cc.workspace() as ws:
        host = host or ws.settings.review.host
        port = port or ws.settings.review.port
    transport = Transport(cert, key, behind_proxy, forwarded_allow_ips)
    try:
        remote = check_host(host, allow_remote, transport)
    except RemoteBindRefused as exc:
        raise CommandError(str(exc)) from None
    if remote:
        stderr.print(f"[bold yellow]warning:[/] serving on {host}: anyone who can reach this address can try"
                     " to log in; keep a firewall in front")
    stderr.print(f"review UI on {transport.scheme}://{host}:{port}/ (Ctrl-C stops)")
    from svidok.matching.vector_quantized import expect_many_searches

    expect_many_searches()                          # ranked searches: large indexes through their int8 copy
    run_server(cc.workspace_path, host, port, transport)


@click.group()
def case() -> None:
    """Cases: confirmed sightings of one missing person, notes, evidence packages."""


@case.command("open")
@click.argument("person", type=int)
@common_options
def case_open(cc: CommandContext, person: int) -> None:
    """Open the case of a missing person (returns the existing one if already open).

    Example:

        svidok case open 3 --json
    """
    from svidok.cases.case import CaseError, open_case

    with cc.workspace() as ws:
        try:
            case_id, created = open_case(ws, person, None, "cli")
        except CaseError as exc:
            raise CommandError(str(exc)) from None
    cc.emit({"id": case_id, "created": created}, lambda d: stderr.print(f"case {case_id}"))


@case.command("attach")
@click.argument("case_id", metavar="CASE", type=int)
@click.argument("sighting", type=int)
@common_options
def case_attach(cc: CommandContext, case_id: int, sighting: int) -> None:
    """Attach a confirmed sighting to a case.

    Example:

        svidok case attach 1 42 --json
    """
    from svidok.cases.case import CaseError, attach

    with cc.workspace() as ws:
        try:
            attach(ws, case_id, sighting, None, "cli")
        except CaseError as exc:
            raise CommandError(str(exc)) from None
    cc.emit({"case": case_id, "sighting": sighting}, lambda d: stderr.print(f"sighting {sighting} attached"))


@case.command("list")
@common_options
def case_list(cc: CommandContext) -> None:
    """List cases with their number of attached sightings.

    Example:

        svidok case list --json
    """
    from svidok.cases.case import list_cases

    with cc.workspace() as ws:
        rows = [c.__dict__ for c in list_cases(ws)]
    cc.emit(rows)


@case.command("export")
@click.argument("case_id", metavar="CASE", type=int)
@click.option("--recipient", required=True,
              help="icrc, coordination-hq, ombudsman, court, prosecutor or internal (decides what consent allows).")
@click.option("--out", "out_dir", type=click.Path(path_type=Path), default=None,
              help="Folder to write the bag in (default: <workspace>/exports).")
@common_options
def case_export(cc: CommandContext, case_id: int, recipient: str, out_dir: Path | None) -> None:
    """Write a consent-filtered evidence package for one recipient: a BagIt 1.0 bag with a
    bilingual summary (HTML and PDF), signed with the organisation's key (timestamped when
    export.tsa_url is set), and the same bag as one .zip file to hand over.

    Example:

        svidok case export 1 --recipient icrc --out ./packages --json
    """
    from svidok.cases.case import CaseError
    from svidok.cases.export import ExportError, export_case

    with cc.workspace() as ws:
        try:
            result = export_case(ws, case_id, recipient, out_dir or ws.root / "exports", "cli")
        except (ExportError, CaseError) as exc:
            raise CommandError(str(exc)) from None
    data = {"bag": str(result.bag), "files": result.files, "recipient": result.recipient,
            "sightings": result.sightings, "references": result.references, "excluded": result.excluded,
            "package": str(result.package), "signing_key_sha256": result.signing_key_sha256,
            "timestamp": result.timestamp}
    cc.emit(data, lambda d: stderr.print(f"package written: {d['package']} ({d['files']} files, bag {d['bag']})"))


COMMANDS: list[click.Command] = [user, serve, case]
