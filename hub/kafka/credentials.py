"""Principals' SCRAM passwords kept in a folder (`<local cluster>/credentials/<name>.password`,
0600): where `hub kafka credentials` and `hub topics ensure` put the passwords they make, and
where the settings find a principal's password outside production.

The local cluster (`hubdev.kafka`) keeps its admin's password here too; the runtime needs only
these few lines of it, so they live here and not with the launcher.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Final

from pydantic import SecretStr

__all__ = ["ADMIN", "read_password", "store_password"]

# The cluster's administrator: a super user, made at format time; `hub topics ensure`,
# `hub acl apply` and `hub kafka credentials` act as it.
ADMIN: Final = "admin"


def read_password(folder: Path, principal: str) -> SecretStr | None:
    """The password stored for `principal` in `folder`, or None."""
    try:
        text = (folder / f"{principal}.password").read_text().strip()
    except FileNotFoundError:
        return None
    return SecretStr(text) if text else None


def store_password(folder: Path, principal: str, password: SecretStr) -> SecretStr:
    """Keep `principal`'s password in `folder`, readable by this user only."""
    folder.mkdir(parents=True, exist_ok=True)
    folder.chmod(0o700)
    path = folder / f"{principal}.password"
    partial = path.with_name(f".{path.name}.partial")
    partial.unlink(missing_ok=True)
    # Created with its final mode: a password is never readable by others, not even for a moment.
    fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(password.get_secret_value())
    partial.replace(path)
    return password
