"""Backend tokens kept in the shared state store, encrypted, so replicas log in once per credential.

A :class:`SharedTokens` reads and writes one credential's token pair under a key naming the
source, the org and a fingerprint of the credential's non-secret settings (a changed user or
URL is another credential). The value is AES-GCM with a key derived from ``state.secretKey``
and the store key as associated data, so a value moved to another key does not decrypt; expiry
is wall-clock (replicas share no monotonic clock). A value that does not decrypt (another
secretKey, tampering) counts as absent: the caller logs in afresh and overwrites it.

:meth:`SharedTokens.hold` is the cross-replica single-flight: a record lock (fenced, expiring,
renewed while held; see ``gateway.state.lock``), so a replica that dies mid-login frees it
after ``state.recordLockTtl``.
"""

from __future__ import annotations

import hashlib
import os
import time

import orjson
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from gateway.state.lock import Hold, RecordLocks
from gateway.upstream.tokens import Token

__all__ = ["SharedTokens", "credential_key"]

# A stored pair outlives its access token this long, so a replica can still use the refresh
# token (Sugar's live for days) rather than log in again.
_KEEP_AFTER_EXPIRY = 24 * 3600.0
_NONCE = 12


def credential_key(source: str, org: str | None, fingerprint: str) -> str:
    """The store key of one credential's token (no secret in it)."""
    digest = hashlib.sha256(fingerprint.encode()).hexdigest()[:16]
    return f"token:{source}:{org or '-'}:{digest}"


class SharedTokens:
    """One credential's token pair in the state store, encrypted with ``secret_key``."""

    def __init__(self, locks: RecordLocks, secret_key: str, key: str) -> None:
        self._locks = locks
        self._aead = AESGCM(hashlib.sha256(b"recordgate-token:" + secret_key.encode()).digest())
        self.key = key

    def hold(self) -> Hold:
        """The lock whose holder alone may log in or refresh this credential."""
        return self._locks.hold([self.key])

    async def load(self) -> Token | None:
        """The stored token, on this process's monotonic clock; None when absent or unreadable.
        ``StateUnavailable`` when the store cannot be reached."""
        blob = await self._locks.store.get(self.key)
        if blob is None or len(blob) <= _NONCE:
            return None
        try:
            plain = self._aead.decrypt(blob[:_NONCE], blob[_NONCE:], self.key.encode())
            data = orjson.loads(plain)
            access, refresh = data["a"], data.get("r")
            expires, lifetime = float(data["e"]), float(data["l"])
        except (InvalidTag, ValueError, KeyError, TypeError):
            return None
        if not isinstance(access, str) or not isinstance(refresh, str | None):
            return None
        return Token(access=access, expires_at=time.monotonic() + (expires - time.time()),
                     lifetime=lifetime, refresh=refresh)

    async def save(self, token: Token) -> None:
        """Store ``token`` (replacing any); ``StateUnavailable`` when the store is down."""
        left = token.expires_at - time.monotonic()
        plain = orjson.dumps({"a": token.access, "r": token.refresh,
                              "e": time.time() + left, "l": token.lifetime})
        nonce = os.urandom(_NONCE)
        blob = nonce + self._aead.encrypt(nonce, plain, self.key.encode())
        await self._locks.store.set(self.key, blob, max(1.0, left + _KEEP_AFTER_EXPIRY))
