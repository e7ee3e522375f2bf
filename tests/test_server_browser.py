"""The web chat in real headless Chromium (Debian's ``chromium``) driven by Playwright.

Send a message, see the recalled memory in the side panel, forget it there (it goes once its
undo time is up), reload: it is gone. ``test_server_page.py`` has the page's other behaviours.
Playwright's own browser builds are never downloaded: it drives ``/usr/bin/chromium``.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from browser_support import chromium_path as _chromium
from server_support import live_server


@pytest.mark.slow
def test_chat_page_shows_recall_and_forgets_on_the_spot(tmp_path: Path) -> None:
    sync_api = pytest.importorskip("playwright.sync_api")
    sync_api.expect.set_options(timeout=30_000)  # the machine may be busy: embeddings are slow
    executable = _chromium()
    with live_server(tmp_path) as server:
        key = server.key_for("wendy")
        with server.client(key) as http:
            remembered = http.post(
                "/v1/memories", json={"text": "Wendy's dog is called Biscuit."}
            ).json()
        with sync_api.sync_playwright() as playwright:
            browser = playwright.chromium.launch(
                executable_path=executable, headless=True, args=["--no-sandbox"]
            )
            try:
                page = browser.new_page()
                failed: list[str] = []
                page.on(
                    "requestfailed",
                    lambda r: failed.append(f"{r.method} {r.url} {r.failure}"),
                )
                page.goto(server.url + "/")
                page.fill("#api-key", key)
                page.click("#save-key")
                memories = page.locator(f"#memories li[data-id='{remembered['id']}']")
                sync_api.expect(memories).to_contain_text("Biscuit")

                page.fill("#message", "What is my dog called?")
                page.click("#send")
                reply = page.locator("#log li.assistant.done")
                sync_api.expect(reply).to_contain_text("Biscuit")
                usage = reply.locator(".usage")  # the reply's tokens and time, per kind
                sync_api.expect(usage).to_have_text(
                    re.compile(r"^\d+ tokens · \d+\.\d s \(reply \d+")
                )
                recalled = page.locator(f"#recalled li[data-id='{remembered['id']}']")
                sync_api.expect(recalled).to_contain_text("Wendy's dog is called Biscuit.")

                recalled.locator("button.forget").click()
                sync_api.expect(recalled).to_have_class("forgotten")
                sync_api.expect(memories).to_have_count(0)

                page.reload()
                sync_api.expect(page.locator("#whoami")).to_have_text("connected")
                sync_api.expect(page.locator("#memories li.empty")).to_be_visible()
                assert page.locator("#memories").inner_text().count("Biscuit") == 0
                assert failed == []
            finally:
                browser.close()
        with server.client(key) as http:
            assert http.get(f"/v1/memories/{remembered['id']}").status_code == 404


@pytest.mark.slow
def test_editing_a_memory_in_the_panel(tmp_path: Path) -> None:
    sync_api = pytest.importorskip("playwright.sync_api")
    sync_api.expect.set_options(timeout=30_000)  # the machine may be busy: embeddings are slow
    executable = _chromium()
    with live_server(tmp_path) as server:
        key = server.key_for("xavier")
        with server.client(key) as http:
            item = http.post("/v1/memories", json={"text": "Xavier lives in Lyon."}).json()
        with sync_api.sync_playwright() as playwright:
            browser = playwright.chromium.launch(
                executable_path=executable, headless=True, args=["--no-sandbox"]
            )
            try:
                page = browser.new_page()
                page.goto(server.url + "/")
                page.fill("#api-key", key)
                page.click("#save-key")
                row = page.locator(f"#memories li[data-id='{item['id']}']")
                row.locator("button.edit").click()
                row.locator("input.edit-text").fill("Xavier lives in Nantes.")
                row.locator("button.save").click()
                sync_api.expect(row).to_contain_text("Xavier lives in Nantes.")
            finally:
                browser.close()
        with server.client(key) as http:
            assert (
                http.get(f"/v1/memories/{item['id']}").json()["text"] == "Xavier lives in Nantes."
            )
