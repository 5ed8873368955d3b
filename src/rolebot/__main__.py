"""Run the command line as `python -m rolebot`."""

from rolebot.terminal.cli import main

main(prog_name="rolebot")
