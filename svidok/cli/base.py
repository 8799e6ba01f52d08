"""What every command shares: global options, JSON output, errors as one clear line.

Every command takes `--workspace DIR`, `--json` and `--debug`, either before the command
name (`svidok --workspace W init`) or after it (`svidok init --workspace W --json`).
With `--json` a command prints exactly one JSON document on stdout; logs and progress go to
stderr. Errors print one line (`error: ...`) and exit 1; `--debug` shows the traceback.
"""

from __future__ import annotations

import json
import sys
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from functools import wraps
from pathlib import Path
from typing import Any

import click
from rich.console import Console
from rich.markup import escape

from svidok.foundation.workspace import Workspace, default_workspace_path

stderr = Console(stderr=True, highlight=False)


class CommandError(click.ClickException):
    """An expected failure, reported as one line."""


@dataclass
class CommandContext:
    """Options every command has, resolved (command-level beats group-level)."""

    workspace_path: Path
    json: bool
    debug: bool

    def workspace(self) -> Workspace:
        """Open the existing workspace."""
        return Workspace.open(self.workspace_path)

    def emit(self, data: Any, human: Callable[[Any], None] | None = None) -> None:
        """Print the command's result: JSON with --json, else the human rendering."""
        if self.json:
            click.echo(json.dumps(data, ensure_ascii=False, indent=2, default=str))
        elif human is not None:
            human(data)
        else:
            click.echo(json.dumps(data, ensure_ascii=False, indent=2, default=str))

    def progress(self, **kwargs: Any):  # noqa: ANN201 - rich Progress
        """A progress bar with ETA on stderr (hidden when stderr is not a terminal)."""
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

        return Progress(
            TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn(),
            console=stderr, transient=True, disable=not stderr.is_terminal, **kwargs,
        )


def _merge(ctx: click.Context, workspace: Path | None, as_json: bool, debug: bool) -> CommandContext:
    root = ctx.find_root()
    group: dict[str, Any] = root.params if root is not ctx else {}
    path = workspace or group.get("workspace") or default_workspace_path()
    return CommandContext(Path(path), as_json or bool(group.get("as_json")), debug or bool(group.get("debug")))


def common_options(func: Callable[..., Any]) -> Callable[..., Any]:
    """Add --workspace/--json/--debug to a command; the function gets `cc: CommandContext` first."""

    @click.option("--workspace", type=click.Path(path_type=Path), default=None,
                  help="Workspace folder (default: $SVIDOK_WORKSPACE, else ./svidok-workspace).")
    @click.option("--json", "as_json", is_flag=True, help="Print one JSON document on stdout.")
    @click.option("--debug", is_flag=True, help="Show tracebacks for errors.")
    @click.pass_context
    @wraps(func)
    def wrapper(ctx: click.Context, workspace: Path | None, as_json: bool, debug: bool, **kwargs: Any) -> Any:
        cc = _merge(ctx, workspace, as_json, debug)
        ctx.meta["svidok.cc"] = cc
        return func(cc, **kwargs)

    return wrapper


def _known_errors() -> tuple[type[BaseException], ...]:
    from svidok.analyzers.models import ModelMissing
    from svidok.foundation.settings import SettingsError
    from svidok.foundation.store import StoreError
    from svidok.foundation.workspace import WorkspaceError

    return (WorkspaceError, SettingsError, StoreError, ValueError, FileNotFoundError, PermissionError, ModelMissing)


class SvidokGroup(click.Group):
    """A click group that turns exceptions into one clear line (and a JSON error with --json)."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except (click.exceptions.Exit, click.exceptions.Abort, click.UsageError):
            raise
        except click.ClickException as exc:
            _report(ctx, exc.format_message())
        except Exception as exc:  # the CLI edge: nothing escapes as a traceback without --debug
            if _is_debug(ctx):
                traceback.print_exc()
            known = isinstance(exc, _known_errors())
            _report(ctx, str(exc) if known else f"internal error: {type(exc).__name__}: {exc}")


def _is_debug(ctx: click.Context) -> bool:
    cc = _find_cc(ctx)
    return bool(cc.debug if cc else ctx.params.get("debug"))


def _find_cc(ctx: click.Context) -> CommandContext | None:
    return ctx.meta.get("svidok.cc")


def _report(ctx: click.Context, message: str) -> None:
    cc = _find_cc(ctx)
    as_json = cc.json if cc else bool(ctx.params.get("as_json")) or "--json" in sys.argv
    if as_json:
        click.echo(json.dumps({"error": message}, ensure_ascii=False))
    stderr.print(f"[bold red]error:[/] {escape(message)}", soft_wrap=True)
    sys.exit(1)
