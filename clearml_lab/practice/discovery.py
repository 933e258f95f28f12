"""Legacy discovery documents (/version, /api, /apis, /api/v1, /apis/<g>/<v>) built from the resource table."""

from __future__ import annotations

from .registry import Registry, Release

SERVER_ADDRESS = {"clientCIDR": "0.0.0.0/0", "serverAddress": ""}


def version(release: Release) -> dict:
    major, minor = release.major_minor
    return {
        "major": major,
        "minor": minor,
        "gitVersion": release.git_version,
        "gitCommit": "0" * 40,
        "gitTreeState": "clean",
        "buildDate": "2026-01-01T00:00:00Z",
        "goVersion": "go1.23.6",
        "compiler": "gc",
        "platform": "linux/amd64",
    }


def api_versions(host: str) -> dict:
    return {
        "kind": "APIVersions",
        "versions": ["v1"],
        "serverAddressByClientCIDRs": [{"clientCIDR": "0.0.0.0/0", "serverAddress": host}],
    }


def api_groups(registry: Registry) -> dict:
    groups = []
    for group, versions in registry.group_versions().items():
        if not group:
            continue
        gvs = [{"groupVersion": f"{group}/{v}", "version": v} for v in versions]
        groups.append({"name": group, "versions": gvs, "preferredVersion": gvs[0]})
    return {"kind": "APIGroupList", "apiVersion": "v1", "groups": groups}


def api_group(registry: Registry, group: str) -> dict | None:
    versions = registry.group_versions().get(group)
    if not versions or not group:
        return None
    gvs = [{"groupVersion": f"{group}/{v}", "version": v} for v in versions]
    return {"kind": "APIGroup", "apiVersion": "v1", "name": group, "versions": gvs, "preferredVersion": gvs[0]}


def resource_list(registry: Registry, group: str, version: str) -> dict | None:
    types = registry.in_group_version(group, version)
    if not types:
        return None
    resources = []
    for t in sorted(types, key=lambda t: t.plural):  # alphabetical, as the apiserver lists them
        entry = {
            "name": t.plural,
            "singularName": t.kind.lower(),
            "namespaced": t.namespaced,
            "kind": t.kind,
            "verbs": list(t.verbs),
        }
        if t.short_names:
            entry["shortNames"] = list(t.short_names)
        if t.categories:
            entry["categories"] = list(t.categories)
        resources.append(entry)
        for sub in t.subresources:
            spec = registry.subresource_kinds[sub]
            entry = {
                "name": f"{t.plural}/{sub}",
                "singularName": "",
                "namespaced": t.namespaced,
                "kind": spec.kind or t.kind,
                "verbs": list(spec.verbs),
            }
            if spec.group:  # e.g. deployments/scale speaks autoscaling/v1 Scale, as the apiserver advertises
                entry.update(group=spec.group, version=spec.version)
            resources.append(entry)
    return {
        "kind": "APIResourceList",
        "apiVersion": "v1",
        "groupVersion": f"{group}/{version}" if group else version,
        "resources": resources,
    }
