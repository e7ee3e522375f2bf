"""The web page in real headless Chromium: phone width, reload, streaming, undoing a forget, icon.

One server (scripted model, held back on demand) and one browser serve every test; each test
has its own user and a fresh browser context. See ``test_server_browser.py`` for the chat and
memory panel basics.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from browser_support import chromium_path
from server_support import GatedModel, LiveServer, live_server

pytestmark = pytest.mark.slow
sync_api = pytest.importorskip("playwright.sync_api")
UNDO_MS = 6_000  # app.js: how long a forget can be undone


@pytest.fixture(scope="module")
def model() -> GatedModel:
    gate = threading.Event()
    gate.set()
    return GatedModel(gate=gate)


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory, model: GatedModel) -> Iterator[LiveServer]:
    with live_server(tmp_path_factory.mktemp("page"), model=model) as live:
        yield live
    model.gate.set()


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    executable = chromium_path()
    sync_api.expect.set_options(timeout=30_000)  # the machine may be busy: embeddings are slow
    with sync_api.sync_playwright() as playwright:
        launched = playwright.chromium.launch(
            executable_path=executable, headless=True, args=["--no-sandbox"]
        )
        try:
            yield launched
        finally:
            launched.close()


def _open(browser: Any, server: LiveServer, key: str, **context: Any) -> Any:
    """A page of a fresh context, connected with ``key``."""
    page = browser.new_context(**context).new_page()
    page.goto(server.url + "/")
    page.fill("#api-key", key)
    page.click("#save-key")
    sync_api.expect(page.locator("#whoami")).to_have_text("connected")
    return page


def _chat(page: Any, text: str) -> Any:
    """Send ``text`` and return the locator of its finished reply."""
    before = page.locator("#log li.assistant.done").count()
    page.fill("#message", text)
    page.click("#send")
    reply = page.locator("#log li.assistant.done").nth(before)
    sync_api.expect(reply).not_to_have_text("…")
    return reply


_REPLY_ONLY = """li => Array.from(li.childNodes)
    .filter(node => !(node.classList && node.classList.contains("usage")))
    .map(node => node.textContent).join("")"""


def _reply_text(reply: Any) -> str:
    """A finished reply's text, without the usage line the page shows under it."""
    return str(reply.evaluate(_REPLY_ONLY))


def test_at_phone_width_nothing_scrolls_sideways(browser: Any, server: LiveServer) -> None:
    key = server.key_for("phoebe")
    with server.client(key) as http:
        http.post("/v1/memories", json={"text": "Phoebe's wifi password is " + "x" * 90})
    page = _open(browser, server, key, viewport={"width": 390, "height": 844})
    width = "() => [document.documentElement.scrollWidth, document.documentElement.clientWidth]"
    scroll, client = page.evaluate(width)
    assert client == 390 and scroll <= client, (scroll, client)
    sync_api.expect(page.locator("#memories li[data-id]")).to_have_count(1)
    _chat(page, "Remember this code: " + "Z" * 150)
    scroll, client = page.evaluate(width)
    assert scroll <= client, (scroll, client)
    header = page.locator("header").bounding_box()
    assert header is not None and header["width"] <= 390
    page.context.close()


def test_a_reload_shows_the_conversation_again(browser: Any, server: LiveServer) -> None:
    key, other = server.key_for("rita"), server.key_for("otto")
    page = _open(browser, server, key)
    reply = _reply_text(_chat(page, "My cat is called Miso."))
    second_reply = _chat(page, "What is my cat called?")
    second = _reply_text(second_reply)
    assert "Miso" in second
    sync_api.expect(second_reply.locator("small.usage")).to_contain_text("tokens")
    page.reload()
    sync_api.expect(page.locator("#whoami")).to_have_text("connected")
    users = page.locator("#log li.user")
    sync_api.expect(users).to_have_text(["My cat is called Miso.", "What is my cat called?"])
    # the thread is shown again; the usage lines were for replies made on this page
    sync_api.expect(page.locator("#log li.assistant")).to_have_text([reply, second])
    page.locator("#log li.assistant").first.click()
    sync_api.expect(page.locator("#recalled li.empty")).to_contain_text("before a reload")
    # another key in the same browser (same session name, "web") sees none of it
    page.fill("#api-key", other)
    page.click("#save-key")
    sync_api.expect(page.locator("#whoami")).to_have_text("connected")
    sync_api.expect(page.locator("#log li")).to_have_count(0)
    page.reload()
    sync_api.expect(page.locator("#whoami")).to_have_text("connected")
    sync_api.expect(page.locator("#log li")).to_have_count(0)
    page.context.close()


