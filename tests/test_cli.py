"""The ``confidante`` command, run as a user would: a new process per invocation."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

CLI = [sys.executable, "-m", "confidante.cli"]


def run(args: list[str], env: dict[str, str], stdin: str = "") -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*CLI, *args], input=stdin, env=env, capture_output=True, text=True, timeout=300
    )


def test_facts_told_in_one_process_are_recalled_in_the_next(cli_env: dict[str, str]) -> None:
    told = run(
        ["chat", "--user", "u1"], cli_env, "My dog is called Biscuit and I live in Lisbon.\n"
    )
    assert told.returncode == 0, told.stderr
    asked = run(["chat", "--user", "u1"], cli_env, "What is my dog called?\n")
    assert asked.returncode == 0, asked.stderr
    assert "Biscuit" in asked.stdout
    other = run(["chat", "--user", "u2"], cli_env, "What is my dog called?\n")
    assert other.returncode == 0, other.stderr
    assert "Biscuit" not in other.stdout


def test_one_reply_line_per_input_line(cli_env: dict[str, str]) -> None:
    result = run(
        ["chat", "--user", "u1"], cli_env, "Hello.\n\nI live in Lisbon.\nWhere do I live?\n"
    )
    assert result.returncode == 0, result.stderr
    lines = result.stdout.strip().splitlines()
    assert len(lines) == 3
    assert "Lisbon" in lines[2]


def test_verbose_shows_recalled_memories_on_stderr(cli_env: dict[str, str]) -> None:
    run(["chat", "--user", "u1"], cli_env, "My dog is called Biscuit.\n")
    result = run(["chat", "--user", "u1", "-v"], cli_env, "What is my dog called?\n")
    assert "recalled" in result.stderr and "Biscuit" in result.stderr


def test_memory_commands(cli_env: dict[str, str]) -> None:
    added = run(
        ["memory", "add", "--user", "u1", "I am allergic to nuts.", "--key", "allergy"], cli_env
    )
    assert added.returncode == 0, added.stderr
    item_id = added.stdout.strip()
    listed = json.loads(run(["memory", "list", "--user", "u1", "--json"], cli_env).stdout)
    assert [item["id"] for item in listed] == [item_id]
    found = json.loads(run(["memory", "search", "--user", "u1", "nuts", "--json"], cli_env).stdout)
    assert found[0]["text"] == "I am allergic to nuts."
    assert json.loads(run(["memory", "list", "--user", "u2", "--json"], cli_env).stdout) == []
    refused = run(["memory", "forget", "--user", "u2", item_id], cli_env)
    assert refused.returncode == 1 and "no memory" in refused.stderr
    assert run(["memory", "forget", "--user", "u1", item_id], cli_env).returncode == 0
    assert json.loads(run(["memory", "list", "--user", "u1", "--json"], cli_env).stdout) == []


def test_memory_subjects_lists_the_people_of_one_user(cli_env: dict[str, str]) -> None:
    told = run(["chat", "--user", "u1"], cli_env, "My sister Ana lives in Berlin.\n")
    assert told.returncode == 0, told.stderr
    listed = json.loads(run(["memory", "subjects", "--user", "u1", "--json"], cli_env).stdout)
    assert [(s["name"], s["relation"], s["kind"]) for s in listed] == [("Ana", "sister", "person")]
    table = run(["memory", "list", "--user", "u1"], cli_env).stdout
    assert "Ana lives in Berlin." in table and "Ana" in table.split("Ana lives")[0]
    assert json.loads(run(["memory", "subjects", "--user", "u2", "--json"], cli_env).stdout) == []


def test_memory_images_and_merge_from_the_cli(cli_env: dict[str, str], tmp_path: Path) -> None:
    from PIL import Image

    photo = tmp_path / "boat.png"
    Image.new("RGB", (16, 12), (10, 80, 200)).save(photo)
    added = run(["memory", "add", "--user", "u1", "my blue boat", "--image", str(photo)], cli_env)
    assert added.returncode == 0, added.stderr
    found = json.loads(run(["memory", "search", "--user", "u1", "boat", "--json"], cli_env).stdout)
    assert found[0]["id"] == added.stdout.strip() and Path(found[0]["image_path"]).is_file()
    by_image = run(["memory", "search", "--user", "u1", "--image", str(photo)], cli_env)
    assert by_image.returncode == 1 and "CONFIDANTE_IMAGE_EMBEDDER" in by_image.stderr
    ids = [
        run(["memory", "add", "--user", "u1", text], cli_env).stdout.strip()
        for text in ("I row on Sundays.", "Rowing is my Sunday sport.")
    ]
    merged = run(
        ["memory", "merge", "--user", "u1", *ids, "--text", "I row every Sunday."], cli_env
    )
    assert merged.returncode == 0, merged.stderr
    listed = json.loads(run(["memory", "list", "--user", "u1", "--json"], cli_env).stdout)
    assert sorted(item["text"] for item in listed) == ["I row every Sunday.", "my blue boat"]


def test_bad_settings_give_a_clear_error(cli_env: dict[str, str]) -> None:
    env = {**cli_env, "CONFIDANTE_MODEL": "gpt-5"}
    result = run(["chat", "--user", "u1"], env, "hi\n")
    assert result.returncode == 2
    assert "openai:MODEL_NAME" in result.stderr
    assert "Traceback" not in result.stderr


def test_scripted_demo_runs_every_part(cli_env: dict[str, str], tmp_path: Path) -> None:
    result = run(["demo", "--model", "scripted", "--data-dir", str(tmp_path / "demo")], cli_env)
    assert result.returncode == 0, result.stderr
    out = result.stdout
    for marker in (
        "session 1",
        "session 2 (new process)",
        "session 3",
        "session 4",
        "demo finished",
    ):
        assert marker in out
    assert "From what you told me: Biscuit (your dog)" in out
    assert "subject: Marta (sister)" in out and "current  [Marta: home_city] Marta lives" in out
    assert "replaced [Ana: home_city] The user lives in Lisbon." in out  # said in plain words
    assert "replaced [Ana: diet] The user is vegetarian." in out
    assert "add_reminder" in out


@pytest.mark.parametrize("args", [["--help"], ["memory", "--help"]])
def test_help(args: list[str], cli_env: dict[str, str]) -> None:
    result = run(args, cli_env)
    assert result.returncode == 0 and "Usage" in result.stdout


def test_edit_and_forget_take_the_id_as_list_shows_it(cli_env: dict[str, str]) -> None:
    item_id = run(["memory", "add", "--user", "u1", "I row on Sundays."], cli_env).stdout.strip()
    shown = item_id[:12]
    assert shown in run(["memory", "list", "--user", "u1"], cli_env).stdout
    edited = run(["memory", "edit", "--user", "u1", shown, "I row on Saturdays."], cli_env)
    assert edited.returncode == 0, edited.stderr
    assert run(["memory", "forget", "--user", "u2", shown], cli_env).returncode == 1
    forgot = run(["memory", "forget", "--user", "u1", shown], cli_env)
    assert forgot.returncode == 0, forgot.stderr
    assert forgot.stdout.strip() == f"forgot {shown}: I row on Saturdays."
    again = run(["memory", "forget", "--user", "u1", shown], cli_env)
    assert again.returncode == 1 and f"no memory '{shown}' for this user" in again.stderr


def test_an_ambiguous_prefix_is_refused_with_the_candidates(
    cli_env: dict[str, str], tmp_path: Path
) -> None:
    items = [
        {"id": "5d15b8a2e31d01", "text": "I row on Sundays.", "kind": "fact"},
        {"id": "5d15b8a2e31d02", "text": "I swim on Mondays.", "kind": "fact"},
    ]
    added = [run(["memory", "add", "--user", "tmp", item["text"]], cli_env) for item in items]
    assert all(result.returncode == 0 for result in added)
    export = json.loads(run(["memory", "export", "--user", "tmp"], cli_env).stdout)
    for exported in export["items"]:
        exported["id"] = next(i["id"] for i in items if i["text"] == exported["text"])
    (tmp_path / "export.json").write_text(json.dumps(export))
    imported = run(
        ["memory", "import", "--user", "u1", str(tmp_path / "export.json"), "--keep-ids"], cli_env
    )
    assert imported.returncode == 0, imported.stderr
    refused = run(["memory", "forget", "--user", "u1", "5d15b8a2e31d"], cli_env)
    assert refused.returncode == 1 and "ambiguous" in refused.stderr
    assert "5d15b8a2e31d01" in refused.stderr and "5d15b8a2e31d02" in refused.stderr
    assert len(json.loads(run(["memory", "list", "--user", "u1", "--json"], cli_env).stdout)) == 2


def test_an_unknown_user_is_said_to_have_no_memories(cli_env: dict[str, str]) -> None:
    run(["memory", "add", "--user", "u1", "I row on Sundays."], cli_env)
    listed = run(["memory", "list", "--user", "nobody"], cli_env)
    assert listed.returncode == 0
    assert "no memories for user 'nobody'" in listed.stderr
    exported = run(["memory", "export", "--user", "nobody"], cli_env)
    assert exported.returncode == 0
    assert "no memories for user 'nobody'" in exported.stderr
    assert json.loads(exported.stdout)["items"] == []  # still a valid export
    known = run(["memory", "list", "--user", "u1"], cli_env)
    assert "no memories" not in known.stderr
