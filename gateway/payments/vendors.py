"""What the payments flow holds at run time: one adapter per enabled method, and the work it runs after answering."""

import asyncio
from collections.abc import Coroutine
from dataclasses import dataclass, field
from typing import Any

from providers.emulators import DarajaSandbox, PaypalSandbox, StripeSandbox
from providers.payments import PaymentProvider


@dataclass
class SandboxVendors:
    """The in-process emulators standing in for vendors without credentials (sandbox mode only)."""

    daraja: DarajaSandbox | None = None
    stripe: StripeSandbox | None = None
    paypal: PaypalSandbox | None = None


@dataclass
class PaymentVendors:
    providers: dict[str, PaymentProvider]
    # Enabled methods that cannot take payments here, with the reason (missing credentials).
    unavailable: dict[str, str]
    # The M-Pesa callback token this process accepts (configured, or generated in sandbox).
    mpesa_callback_token: str | None
    sandbox: SandboxVendors = field(default_factory=SandboxVendors)
    _tasks: set[asyncio.Task[Any]] = field(default_factory=set)

    def run_after_answer(self, work: Coroutine[Any, Any, Any], name: str) -> None:
        """Run `work` once the vendor has its answer; the task is held until it ends so it is never lost mid-way."""
        task = asyncio.get_running_loop().create_task(work, name=name)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def finish_background_work(self) -> None:
        """Wait for everything started by `run_after_answer` (shutdown, and tests that need a settled state)."""
        while self._tasks:
            await asyncio.gather(*list(self._tasks), return_exceptions=True)