def test_the_reply_appears_word_by_word(
    browser: Any, server: LiveServer, model: GatedModel
) -> None:
    page = _open(browser, server, server.key_for("stella"))
    model.gate.clear()
    model.finished = False
    try:
        page.fill("#message", "Hi?")
        page.click("#send")
        streaming = page.locator("#log li.assistant.streaming")
        sync_api.expect(streaming).to_have_text("I ")  # the first word, the model held back
        assert not model.finished
        sync_api.expect(page.locator("#log li.assistant.done")).to_have_count(0)
    finally:
        model.gate.set()
    done = page.locator("#log li.assistant.done")
    sync_api.expect(done).to_contain_text("I don't know that yet.")
    assert _reply_text(done) == "I don't know that yet."
    sync_api.expect(done.locator("small.usage")).to_contain_text("tokens")
    assert model.finished
    page.context.close()


def test_a_forget_can_be_undone_until_its_time_is_up(browser: Any, server: LiveServer) -> None:
    key = server.key_for("uma")
    with server.client(key) as http:
        kept = http.post("/v1/memories", json={"text": "Uma plays the cello."}).json()
        gone = http.post("/v1/memories", json={"text": "Uma's locker code is 4512."}).json()
    context = browser.new_context()
    page = context.new_page()
    page.clock.install()
    deletes: list[str] = []
    page.on("request", lambda r: deletes.append(r.url) if r.method == "DELETE" else None)
    page.goto(server.url + "/")
    page.fill("#api-key", key)
    page.click("#save-key")
    row = page.locator(f"#memories li[data-id='{kept['id']}']")
    row.locator("button.forget").click()
    sync_api.expect(row).to_have_class("pending")
    row.locator("button.undo").click()
    sync_api.expect(row.locator("button.forget")).to_be_visible()
    page.clock.run_for(UNDO_MS * 2)  # long past the undo time: nothing is sent

    other = page.locator(f"#memories li[data-id='{gone['id']}']")
    other.locator("button.forget").click()
    sync_api.expect(other.locator("button.undo")).to_be_visible()
    page.clock.run_for(UNDO_MS - 1_000)
    assert deletes == []  # still undoable
    page.clock.run_for(2_000)
    sync_api.expect(other).to_have_count(0)
    sync_api.expect(row).to_be_visible()
    assert [url.rsplit("/", 1)[1] for url in deletes] == [gone["id"]]
    with server.client(key) as http:
        assert http.get(f"/v1/memories/{kept['id']}").status_code == 200
        assert http.get(f"/v1/memories/{gone['id']}").status_code == 404
    context.close()


def test_leaving_before_the_undo_time_still_forgets(browser: Any, server: LiveServer) -> None:
    key = server.key_for("lea")
    with server.client(key) as http:
        item = http.post("/v1/memories", json={"text": "Lea's passport number is X123."}).json()
    page = _open(browser, server, key)
    row = page.locator(f"#memories li[data-id='{item['id']}']")
    row.locator("button.forget").click()
    sync_api.expect(row).to_have_class("pending")
    page.reload()  # well within the undo time
    sync_api.expect(page.locator("#whoami")).to_have_text("connected")
    sync_api.expect(page.locator("#memories li.empty")).to_be_visible()
    assert page.evaluate("() => localStorage.getItem('confidante.forgetting')") is None
    with server.client(key) as http:
        assert http.get(f"/v1/memories/{item['id']}").status_code == 404
    page.context.close()


def test_the_page_has_an_icon_and_no_request_fails(browser: Any, server: LiveServer) -> None:
    key = server.key_for("ivy")
    context = browser.new_context()
    page = context.new_page()
    failures: list[str] = []
    page.on("response", lambda r: failures.append(f"{r.status} {r.url}") if r.status >= 400 else 0)
    page.on("requestfailed", lambda r: failures.append(f"{r.url} {r.failure}"))
    page.goto(server.url + "/")
    page.fill("#api-key", key)
    page.click("#save-key")
    sync_api.expect(page.locator("#whoami")).to_have_text("connected")
    _chat(page, "Hello there.")
    href = page.locator("link[rel=icon]").get_attribute("href")
    assert href == "/static/favicon.svg"
    for path in (href, "/favicon.ico"):
        icon = httpx.get(server.url + path)
        assert icon.status_code == 200, path
        assert icon.headers["content-type"].startswith("image/svg+xml")
        assert icon.text.startswith("<svg")
    assert failures == []
    context.close()


def test_the_page_sets_model_text_as_text_never_html() -> None:
    script = (Path(__file__).parents[1] / "agent" / "server" / "static" / "app.js").read_text()
    assert "innerHTML" not in script and "insertAdjacentHTML" not in script
