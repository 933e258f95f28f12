"""One API request as the chain sees it after authentication: who, which verb on which resource, and its options."""

from __future__ import annotations

from dataclasses import dataclass, field

from ..timestamps import rfc3339
from .client import Identity
from .registry import ResourceType


def now() -> str:
    return rfc3339()


@dataclass
class Request:
    identity: Identity
    verb: str
    rt: ResourceType
    namespace: str = ""
    name: str = ""
    subresource: str = ""
    params: dict = field(default_factory=dict)
    user_agent: str = ""
    warnings: list[str] = field(default_factory=list)

    @property
    def dry_run(self) -> bool:
        return self.params.get("dryRun") == "All"

    @property
    def field_manager(self) -> str:
        if self.params.get("fieldManager"):
            return self.params["fieldManager"]
        return (self.user_agent.split("/")[0] or "unknown") if self.user_agent else "unknown"
