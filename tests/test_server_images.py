"""Pictures over HTTP: fetched by URL by their owner; the server's paths never shown."""

from __future__ import annotations

from pathlib import Path

from PIL import Image
from server_support import live_server

from confidante import Memory

QUESTION = {"role": "user", "content": "Which picture of a red square did I keep?"}


def test_image_items_show_a_url_never_a_server_path(tmp_path: Path) -> None:
    with live_server(tmp_path) as server:
        ana, bob = server.key_for("ana"), server.key_for("bob")
        memory = Memory.open(settings=server.settings)
        item_id = memory.remember_image(
            "ana", Image.new("RGB", (8, 8), "red"), caption="a red square I painted"
        )
        memory.close()
        secret = str(server.settings.data_dir)
        url = f"/v1/memories/{item_id}/image"
        with server.client(ana) as http:
            listed = http.get("/v1/memories")
            assert secret not in listed.text and "image_path" not in listed.text
            (item,) = [i for i in listed.json()["data"] if i["id"] == item_id]
            assert item["image_url"] == url
            assert http.get(f"/v1/memories/{item_id}").json()["image_url"] == url
            picture = http.get(url)
            assert picture.status_code == 200 and picture.headers["content-type"] == "image/png"
            assert picture.content.startswith(b"\x89PNG")
            chat = http.post("/v1/chat/completions", json={"model": "x", "messages": [QUESTION]})
            assert secret not in chat.text
            recalled = chat.json()["confidante"]["recalled"]
            assert any(i.get("image_url") == url for i in recalled)
            streamed = http.post(
                "/v1/chat/completions",
                json={"model": "x", "messages": [QUESTION], "stream": True},
            )
            assert streamed.status_code == 200 and url in streamed.text
            assert secret not in streamed.text
            text_only = http.post("/v1/memories", json={"text": "I live in Lisbon."}).json()
            assert text_only["image_url"] is None
            assert http.get(f"/v1/memories/{text_only['id']}/image").status_code == 404
        with server.client(bob) as http:
            assert http.get(url).status_code == 404  # another user's picture: as if missing
