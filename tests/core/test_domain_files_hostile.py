"""`prefilter.domain_files` reads only bounded regular files inside the policy's folder."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from bot.cli import main
from bot.core.policies import PolicyError, TokenLimits, load_policy_file, portable_text
from tests.core.test_policies import VALID


def with_files(*names: str) -> str:
    listed = ", ".join(f'"{n}"' for n in names)
    return VALID.replace("  keywords: [aimbot,", f"  domain_files: [{listed}]\n  keywords: [aimbot,")


def refusal(tmp_path: Path, tokens, *names: str) -> str:
    path = tmp_path / "lib" / "policy.yaml"
    path.parent.mkdir(exist_ok=True)
    path.write_text(with_files(*names))
    with pytest.raises(PolicyError) as info:
        load_policy_file(path, tokens.count, TokenLimits())
    (problem,) = info.value.problems
    assert problem.field == "prefilter.domain_files[0]"
    return problem.message


@pytest.mark.parametrize("name", ["/etc/shadow", "/etc/passwd", "~/.ssh/id_rsa", "../secret.txt"])
def test_paths_outside_the_policy_folder_are_refused_before_any_lookup(tmp_path: Path, tokens, name):
    (tmp_path / "secret.txt").write_text("bank.example\n")
    message = refusal(tmp_path, tokens, name)
    assert "relative to the policy's folder" in message
    # The same words whether or not the file exists: nothing about the server leaks.
    assert refusal(tmp_path, tokens, name.replace("s", "zz", 1)) == message.replace(
        repr(name), repr(name.replace("s", "zz", 1))
    )


def test_a_symlink_out_of_the_folder_is_refused(tmp_path: Path, tokens):
    (tmp_path / "lib").mkdir()
    (tmp_path / "secret.txt").write_text("bank.example\n")
    (tmp_path / "lib" / "list.txt").symlink_to(tmp_path / "secret.txt")
    assert "leads outside the policy's folder" in refusal(tmp_path, tokens, "list.txt")


def test_a_device_is_not_read(tmp_path: Path, tokens):
    (tmp_path / "lib").mkdir()
    (tmp_path / "lib" / "zero.txt").symlink_to("/dev/zero")
    # /dev/zero is outside the folder; inside it, a FIFO is the device an author could make.
    assert "outside" in refusal(tmp_path, tokens, "zero.txt")
    os.mkfifo(tmp_path / "lib" / "pipe.txt")
    assert "not a regular file" in refusal(tmp_path, tokens, "pipe.txt")


def test_a_huge_list_is_refused_by_size(tmp_path: Path, tokens):
    (tmp_path / "lib").mkdir()
    (tmp_path / "lib" / "big.txt").write_text("a.example\n" * 300_000)
    assert "over 2,000,000 bytes" in refusal(tmp_path, tokens, "big.txt")


def test_a_list_inside_the_folder_still_works(tmp_path: Path, tokens):
    (tmp_path / "lists").mkdir()
    (tmp_path / "lists" / "scam.json").write_text('{"domains": ["evil.example"]}')
    path = tmp_path / "policy.yaml"
    path.write_text(with_files("lists/scam.json"))
    policy = load_policy_file(path, tokens.count, TokenLimits())
    assert "evil.example" in policy.prefilter.domains


def test_an_uploaded_policy_cannot_name_files(make_policy):
    with pytest.raises(PolicyError) as info:
        make_policy(with_files("lists/scam.txt"), "upload")
    (problem,) = info.value.problems
    assert "list the domains under prefilter.domains" in problem.message


def test_lint_reports_an_outside_path_as_a_policy_error(tmp_path: Path, capsys):
    path = tmp_path / "p.yaml"
    path.write_text(with_files("/etc/shadow"))
    assert main(["policy", "lint", str(path)]) == 1
    assert "prefilter.domain_files[0]: '/etc/shadow' must be a file name relative" in capsys.readouterr().err


def test_installing_a_library_policy_carries_its_file_domains_inline(tmp_path: Path, tokens, make_policy):
    (tmp_path / "scam.txt").write_text("evil.example\n")
    path = tmp_path / "policy.yaml"
    path.write_text(with_files("scam.txt"))
    policy = load_policy_file(path, tokens.count, TokenLimits())
    uploaded = make_policy(portable_text(policy, path.read_text()), "upload")
    assert "evil.example" in uploaded.prefilter.domains
    assert uploaded.spec.prefilter.domain_files == ()
