"""Enabling a library policy: the server gets its own copy, which reads no file on the server."""

from __future__ import annotations

from pathlib import Path

from bot.core.ports import Actor
from tests.conftest import POLICY_DIR
from tests.core_flow.conftest import Env, message

ADMIN = Actor("root", "root", is_admin=True, space_id="guild-1")


async def test_a_library_policy_with_a_domain_file_is_enabled_with_its_domains_inline(
    env: Env, tmp_path: Path
):
    library = tmp_path / "library"
    library.mkdir()
    text = (POLICY_DIR / "scams-phishing.yaml").read_text()
    assert "\nprefilter:\n" in text
    text = text.replace("\nprefilter:\n", "\nprefilter:\n  domain_files: [phish.txt]\n", 1)
    (library / "scams-phishing.yaml").write_text(text)
    (library / "phish.txt").write_text("steamcommunnity-gift.example\n")
    core = await env.start(library_dir=library)
    reply = await core.run_command(
        ("policy", "enable"), ADMIN, "guild-1", {"policy": "scams-phishing"}, "test"
    )
    assert reply.ok, reply.as_text()
    stored = await env.store.policies.get("guild-1", "scams-phishing")
    assert "domain_files" not in stored.yaml_text and "steamcommunnity-gift.example" in stored.yaml_text
    await core.ensure_space("guild-1", "test", mod_channel_id="mods")
    await core.submit(message(1, "claim it at steamcommunnity-gift.example/free"))
    await core.settle()
    assert len(env.fake.requests) == 1  # the domain selected the message
