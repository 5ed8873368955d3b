"""Run the command line as `python -m rolebot`."""

from rolebot.terminal.cli import main

if __name__ == "__main__":  # not when a worker process (kb/cutting.py, spawned) imports the main module again
    main(prog_name="rolebot")
