"""How OpenShift spells login tokens, and how a kubeconfig holding one is written: shared by the lab (workshop logins)
and the practice cluster (its own users), which import nothing else of each other."""

from __future__ import annotations

import hashlib
import os
import secrets
from pathlib import Path

import yaml

# OpenShift's OAuth access tokens: `sha256~` and a random secret; the cluster stores only an object named after its hash.
OAUTH_PREFIX = "sha256~"


def new_token() -> str:
    return OAUTH_PREFIX + secrets.token_urlsafe(32)


def oauth_token_name(token: str) -> str:
    """The OAuthAccessToken's name for a token: OpenShift uses sha256~ + base64url of the secret's hash; the practice
    server validates names as Kubernetes does, so it spells the same hash as sha256-<hex>."""
    return "sha256-" + hashlib.sha256(token.removeprefix(OAUTH_PREFIX).encode()).hexdigest()


def write_kubeconfig(path: Path, config: dict) -> None:
    """Write a kubeconfig readable by its owner only; it appears whole, so watchers of the path never read half."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as f:
        yaml.safe_dump(config, f, sort_keys=False)
    os.replace(tmp, path)
