"""Talk to `confidante mcp` with the official MCP SDK's client, as a desktop assistant would.

python examples/mcp_client.py [DATA_DIR]

It starts the server over stdio for one user (the user is fixed by the server, never passed
by the client), then remembers, recalls and forgets through MCP tool calls.
"""

from __future__ import annotations

import asyncio
import os
import sys
import tempfile

from mcp import ClientSession, StdioServerParameters, stdio_client


async def main(data_dir: str) -> None:
    server = StdioServerParameters(
        command=sys.executable,
        args=["-m", "confidante.cli", "mcp", "--user", "ana"],
        # only the example's folder: never the database of CONFIDANTE_DATABASE_URL
        env={**os.environ, "CONFIDANTE_DATA_DIR": data_dir, "CONFIDANTE_DATABASE_URL": ""},
    )
    with open(os.devnull, "w") as quiet:  # the server's log lines
        async with (
            stdio_client(server, errlog=quiet) as (read, write),
            ClientSession(read, write) as session,
        ):
            await session.initialize()
            tools = (await session.list_tools()).tools
            print("tools:", ", ".join(tool.name for tool in tools))

            for fact in ["Ana's sister lives in Madrid.", "Ana is allergic to peanuts."]:
                result = await session.call_tool("remember", {"text": fact})
                print("remembered:", fact, "->", result.content[0].text[:8])  # type: ignore[union-attr]

            result = await session.call_tool(
                "recall", {"query": "is Ana allergic to anything?", "k": 1}
            )
            (best,) = result.structured_content["result"]  # type: ignore[index]
            print(f"recall: {best['text']} (score {best['score']:.2f})")

            await session.call_tool("forget", {"item_id": best["id"]})
            result = await session.call_tool(
                "recall", {"query": "is Ana allergic to anything?", "k": 5}
            )
            print("after forget:", [hit["text"] for hit in result.structured_content["result"]])  # type: ignore[index]

            reminder = await session.call_tool("add_reminder", {"text": "call the dentist"})
            print(reminder.content[0].text)  # type: ignore[union-attr]


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1] if len(sys.argv) > 1 else tempfile.mkdtemp()))
