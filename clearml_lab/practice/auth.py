"""Bearer tokens for the practice users, kept in the state dir, and the kubeconfig that carries them."""

from __future__ import annotations

import base64
import json
import os
from pathlib import Path

from ..credentials import OAUTH_PREFIX, new_token, oauth_token_name, write_kubeconfig
from .client import Identity

__all__ = [
    "OAUTH_GROUPS",
    "USERS",
    "Authenticator",
    "kubeconfig",
    "load_tokens",
    "oauth_token_name",
    "write_kubeconfig",
]

# The two people of the practice cluster. OpenShift's kubeadmin logs in as "kube:admin".
USERS = {
    "kubeadmin": Identity("kube:admin", ("system:cluster-admins", "system:authenticated")),
    "developer": Identity("developer", ("system:authenticated",)),
}
CLUSTER_NAME = "practice"


def load_tokens(state: Path) -> dict[str, str]:
    """context name -> token; made once and reused so kubeconfigs stay valid across restarts."""
    path = state / "tokens.json"
    if path.exists():
        return json.loads(path.read_text())
    tokens = {name: new_token() for name in USERS}
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as f:
        json.dump(tokens, f)
    return tokens


# Users other than the two above (e.g. workshop learners) log in as on OpenShift: with a `sha256~` token for which a
# cluster admin made an OAuthAccessToken object named after the token's hash, so the store never holds the token.
OAUTH_GROUPS = ("system:authenticated", "system:authenticated:oauth")


class Authenticator:
    def __init__(self, tokens: dict[str, str], oauth_token=None):
        self._by_token = {token: USERS[name] for name, token in tokens.items() if name in USERS}
        self._oauth_token = oauth_token  # name -> stored OAuthAccessToken or None

    def identify(self, authorization: str | None) -> Identity | None:
        if not authorization or not authorization.lower().startswith("bearer "):
            return None
        token = authorization[7:].strip()
        known = self._by_token.get(token)
        if known is not None or self._oauth_token is None or not token.startswith(OAUTH_PREFIX):
            return known
        stored = self._oauth_token(oauth_token_name(token))
        user = (stored or {}).get("userName")
        return Identity(user, OAUTH_GROUPS) if user else None


def kubeconfig(server: str, ca_pem: bytes, tokens: dict[str, str]) -> dict:
    return {
        "apiVersion": "v1",
        "kind": "Config",
        "preferences": {},
        "clusters": [
            {
                "name": CLUSTER_NAME,
                "cluster": {"server": server, "certificate-authority-data": base64.b64encode(ca_pem).decode()},
            }
        ],
        "users": [{"name": name, "user": {"token": tokens[name]}} for name in USERS],
        # No namespace in the contexts: the lab then works in its own default project (clearml), as the recipe
        # does; a workshop learner's kubeconfig names the learner's project instead.
        "contexts": [{"name": name, "context": {"cluster": CLUSTER_NAME, "user": name}} for name in USERS],
        "current-context": "kubeadmin",
    }
