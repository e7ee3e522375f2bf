"""Use a confidante server from any OpenAI client: the API key decides whose memory is used.

This starts the real server (uvicorn) in-process on a free loopback port, with the scripted
model and a throw-away data directory, makes a key for one user, then talks to it with the
official ``openai`` package (normal and streaming) and reads the memory API with ``httpx``.
Against a running ``confidante serve``, only ``base_url`` and the key change.

    python examples/http_client.py
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import httpx
import openai

from confidante.server import ServerSettings, create_app, running_server

with tempfile.TemporaryDirectory() as folder:
    settings = ServerSettings(
        data_dir=Path(folder) / "data",
        model="scripted",
        database_url=None,
        admin_key="example-admin-key",
    )
    with running_server(create_app(settings)) as base_url:
        # The admin key makes a key for a user (or: `confidante keys create --user lena`).
        made = httpx.post(
            f"{base_url}/v1/admin/keys",
            json={"user": "lena"},
            headers={"Authorization": "Bearer example-admin-key"},
        )
        key = made.json()["key"]

        client = openai.OpenAI(base_url=f"{base_url}/v1", api_key=key)
        first = client.chat.completions.create(
            model="confidante",
            messages=[{"role": "user", "content": "My brother is called Tomas."}],
        )
        print("reply:", first.choices[0].message.content)
        print(
            "remembered:",
            [m["text"] for m in (first.model_extra or {})["confidante"]["remembered"]],
        )

        print("streamed:", end=" ")
        for chunk in client.chat.completions.create(
            model="confidante",
            messages=[{"role": "user", "content": "What is my brother called?"}],
            stream=True,
        ):
            if chunk.choices and chunk.choices[0].delta.content:
                print(chunk.choices[0].delta.content, end="", flush=True)
        print()

        memory_api = httpx.Client(base_url=base_url, headers={"Authorization": f"Bearer {key}"})
        items = memory_api.get("/v1/memories", params={"query": "brother"}).json()["data"]
        print("search 'brother':", [(item["id"][:8], item["text"]) for item in items])
        memory_api.delete(f"/v1/memories/{items[0]['id']}")
        print("after forget:", memory_api.get("/v1/memories").json()["data"])
        memory_api.close()
