"""Status conditions as controllers and the pod lifecycle keep them: a condition's transition time moves only when
its status changes."""

from __future__ import annotations

from ..timestamps import rfc3339


def set_condition(
    conditions: list[dict], ctype: str, status: str, reason: str, message: str, now: float, *, probe_time: bool = False
) -> list[dict]:
    """Return conditions with ``ctype`` set; lastTransitionTime moves only when the status changes."""
    out, found = [], False
    for c in conditions:
        if c.get("type") != ctype:
            out.append(c)
            continue
        found = True
        new = dict(c, status=status, reason=reason, message=message)
        if c.get("status") != status:
            new["lastTransitionTime"] = rfc3339(now)
        if probe_time:
            new["lastUpdateTime"] = (
                rfc3339(now)
                if c.get("status") != status or c.get("reason") != reason or c.get("message") != message
                else c.get("lastUpdateTime", rfc3339(now))
            )
        out.append(new)
    if not found:
        cond = {
            "type": ctype,
            "status": status,
            "reason": reason,
            "message": message,
            "lastTransitionTime": rfc3339(now),
        }
        if probe_time:
            cond["lastUpdateTime"] = rfc3339(now)
        out.append(cond)
    return out
