"""Request counting at the server, exposed at /metrics in the Prometheus text format as a real apiserver does
(`apiserver_request_total`), so benchmarks and learners can see how many calls a tool really makes."""

from __future__ import annotations

from collections import Counter

# The apiserver reports the HTTP method, except a collection GET is LIST, a watch is WATCH and server-side apply
# is APPLY; deletecollection is reported as DELETE.
REPORTED_VERB = {
    "get": "GET",
    "list": "LIST",
    "watch": "WATCH",
    "create": "POST",
    "update": "PUT",
    "patch": "PATCH",
    "apply": "APPLY",
    "delete": "DELETE",
    "deletecollection": "DELETE",
}
LABELS = ("verb", "group", "version", "resource", "subresource", "scope", "code")


class RequestCounter:
    def __init__(self):
        self.totals: Counter[tuple[str, ...]] = Counter()

    def count(
        self, *, verb: str, group: str, version: str, resource: str, subresource: str, scope: str, code: int
    ) -> None:
        self.totals[
            (REPORTED_VERB.get(verb, verb.upper()), group, version, resource, subresource, scope, str(code))
        ] += 1

    def exposition(self) -> str:
        lines = [
            "# HELP apiserver_request_total Counter of apiserver requests broken out for each verb, group, "
            "version, resource, subresource, scope and HTTP response code.",
            "# TYPE apiserver_request_total counter",
        ]
        for values, total in sorted(self.totals.items()):
            labels = ",".join(f'{key}="{value}"' for key, value in zip(LABELS, values, strict=True))
            lines.append(f"apiserver_request_total{{{labels}}} {total}")
        return "\n".join(lines) + "\n"
