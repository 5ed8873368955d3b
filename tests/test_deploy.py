"""The deployment recipe in deploy/ says what the README promises (the image itself: scripts/container_check.sh)."""

from __future__ import annotations

import configparser
import re
from pathlib import Path

import yaml

DEPLOY = Path(__file__).resolve().parents[1] / "deploy"


def instructions() -> list[tuple[str, str]]:
    """Return (INSTRUCTION, arguments) of the Dockerfile, continuation lines joined."""
    text = re.sub(r"\\\n\s*", " ", (DEPLOY / "Dockerfile").read_text(encoding="utf-8"))
    found = []
    for line in text.splitlines():
        if line.strip() and not line.lstrip().startswith("#"):
            word, _, rest = line.strip().partition(" ")
            found.append((word.upper(), rest))
    return found


def test_dockerfile_slim_base_lock_non_root_volume_healthcheck() -> None:
    steps = instructions()
    assert ("ARG", "BASE=python:3.11-slim-bookworm") in steps
    assert any(word == "RUN" and "-c requirements.lock" in rest for word, rest in steps)
    users = [rest for word, rest in steps if word == "USER"]
    assert users and not users[-1].startswith(("0", "root"))
    assert any(word == "VOLUME" and "/data" in rest for word, rest in steps)
    assert any(word == "ENV" and "ROLEBOT_DB=/data/rolebot.db" in rest for word, rest in steps)
    assert any(word == "HEALTHCHECK" and "rolebot" in rest and "health" in rest for word, rest in steps)


def test_dockerfile_user_ids_name_the_user_and_its_group() -> None:
    steps = instructions()
    uid, _, gid = [rest for word, rest in steps if word == "USER"][-1].partition(":")
    setup = " ".join(rest for word, rest in steps if word == "RUN" and "useradd" in rest)
    # useradd --user-group picks a free system gid (999), not the USER line's one
    assert f"groupadd --system --gid {gid} rolebot" in setup
    assert f"useradd --system --uid {uid} --gid rolebot" in setup


def test_compose_webhook_behind_caddy_and_polling_variant() -> None:
    hook = yaml.safe_load((DEPLOY / "compose.yaml").read_text(encoding="utf-8"))
    bot, caddy = hook["services"]["bot"], hook["services"]["caddy"]
    assert bot["environment"]["ROLEBOT_WEBHOOK_URL"].startswith("https://")
    assert "ROLEBOT_WEBHOOK_SECRET" in bot["environment"] and "rolebot-data:/data" in bot["volumes"]
    assert "healthz" in " ".join(bot["healthcheck"]["test"])
    assert caddy["image"].startswith("caddy") and "443:443" in caddy["ports"]
    assert "ports" not in bot  # only Caddy faces the internet
    caddyfile = (DEPLOY / "Caddyfile").read_text(encoding="utf-8")
    assert "reverse_proxy bot:8443" in caddyfile and "handle /telegram" in caddyfile
    polling = yaml.safe_load((DEPLOY / "compose.polling.yaml").read_text(encoding="utf-8"))
    assert polling["services"]["bot"]["command"] == ["run"] and "caddy" not in polling["services"]
    for compose in (hook, polling):
        assert compose["services"]["bot"]["restart"] == "unless-stopped"


def test_systemd_unit_restarts_and_keeps_state() -> None:
    unit = configparser.ConfigParser(strict=False, interpolation=None)
    unit.optionxform = str  # type: ignore[assignment,method-assign]
    unit.read(DEPLOY / "rolebot.service", encoding="utf-8")
    service = unit["Service"]
    assert service["Restart"] == "on-failure" and service["ExecStart"].endswith("rolebot run")
    assert service["User"] != "root" and service["StateDirectory"] == "rolebot"
    assert "ROLEBOT_DB=/var/lib/rolebot/" in service["Environment"]
    assert unit["Install"]["WantedBy"] == "multi-user.target"


def test_env_example_holds_no_real_token() -> None:
    text = (DEPLOY / "env.example").read_text(encoding="utf-8")
    assert not re.search(r"\d{6,}:[A-Za-z0-9_-]{30,}", text)
