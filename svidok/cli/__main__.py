"""`python -m svidok.cli` runs the `svidok` command."""

from svidok.cli.main import main

main(prog_name="svidok")
