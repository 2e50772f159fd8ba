"""Finding an entity's cephx secret: `key`, `keyfile`, or the first keyring that has it.

Daemons and clients alike authenticate with the secret this returns; upstream's search
order and errors (ENOENT when no keyring names the entity, EINVAL for a malformed key).
"""

from __future__ import annotations

import errno
import os

from pyceph.common.config import CephConfig
from pyceph.common.errors import CephError
from pyceph.common.keyring import Keyring, decode_secret


def load_secret(config: CephConfig) -> bytes:
    """The entity's cephx secret from `key`, `keyfile` or the first keyring that has it."""
    name = config.name
    key = str(config.get("key") or "")
    if key:
        return _decode(key)
    keyfile = str(config.get("keyfile") or "")
    if keyfile:
        try:
            with open(keyfile) as f:
                return _decode(f.read().strip())
        except OSError as e:
            raise CephError(
                errno.ENOENT, f"unable to read keyfile {keyfile}: {e.strerror}"
            ) from None
    for path in config.keyring_paths():
        if not os.path.exists(path):
            continue
        try:
            entry = Keyring.load(path).get_key(name)
        except (OSError, ValueError):
            continue
        if entry:
            return _decode(entry)
    raise CephError(errno.ENOENT, f"unable to find a keyring for {name}")


def _decode(b64: str) -> bytes:
    try:
        return decode_secret(b64)
    except ValueError as e:
        raise CephError(errno.EINVAL, f"bad key: {e}") from None
