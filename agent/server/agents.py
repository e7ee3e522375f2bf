"""One :class:`~confidante.Agent` per user, built lazily over a shared memory and model.

The server process holds one :class:`~confidante.memory.store.Memory` and one chat model; each
user who talks gets an agent (their own graph and checkpoint connection) on first use. Turns of
one user's session run one at a time (a conversation thread is a sequence); different users
and sessions run concurrently. The least recently used idle agents are closed past
``max_agents``.
"""

from __future__ import annotations

import asyncio
import logging
from collections import OrderedDict
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager

from langchain_core.language_models import BaseChatModel
from langchain_core.tools import BaseTool

from confidante.agent import Agent
from confidante.memory.store import Memory
from confidante.settings import Settings

logger = logging.getLogger(__name__)


class AgentPool:
    """Per-user agents over shared dependencies.

    Args:
        settings: Settings every agent gets.
        memory: The shared memory.
        model: The shared chat model.
        tools: Extra tools every agent gets (besides the memory tools).
        max_agents: Idle agents beyond this number are closed, least recently used first.
        agent_class: The agent class (a subclass of :class:`~confidante.Agent` adds behaviour).
    """

    def __init__(
        self,
        settings: Settings,
        memory: Memory,
        model: BaseChatModel,
        tools: Sequence[BaseTool] = (),
        max_agents: int = 256,
        agent_class: type[Agent] = Agent,
    ) -> None:
        self.settings = settings
        self.memory = memory
        self.model = model
        self.tools = list(tools)
        self.max_agents = max(1, max_agents)
        self.agent_class = agent_class
        self._agents: OrderedDict[str, Agent] = OrderedDict()
        self._busy: dict[str, int] = {}
        self._threads: dict[tuple[str, str], asyncio.Lock] = {}

    def _agent(self, user_id: str) -> Agent:
        agent = self._agents.get(user_id)
        if agent is None:
            agent = self.agent_class(
                user_id,
                settings=self.settings,
                model=self.model,
                memory=self.memory,
                tools=self.tools,
            )
            self._agents[user_id] = agent
        self._agents.move_to_end(user_id)
        return agent

    @asynccontextmanager
    async def using(self, user_id: str) -> AsyncIterator[Agent]:
        """Lend the user's agent for the duration of the block (it is not closed meanwhile)."""
        agent = self._agent(user_id)
        self._busy[user_id] = self._busy.get(user_id, 0) + 1
        try:
            yield agent
        finally:
            self._busy[user_id] -= 1
            if not self._busy[user_id]:
                del self._busy[user_id]
            await self._evict()

    @asynccontextmanager
    async def turn(self, user_id: str, session_id: str) -> AsyncIterator[Agent]:
        """Lend the user's agent with the session's turn lock held (one turn per thread)."""
        lock = self._threads.setdefault((user_id, session_id), asyncio.Lock())
        async with lock, self.using(user_id) as agent:
            yield agent

    async def _evict(self) -> None:
        while len(self._agents) > self.max_agents:
            idle = next((user for user in self._agents if user not in self._busy), None)
            if idle is None:
                return
            agent = self._agents.pop(idle)
            for key in [key for key in self._threads if key[0] == idle]:
                if not self._threads[key].locked():
                    del self._threads[key]
            await agent.aclose()

    async def aclose(self) -> None:
        """Close every agent (waits for their background work)."""
        agents = list(self._agents.values())
        self._agents.clear()
        for agent in agents:
            try:
                await agent.aclose()
            except Exception:  # closing the rest matters more
                logger.exception("closing an agent failed")
