"""Ed25519 signature checks on a thread beside the event loop, each loop turn's checks handed over together.

Checked by libsodium (PyNaCl), which lets go of the GIL while it checks: about 57 us a signature on this project's
2-core machine, where OpenSSL's Ed25519 (cryptography) takes about 120 us. The tokens of a storm of socket connects
that need their signature checked (those without the gateway's MAC, gateway/security/token_mac.py) are checked on
another core while the loop serves the connections; one hand-over per loop turn keeps the thread hop's cost off
each check."""

import asyncio
from concurrent.futures import ThreadPoolExecutor

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from nacl.exceptions import BadSignatureError
from nacl.signing import VerifyKey

Check = tuple[VerifyKey, bytes, bytes]


def checking_key(key: Ed25519PublicKey) -> VerifyKey:
    """The same public key, for libsodium to check with."""
    return VerifyKey(key.public_bytes(Encoding.Raw, PublicFormat.Raw))


def signature_holds(key: VerifyKey, signature: bytes, data: bytes) -> bool:
    try:
        key.verify(data, signature)
    except (BadSignatureError, ValueError):  # ValueError: a signature that is not 64 bytes
        return False
    return True


def _check_all(checks: list[Check]) -> list[bool]:
    return [signature_holds(*check) for check in checks]


class SignatureChecks:
    """Checks signatures on one thread of its own; `close` lets it go."""

    def __init__(self) -> None:
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="signature-checks")
        self._pending: list[Check] = []
        self._answers: list[asyncio.Future[bool]] = []

    def check(self, key: VerifyKey, signature: bytes, data: bytes) -> "asyncio.Future[bool]":
        """Whether `signature` is `key`'s over `data`, answered once the thread has checked it."""
        loop = asyncio.get_running_loop()
        answer = loop.create_future()
        self._pending.append((key, signature, data))
        self._answers.append(answer)
        if len(self._pending) == 1:
            loop.call_soon(self._hand_over, loop)
        return answer

    def _hand_over(self, loop: asyncio.AbstractEventLoop) -> None:
        checks, answers = self._pending, self._answers
        self._pending, self._answers = [], []
        outcome = loop.run_in_executor(self._executor, _check_all, checks)

        def answer(done: "asyncio.Future[list[bool]]") -> None:
            error = done.exception() if not done.cancelled() else asyncio.CancelledError()
            for index, future in enumerate(answers):
                if future.done():
                    continue
                if error is not None:
                    future.set_exception(error)
                else:
                    future.set_result(done.result()[index])

        outcome.add_done_callback(answer)

    def close(self) -> None:
        self._executor.shutdown(wait=False, cancel_futures=True)
