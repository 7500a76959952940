"""Credentials of the remote systems, resolved from a reference the topology names.

A reference ``ref`` is read from ``DVC_HUB_CRED_<REF>_USERNAME`` / ``..._PASSWORD`` variables or from files
``<secrets_dir>/<ref>/username`` and ``.../password`` (the Docker/Kubernetes secrets layout); never from the topology.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from pydantic import SecretStr

from foundation.errors import ConfigurationError
from foundation.settings import Settings, get_settings
from foundation.topology import System


@dataclass(frozen=True, slots=True)
class Credentials:
    """A username and password for a remote system; the password never prints."""

    username: str
    password: SecretStr

    def __repr__(self) -> str:
        return f"Credentials(username={self.username!r}, password=***)"


def credentials(ref: str, settings: Settings | None = None) -> Credentials:
    """Resolve a topology's credentials reference from the environment or the secrets directory."""
    settings = settings or get_settings()
    key = ref.upper().replace("-", "_").replace(".", "_")
    username = os.environ.get(f"DVC_HUB_CRED_{key}_USERNAME")
    password = os.environ.get(f"DVC_HUB_CRED_{key}_PASSWORD")
    if (username is None or password is None) and settings.secrets_dir is not None:
        folder = settings.secrets_dir / ref
        if folder.is_dir():
            username = username or _read_secret(folder / "username")
            password = password or _read_secret(folder / "password")
    if username is None or password is None:
        raise ConfigurationError(
            f"Thiếu thông tin đăng nhập cho {ref!r}: đặt DVC_HUB_CRED_{key}_USERNAME và _PASSWORD "
            f"(missing credentials for reference {ref!r})"
        )
    return Credentials(username, SecretStr(password))


def _read_secret(path: Path) -> str | None:
    return path.read_text(encoding="utf-8").strip() if path.is_file() else None


def credentials_for(system: System, settings: Settings | None = None) -> Credentials:
    """The credentials a system's topology entry refers to; ConfigurationError when it names none."""
    if system.credentials is None:
        raise ConfigurationError(f"Hệ thống {system.name} chưa khai báo credentials / {system.name} has no credentials")
    return credentials(system.credentials, settings)
