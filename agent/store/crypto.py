"""Encryption of patient content at rest (AES-256-GCM from ``cryptography``).

Every encrypted value is bound to the table and the patient it belongs to
(associated data), so a ciphertext copied into another patient's row fails
to decrypt instead of leaking across patients. The key lives outside the
database: a key file created with mode 0600 on first run, or ``ATTUNE_KEY``.
"""

from __future__ import annotations

import base64
import json
import os
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from attune.common.errors import ConfigError, StorageError

__all__ = ["Cipher", "load_or_create_key"]

_NONCE_BYTES = 12


def load_or_create_key(key_file: Path, key_text: str | None = None) -> bytes:
    """Return the 32-byte key from ``key_text``, or the key file (made if absent)."""
    if key_text:
        return _decode_key(key_text, "ATTUNE_KEY")
    if key_file.exists():
        mode = key_file.stat().st_mode & 0o777
        if mode & 0o077:
            os.chmod(key_file, 0o600)  # tighten a key file someone loosened
        return _decode_key(key_file.read_text().strip(), str(key_file))
    key_file.parent.mkdir(parents=True, exist_ok=True)
    key = AESGCM.generate_key(bit_length=256)
    fd = os.open(key_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as fh:
        fh.write(base64.urlsafe_b64encode(key).decode() + "\n")
    return key


def _decode_key(text: str, where: str) -> bytes:
    try:
        key = base64.urlsafe_b64decode(text.encode())
    except ValueError:
        key = b""
    if len(key) != 32:
        raise ConfigError(f"The encryption key in {where} is not a 32-byte url-safe base64 key.")
    return key


class Cipher:
    """Encrypts and decrypts text and JSON for one key."""

    def __init__(self, key: bytes):
        self._aead = AESGCM(key)

    def encrypt(self, text: str, context: str) -> bytes:
        nonce = os.urandom(_NONCE_BYTES)
        return nonce + self._aead.encrypt(nonce, text.encode("utf-8"), context.encode())

    def decrypt(self, blob: bytes, context: str) -> str:
        try:
            plain = self._aead.decrypt(blob[:_NONCE_BYTES], blob[_NONCE_BYTES:], context.encode())
        except InvalidTag:
            raise StorageError(
                "Stored data could not be decrypted: the encryption key does not match "
                "this database, or a record was moved between patients."
            ) from None
        return plain.decode("utf-8")

    def encrypt_json(self, value: Any, context: str) -> bytes:
        return self.encrypt(json.dumps(value, ensure_ascii=False, default=str), context)

    def decrypt_json(self, blob: bytes | None, context: str) -> Any:
        return None if blob is None else json.loads(self.decrypt(blob, context))
