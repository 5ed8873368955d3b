"""Run the `rolebot` command line in-process."""

from __future__ import annotations

from pathlib import Path

from click.testing import CliRunner, Result


class CliInvoker:
    """Invoke rolebot.terminal.cli.main with arguments; returns click's Result."""

    def __call__(self, *args: str, input: str | None = None, env: dict[str, str | None] | None = None) -> Result:
        from rolebot.terminal.cli import main

        runner = CliRunner(env=env)
        return runner.invoke(main, list(args), input=input)

    def export(self, db: Path) -> list[str]:
        """Return `rolebot export --db DB` as lines, failing the test when it fails."""
        res = self("export", "--db", str(db))
        assert res.exit_code == 0, res.output
        return res.stdout.splitlines()
