"""`until_stopped`: how the agent, the simulator and the gateway wait for SIGTERM/SIGINT."""

from __future__ import annotations

import asyncio
import os
import signal

from iconctl.http.server import until_stopped


def test_a_signal_sent_from_the_ready_callback_is_handled_and_handlers_are_removed():
    seen: list[str] = []

    def ready() -> None:
        # as a parent does once it has read the ready line: the handlers must be in place
        seen.append("ready")
        os.kill(os.getpid(), signal.SIGUSR1)
        os.kill(os.getpid(), signal.SIGTERM)

    async def main() -> None:
        await asyncio.wait_for(
            until_stopped(ready, {signal.SIGUSR1: lambda: seen.append("usr1")}), timeout=5
        )

    asyncio.run(main())
    assert seen == ["ready", "usr1"]
    assert signal.getsignal(signal.SIGTERM) == signal.SIG_DFL
    assert signal.getsignal(signal.SIGUSR1) == signal.SIG_DFL
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler


def test_sigint_stops_it_too():
    async def main() -> None:
        await asyncio.wait_for(
            until_stopped(lambda: os.kill(os.getpid(), signal.SIGINT)), timeout=5
        )

    asyncio.run(main())
