"""An admin's edit takes effect: any changed field is a new version, not "unchanged"."""

from __future__ import annotations

import pytest

from tests.conftest import POLICY_DIR
from tests.core_flow.conftest import ADMIN, Env, message
from tests.fakes import Reply, verdict_json

CHEATING = (POLICY_DIR / "game-cheating.yaml").read_text()


@pytest.mark.parametrize(
    ("old", "new"),
    [
        ("kind: flag", "kind: delete"),  # action
        ("severity: medium", "severity: high"),
        ("    - aim bot\n", "    - aim bot\n    - triggerbot\n"),  # prefilter
        ("\naction:\n", "\nmoderator_note: Many members are kids, be kind.\naction:\n"),
        ("  on_unavailable: true", "  on_unavailable: false"),  # escalation
    ],
)
async def test_an_edit_outside_the_prompt_is_saved_as_a_new_version(env: Env, old: str, new: str):
    core = await env.start()
    await core.ensure_space("guild-1", "test", "g", mod_channel_id="mods")
    first = await core.admin.upload("guild-1", ADMIN, CHEATING, mode="live")
    assert first.ok and first.policy is not None and first.policy.version == 1
    assert old in CHEATING
    edited = CHEATING.replace(old, new, 1)
    result = await core.admin.upload("guild-1", ADMIN, edited)
    assert result.ok, result.message
    assert result.message == "game-cheating saved as v2 (live)"
    assert (await env.store.policies.get("guild-1", "game-cheating")).yaml_text == edited


async def test_reuploading_the_same_policy_is_still_unchanged(env: Env):
    core = await env.start()
    await core.ensure_space("guild-1", "test", "g", mod_channel_id="mods")
    assert (await core.admin.upload("guild-1", ADMIN, CHEATING, mode="live")).ok
    again = await core.admin.upload("guild-1", ADMIN, CHEATING + "\n# a comment changes nothing\n")
    assert again.message == "game-cheating is unchanged (v1)"


async def test_switching_delete_to_flag_stops_the_deleting(env: Env):
    core = await env.start()
    await core.ensure_space("guild-1", "test", "g", mod_channel_id="mods", auto_actions=True)
    deleting = CHEATING.replace("kind: flag", "kind: delete")
    assert (await core.admin.upload("guild-1", ADMIN, deleting, mode="live")).ok
    env.fake.responder = lambda body: Reply(verdict_json(1, ["GC1"], "high", "sells a cheat"))
    await core.submit(message(1, "selling aimbot"))
    await core.settle()
    assert env.platform.deleted == ["1"]
    result = await core.admin.upload("guild-1", ADMIN, CHEATING)  # back to kind: flag
    assert result.message == "game-cheating saved as v2 (live)"
    await core.submit(message(2, "selling aimbot cheap"))
    await core.settle()
    assert env.platform.deleted == ["1"]  # flagged for a human, not deleted
    assert [f.message_id for f in env.platform.flags][-1] == "2"


async def test_the_verdict_cache_still_keys_on_the_prompt(env: Env):
    # A moderator note changes the version but not what the model is asked: no new model call.
    core = await env.start()
    await core.ensure_space("guild-1", "test", "g", mod_channel_id="mods")
    assert (await core.admin.upload("guild-1", ADMIN, CHEATING, mode="live")).ok
    await core.submit(message(1, "selling aimbot"))
    await core.settle()
    noted = CHEATING.replace("\naction:\n", "\nmoderator_note: Be kind.\naction:\n", 1)
    assert (await core.admin.upload("guild-1", ADMIN, noted)).message.endswith("v2 (live)")
    await core.submit(message(2, "selling aimbot"))
    await core.settle()
    assert len(env.fake.requests) == 1
