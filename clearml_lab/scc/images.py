"""Image requirements admission cannot see (data/image-requirements.yaml), matched on the image repository."""
from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from importlib import resources

import yaml

from ..errors import UsageError


def image_repository(image: str) -> str:
    """'quay.io/team/app:1.2' -> 'team/app': drops the registry host, the tag and the digest."""
    name = image.split("@", 1)[0]
    last_slash = name.rfind("/")
    colon = name.rfind(":")
    if colon > last_slash:
        name = name[:colon]
    parts = name.split("/")
    if len(parts) > 1 and ("." in parts[0] or ":" in parts[0] or parts[0] == "localhost"):
        parts = parts[1:]
    if len(parts) > 1 and parts[0] == "library":
        parts = parts[1:]
    return "/".join(parts)


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
            raise UsageError(f"Cannot read the image requirements file {source} ({err}); pass a readable YAML file.") from None
    return _entries(data)


def _entries(data) -> list[ImageRequirement]:
    entries = []
    for entry in (data or {}).get("images") or []:
        entries.append(ImageRequirement(
            tuple(entry.get("repositories") or ()),
            entry.get("image_user"),
            entry.get("needs_uid"),
            " ".join(str(entry.get("why") or "").split()),
        ))
    return entries


def requirement_for(image: str, requirements) -> ImageRequirement | None:
    repository = image_repository(image or "")
    for entry in requirements:
        if repository in entry.repositories:
            return entry
    return None


def unknown_images(images, requirements) -> list[str]:
    """The images (as written, each once, in order) that no entry of the requirements matches: what they need at
    run time is unknown, so only their security context can be planned for."""
    return [image for image in dict.fromkeys(images) if requirement_for(image, requirements) is None]
