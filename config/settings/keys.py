"""Signing keys for the profiles that may make their own (local, test)."""

from __future__ import annotations

from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa


def generate_rsa_private_key_pem() -> str:
    """A new 2048-bit RSA key in PKCS#8 PEM, for signing the app's JWT access tokens."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()


def load_or_create_private_key(path: Path) -> str:
    """Read the key at ``path``, creating it (mode 0600) on first use.

    The local profile keeps its key under ``var/`` so that tokens survive a restart.
    """
    if path.is_file():
        return path.read_text()
    path.parent.mkdir(parents=True, exist_ok=True)
    pem = generate_rsa_private_key_pem()
    path.write_text(pem)
    path.chmod(0o600)
    return pem


if __name__ == "__main__":
    # python -m config.settings.keys PATH: create the key file once (docker-compose's init).
    import sys

    target = Path(sys.argv[1] if len(sys.argv) > 1 else "var/jwt-private-key.pem")
    existed = target.is_file()
    load_or_create_private_key(target)
    print(f"jwt key {'kept' if existed else 'created'}: {target}")
