"""Images: how a reference is read and matched, and what some images need at run time that admission cannot see
(data/image-requirements.yaml).

One vocabulary for the planner and the practice cluster's simulator (its ``data/images``): an entry names its
``repositories``; ``image_user`` is the UID the image runs as when the pod sets none (its Dockerfile USER; no
USER = 0); ``needs_uid`` the only UID its process works under; ``why`` the reason. A repository matches an image
on any registry (a mirror is the same image) unless it names its registry host (``docker.io/team/*``,
``quay.io/team/app``); shell-style wildcards work."""

from __future__ import annotations

import fnmatch
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources

import yaml

from ..errors import UsageError

DOCKER_HUB = "docker.io"


def _is_registry_host(part: str) -> bool:
    return "." in part or ":" in part or part == "localhost"


@dataclass(frozen=True)
class ImageRef:
    """An image reference, read as container runtimes read it."""

    registry: str  # docker.io when none is given
    repository: str  # the path without the registry; Docker Hub's "library/" dropped
    tag: str  # "latest" when none is given; the digest when there is one

    @property
    def reference(self) -> str:
        return f"{self.registry}/{self._remote_path}:{self.tag}"

    @property
    def full_repository(self) -> str:
        return f"{self.registry}/{self._remote_path}"

    @property
    def _remote_path(self) -> str:
        if self.registry == DOCKER_HUB and "/" not in self.repository:
            return f"library/{self.repository}"
        return self.repository

    def matches(self, pattern: str) -> bool:
        """``team/app`` or ``team/*`` (on any registry), or ``docker.io/team/*`` and ``quay.io/team/app`` (on
        that registry only)."""
        host, _, path = pattern.partition("/")
        if path and _is_registry_host(host):
            registry = _registry(host)
            if registry != self.registry:
                return False
            pattern = path.removeprefix("library/") if registry == DOCKER_HUB else path
        else:
            pattern = pattern.removeprefix("library/")
        return fnmatch.fnmatchcase(self.repository, pattern)

    def matches_any(self, patterns) -> bool:
        return any(self.matches(p) for p in patterns or ())


def _registry(host: str) -> str:
    return DOCKER_HUB if host in ("index.docker.io", "registry-1.docker.io") else host


def parse_image(image: str) -> ImageRef:
    """'quay.io/team/app:1.2' -> ImageRef('quay.io', 'team/app', '1.2'); 'nginx' -> ('docker.io', 'nginx',
    'latest')."""
    name, _, digest = image.partition("@")
    tag = "latest"
    if ":" in name.rsplit("/", 1)[-1]:
        name, tag = name.rsplit(":", 1)
    if digest:
        tag = digest
    first, _, rest = name.partition("/")
    if rest and _is_registry_host(first):
        registry, repository = _registry(first), rest
    else:
        registry, repository = DOCKER_HUB, name
    if registry == DOCKER_HUB:
        repository = repository.removeprefix("library/")
    return ImageRef(registry, repository, tag)


def image_repository(image: str) -> str:
    """'quay.io/team/app:1.2' -> 'team/app': drops the registry host, the tag and the digest."""
    return parse_image(image).repository


@dataclass(frozen=True)
class ImageRequirement:
    repositories: tuple[str, ...]
    image_user: int | None = None
    needs_uid: int | None = None
    why: str = ""


@lru_cache(maxsize=1)
def _packaged_requirements() -> tuple[ImageRequirement, ...]:
    text = resources.files(__package__).joinpath("data", "image-requirements.yaml").read_text(encoding="utf-8")
    return tuple(_entries(yaml.safe_load(text)))


def load_image_requirements(source=None) -> list[ImageRequirement]:
    """The packaged file, or a path / already-parsed mapping given by the caller."""
    if source is None:
        return list(_packaged_requirements())
    if isinstance(source, dict):
        data = source
    else:
        try:
            with open(source, encoding="utf-8") as handle:
                data = yaml.safe_load(handle)
        except (OSError, yaml.YAMLError) as err:
            raise UsageError(
                f"Cannot read the image requirements file {source} ({err}); pass a readable YAML file."
            ) from None
    return _entries(data)


def _entries(data) -> list[ImageRequirement]:
    entries = []
    for entry in (data or {}).get("images") or []:
        entries.append(
            ImageRequirement(
                tuple(entry.get("repositories") or ()),
                entry.get("image_user"),
                entry.get("needs_uid"),
                " ".join(str(entry.get("why") or "").split()),
            )
        )
    return entries


def requirement_for(image: str, requirements) -> ImageRequirement | None:
    ref = parse_image(image or "")
    for entry in requirements:
        if ref.matches_any(entry.repositories):
            return entry
    return None


def unknown_images(images, requirements) -> list[str]:
    """The images (as written, each once, in order) that no entry of the requirements matches: what they need at
    run time is unknown, so only their security context can be planned for."""
    return [image for image in dict.fromkeys(images) if requirement_for(image, requirements) is None]
