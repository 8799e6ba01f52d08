"""`python -m core.cli` runs the `svidok` command."""

from core.cli.main import main

main(prog_name="svidok")
