"""Field encryption for write-only values and auth tokens (Fernet, key derived by HKDF)."""

from __future__ import annotations

import hmac
import json
import secrets as _secrets
from base64 import urlsafe_b64encode
from functools import lru_cache

from cryptography.fernet import Fernet, InvalidToken
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF


@lru_cache(maxsize=16)
def derive_key(secret_key: str, purpose: str) -> bytes:
    """32 bytes of key material for one purpose, derived from the configured secret."""
    return HKDF(
        algorithm=hashes.SHA256(), length=32, salt=b"portico", info=purpose.encode()
    ).derive(secret_key.encode())


class Cipher:
    """Encrypts small values for storage. Ciphertexts are opaque strings."""

    def __init__(self, secret_key: str):
        self._fernet = Fernet(urlsafe_b64encode(derive_key(secret_key, "field-encryption")))

    def encrypt(self, value: str) -> str:
        return self._fernet.encrypt(value.encode()).decode()

    def decrypt(self, token: str) -> str:
        try:
            return self._fernet.decrypt(token.encode()).decode()
        except InvalidToken as exc:  # wrong key or tampered row: never echo the value
            raise ValueError("stored secret cannot be decrypted") from exc

    def encrypt_json(self, value: dict[str, str]) -> str:
        return self.encrypt(json.dumps(value, sort_keys=True))

    def decrypt_json(self, token: str) -> dict[str, str]:
        data = json.loads(self.decrypt(token))
        assert isinstance(data, dict)
        return data


def new_token() -> str:
    return _secrets.token_hex(16)


def same(a: str, b: str) -> bool:
    """Constant-time comparison of two secrets."""
    return hmac.compare_digest(a.encode(), b.encode())
