"""The recipe as a declarative bundle a platform team reviews and applies (GitOps), and the check of a live project
against it.

``gather(lab)`` reads what the bundle needs (the values with a reason per key, the SCC grants the planner computes
from the rendered chart, the chart repository and version, the cluster's Kubernetes version and API versions) —
from the cluster and helm, changing nothing. ``render(spec)`` turns that into files (relative path → text), a pure
function: the same spec gives byte-identical files, and no token, kubeconfig or API server URL is ever in them.
``write(files, out)`` puts them in place atomically. ``check(lab, out)`` compares a bundle with the live project
and returns each difference.

    DIR/README.md                 who applies what, in which order, with the commands
    DIR/platform/                 what needs cluster-admin: the Namespace, one RoleBinding per SCC grant, an
                                  optional admin RoleBinding, kustomization.yaml
    DIR/app/                      values.yaml (a reason per key) and kustomization.yaml (helmCharts)
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
import textwrap
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from . import chart, progress
from .errors import LabError, UsageError
from .helm import Helm
from .kube import ApiFailure
from .oc import SCC_ROLE, visible_project
from .profiles import PROFILES_DIR, install_fixes, profile_description
from .scc import plan_grants
from .scc.manifests import grant_binding_marks, grant_role_bindings
from .scc.planner import DEFAULT_UID_BLOCK
from .steps.scc import existing_grants, openshift_version
from .steps.values import values_for

CHART = "clearml"
DISPLAY_NAME = "openshift.io/display-name"
DESCRIPTION = "openshift.io/description"
RBAC = "rbac.authorization.k8s.io"
# The keys of the Secret the chart reads when clearml.existingSecret names it (the chart's own clearml-conf has
# the same keys).
CREDENTIAL_KEYS = (
    "apiserver_key",
    "apiserver_secret",
    "fileserver_key",
    "fileserver_secret",
    "secure_auth_token_secret",
    "test_user_key",
    "test_user_secret",
)
BUNDLE_ENTRIES = ("README.md", "platform", "app")  # what a bundle directory holds; --force replaces only these
WIDTH = 116


@dataclass(frozen=True)
class GrantSpec:
    """One SCC grant: a RoleBinding of `system:openshift:scc:<scc>` to the service account, and why."""

    scc: str
    service_account: str
    workloads: tuple[str, ...]
    reason: str


@dataclass(frozen=True)
class BundleSpec:
    """Everything the bundle says, as data."""

    namespace: str
    release: str
    chart_version: str
    repository: str
    profile: str
    kube_version: str  # the cluster's gitVersion, as helm install sees it
    api_versions: tuple[str, ...]  # group/version and group/version/Kind, from the cluster's discovery
    openshift_version: str
    values: dict
    reasons: dict  # key path (tuple) -> why, for the keys of values
    grants: tuple[GrantSpec, ...]
    admin: str | None = None  # USER or group:NAME, made admin of the project
    credentials_secret: str = "clearml-credentials"
    notes: tuple[str, ...] = ()
    profile_description: str = ""

    @property
    def secret_name(self) -> str:
        return ((self.values.get("clearml") or {}).get("existingSecret")) or self.credentials_secret


# ---- gathering (reads the cluster; changes nothing) --------------------------------------------------------------
@dataclass(frozen=True)
class Discovery:
    """The cluster's API: what helm's capabilities see, and where each kind lives."""

    api_versions: tuple[str, ...]
    kinds: dict = field(default_factory=dict)  # (apiVersion, kind) -> (collection path prefix, plural, namespaced)

    def path(self, api_version: str, kind: str, name: str, namespace: str | None) -> str | None:
        found = self.kinds.get((api_version, kind))
        if found is None:
            return None
        prefix, plural, namespaced = found
        where = f"{prefix}/namespaces/{namespace}" if namespaced and namespace else prefix
        return f"{where}/{plural}/{name}"


def discover(kube) -> Discovery:
    """Every served group/version and group/version/Kind (helm's `--api-versions`), and the REST path of each
    kind, from the cluster's discovery documents."""
    versions, kinds = set(), {}
    group_versions = [("/api/" + v, v) for v in kube.request("GET", "/api").get("versions", [])]
    for group in kube.request("GET", "/apis").get("groups", []):
        group_versions += [(f"/apis/{v['groupVersion']}", v["groupVersion"]) for v in group.get("versions", [])]
    for prefix, group_version in group_versions:
        versions.add(group_version)
        for resource in kube.request("GET", prefix).get("resources", []):
            if "/" in resource["name"]:
                continue  # a subresource (pods/log, deployments/scale)
            versions.add(f"{group_version}/{resource['kind']}")
            kinds.setdefault((group_version, resource["kind"]), (prefix, resource["name"], resource["namespaced"]))
    return Discovery(tuple(sorted(versions)), kinds)


def chart_repository(lab) -> str:
    """The Helm repository the lab installs the chart from (the one chosen, else the practice cluster's own)."""
    return lab.chart_repo


def chart_version(lab) -> str:
    """The chart version the lab installs: chosen, kept by the helm-repo or values step, or resolved."""
    return lab.chart_version


def helm_template(
    version: str,
    repository: str,
    *,
    release: str,
    namespace: str,
    values_file: str | Path,
    kube_version: str,
    api_versions=(),
    skip_tests: bool = True,
) -> list[dict]:
    """The objects `kubectl kustomize --enable-helm` renders for a helmCharts entry: `helm template` of the package
    `helm pull` fetches from the repository, with the entry's kubeVersion, apiVersions and skipTests."""
    package = chart.chart_package(version, repository)
    args = [
        "template",
        release,
        str(package),
        "--namespace",
        namespace,
        "--kube-version",
        str(kube_version),
        "-f",
        str(values_file),
    ]
    for api_version in api_versions:
        args += ["--api-versions", str(api_version)]
    if skip_tests:
        args.append("--skip-tests")
    with tempfile.TemporaryDirectory(prefix="clearml-lab-template-") as tmp:
        result = Helm(kubeconfig=None, context=None, state_dir=Path(tmp)).run(args, cluster=False, timeout=120)
    if not result.ok:
        reason = result.error.removeprefix("Error: ").strip().rstrip(".")
        raise LabError(
            f"helm cannot render chart {CHART} {version} for Kubernetes {kube_version} with these values "
            f"({reason}): fix the values, or export again for this cluster."
        )
    return [doc for doc in yaml.safe_load_all(result.stdout) if isinstance(doc, dict) and doc.get("kind")]


def lab_values(lab) -> tuple[dict, str | None]:
    """The values the lab installs with: the values step's file when it was written (the learner may have edited
    it), else what that step would write. Also the file's text, for the comments a learner wrote in it."""
    path = lab.values_file
    if path.is_file():
        text = path.read_text()
        try:
            loaded = yaml.safe_load(text) or {}
        except yaml.YAMLError as err:
            raise LabError(
                f"{path} is not valid YAML ({err.__class__.__name__}): fix it and run the values "
                f"step's check, then export again."
            ) from None
        if not isinstance(loaded, dict):
            raise LabError(f"{path} does not hold a mapping of values: run the values step again.")
        return loaded, text
    return values_for(lab), None


def gather(lab, *, admin: str | None = None, credentials_secret: str | None = None) -> BundleSpec:
    """What the bundle of this lab says: values (profile, install fixes, the learner's overrides and edits), the
    grants the chart needs in this project from scratch, and the chart, release and cluster it is rendered for.
    Nothing is installed or granted."""
    settings, kube = lab.settings, lab.kube()
    if admin is not None:
        admin_subject(admin)  # refuse a bad --admin before any work
    progress.report("reading the cluster's version and API discovery")
    kube_version = lab.server_version()
    discovery = discover(kube)
    ocp = openshift_version(kube)
    repository = chart_repository(lab)
    version = chart_version(lab)
    values, text = lab_values(lab)
    secret = credentials_secret or f"{settings.release}-credentials"
    values, withheld = withhold_secrets(values)
    reasons = value_reasons(values, lab_layers(lab), key_comments(text) if text else {})
    if not (values.get("clearml") or {}).get("existingSecret"):
        values = _with(values, ("clearml", "existingSecret"), secret)
        reasons[("clearml", "existingSecret")] = (
            f"The chart's built-in ClearML keys are public defaults: the chart reads them from the Secret {secret} "
            f"instead, which you create before the app (see README.md); this bundle holds no secret."
        )
    progress.report(f"rendering chart {CHART} {version} with these values (helm template)")
    with tempfile.TemporaryDirectory(prefix="clearml-lab-export-") as tmp:
        values_file = Path(tmp) / "values.yaml"
        values_file.write_text(yaml.safe_dump(values, sort_keys=False))
        manifests = helm_template(
            version,
            repository,
            release=settings.release,
            namespace=lab.namespace,
            values_file=values_file,
            kube_version=kube_version,
            api_versions=discovery.api_versions,
        )
    progress.report("planning the SCC grants from the rendered chart")
    project = visible_project(kube, lab.namespace) or {}
    # From scratch: the bundle must carry every grant the chart needs, not only those missing today.
    plan = plan_grants(
        manifests,
        namespace=lab.namespace,
        namespace_annotations=(project.get("metadata") or {}).get("annotations") or None,
        openshift_version=ocp,
    )
    by_sa = {sa.name: sa for sa in plan.service_accounts}
    grants = tuple(
        GrantSpec(
            g.scc,
            g.service_account,
            _granted_for(by_sa[g.service_account], g.scc),
            getattr(g, "reason", "") or " ".join(by_sa[g.service_account].reasons),
        )
        for g in plan.grants()
    )
    notes = tuple(
        f"{sa.name} ({', '.join(sa.workloads)}): no default SCC makes all its workloads work."
        for sa in plan.service_accounts
        if sa.unsolvable
    )
    notes += tuple(
        f"The lab's values set {'.'.join(path)}, a credential: it is left out of this bundle; keep it in "
        f"a Secret (the ClearML keys go in {secret}) or in your secret store."
        for path in withheld
    )
    if not project:
        notes += (
            f"Project {lab.namespace} did not exist when this was exported: the reasons quote the UID range "
            f"OpenShift typically gives a new project ({DEFAULT_UID_BLOCK}); the cluster allocates the real "
            f"one when platform/ is applied.",
        )
    return BundleSpec(
        lab.namespace,
        settings.release,
        version,
        repository,
        settings.profile,
        kube_version,
        discovery.api_versions,
        ocp,
        values,
        reasons,
        grants,
        admin,
        secret,
        notes,
        profile_description(settings.profile),
    )


def _granted_for(sa_plan, scc: str) -> tuple[str, ...]:
    """The workloads a grant of ``scc`` to this service account is for (all of its workloads, by default)."""
    return tuple((getattr(sa_plan, "planned_for", None) or {}).get(scc) or sa_plan.workloads)


def lab_layers(lab) -> list[tuple[dict, object]]:
    """The layers the lab's values are made of, earliest first, each with its reason (a string, or a function
    of the key path for a profile whose file comments its keys)."""
    settings = lab.settings
    profile_file = PROFILES_DIR / f"{settings.profile}.yaml"
    raw = yaml.safe_load(profile_file.read_text())
    comments = {
        path[1:]: lines for path, lines in key_comments(profile_file.read_text()).items() if path[:1] == ("values",)
    }
    fallback = f"Profile {settings.profile} (described at the top of this file)."

    def profile_reason(path):
        return nearest_comment(comments, path) or fallback

    layers = [(raw.get("values") or {}, profile_reason)]
    layers += [(fix.values, fix.why) for fix in install_fixes(chart_version(lab))]
    if settings.overrides:
        layers.append((settings.overrides, "Your override, given to the lab (overrides)."))
    return layers


# ---- values with reasons (pure) ----------------------------------------------------------------------------------
def leaves(values: dict, path: tuple = ()) -> dict:
    """key path -> value for every leaf (a scalar, a list, an empty mapping)."""
    found = {}
    for key, value in values.items():
        here = path + (str(key),)
        if isinstance(value, dict) and value:
            found.update(leaves(value, here))
        else:
            found[here] = value
    return found


def key_comments(text: str) -> dict:
    """The comment lines written right above each mapping key of a YAML document (at the key's indentation, no
    blank line between), by key path."""
    try:
        root = yaml.compose(text)
    except yaml.YAMLError:
        return {}
    lines, found = text.splitlines(), {}

    def walk(node, path):
        if not isinstance(node, yaml.MappingNode):
            return
        for key, value in node.value:
            here = path + (str(key.value),)
            prefix, row, above = " " * key.start_mark.column + "#", key.start_mark.line - 1, []
            while row >= 0 and lines[row].startswith(prefix):
                above.insert(0, lines[row].strip().lstrip("#").strip())
                row -= 1
            if above:
                found[here] = " ".join(line for line in above if line)
            walk(value, here)

    if root is not None:
        walk(root, ())
    return found


def nearest_comment(comments: dict, path: tuple) -> str | None:
    for end in range(len(path), 0, -1):
        if path[:end] in comments:
            return comments[path[:end]]
    return None


def value_reasons(values: dict, layers, own_comments: dict | None = None) -> dict:
    """Why each leaf of ``values`` is set: the latest layer that sets it to this value, else the learner's own
    edit (with the comment the learner wrote above it, if any)."""
    reasons = {}
    flat_layers = [(leaves(layer), why) for layer, why in layers]
    for path, value in leaves(values).items():
        reason = None
        for flat, why in reversed(flat_layers):
            if path in flat and flat[path] == value:
                reason = why(path) if callable(why) else why
                break
        if reason is None:
            own = nearest_comment(own_comments or {}, path)
            reason = f"Your own edit of the lab's values.yaml{': ' + own if own else ''}."
        reasons[path] = reason
    return reasons


def comment_placement(values: dict, reasons: dict) -> dict:
    """Where each reason is written: above the outermost key whose leaves all share it, once."""
    flat = leaves(values)
    placed = {}

    def walk(node, path, stated):
        previous = None  # below the top level, siblings in a row with one reason share one comment
        for key, value in node.items():
            here = path + (str(key),)
            under = {reasons[p] for p in flat if p[: len(here)] == here and p in reasons}
            if len(under) == 1:
                reason = under.pop()
                if reason != stated and (not path or reason != previous):
                    placed[here] = reason
                previous = reason
                continue
            previous = None
            if isinstance(value, dict):
                walk(value, here, None)

    walk(values, (), None)
    return placed


class _Dumper(yaml.SafeDumper):
    def ignore_aliases(self, data):
        return True


_Dumper.add_representer(
    str,
    lambda dumper, text: dumper.represent_scalar("tag:yaml.org,2002:str", text, style="|" if "\n" in text else None),
)


def commented_yaml(values: dict, comments: dict) -> str:
    """Block YAML of ``values`` with each comment above its key; top-level sections set apart by a blank line."""
    out: list[str] = []

    def emit(node, path, indent):
        for key, value in node.items():
            here, pad = path + (str(key),), " " * indent
            if indent == 0 and out:
                out.append("")
            for line in textwrap.wrap(comments.get(here, ""), WIDTH - indent - 2):
                out.append(f"{pad}# {line}")
            if isinstance(value, dict) and value:
                out.append(pad + yaml.dump({key: None}, Dumper=_Dumper).split(":")[0] + ":")
                emit(value, here, indent + 2)
            else:
                dumped = yaml.dump(
                    {key: value},
                    Dumper=_Dumper,
                    sort_keys=False,
                    default_flow_style=False,
                    width=1000,
                    allow_unicode=True,
                )
                out.extend(pad + line for line in dumped.splitlines())

    emit(values, (), 0)
    return "\n".join(out) + "\n"


def is_secret_value(path: tuple, value) -> bool:
    """Whether a values key holds a credential (a password, a secret, a token, an access key) rather than the name of
    a Secret or a switch: such values never go into a bundle."""
    name = str(path[-1]).lower()
    if not isinstance(value, str) or not value or name.startswith("existing") or name.endswith(("name", "ref")):
        return False
    return "password" in name or name.endswith(("secret", "token", "key"))


def withhold_secrets(values: dict) -> tuple[dict, tuple[tuple, ...]]:
    """``values`` without the credentials in them, and the key paths left out."""
    withheld = tuple(path for path, value in leaves(values).items() if is_secret_value(path, value))
    kept = json.loads(json.dumps(values))
    for path in withheld:
        node = kept
        for key in path[:-1]:
            node = node[key]
        del node[path[-1]]
    return kept, withheld


def _with(values: dict, path: tuple, value) -> dict:
    merged = json.loads(json.dumps(values))
    node = merged
    for key in path[:-1]:
        node = node.setdefault(key, {})
    node[path[-1]] = value
    return merged


# ---- rendering the bundle (pure) ---------------------------------------------------------------------------------
def admin_subject(admin: str) -> dict:
    """`USER` or `group:NAME` as an RBAC subject."""
    kind, _, name = admin.partition(":") if admin.startswith("group:") else ("user", "", admin)
    name = name.strip()
    if not name or any(c.isspace() for c in name):
        raise UsageError(f"--admin {admin!r} names nobody: give a user name (alice) or a group (group:ml-team).")
    return {"apiGroup": RBAC, "kind": "Group" if kind == "group" else "User", "name": name}


def platform_objects(spec: BundleSpec) -> dict:
    """file name -> object, for DIR/platform."""
    ns = spec.namespace
    objects = {
        "namespace.yaml": {
            "apiVersion": "v1",
            "kind": "Namespace",
            "metadata": {
                "name": ns,
                "annotations": {
                    DESCRIPTION: f"ClearML server: chart {CHART} {spec.chart_version}, release {spec.release}, profile "
                    f"{spec.profile}.",
                    DISPLAY_NAME: "ClearML",
                },
            },
        }
    }
    for grant in spec.grants:
        # What plan-scc --output yaml prints: the same objects, marked as the lab marks the grants it makes.
        objects[f"scc-{grant.scc}-{grant.service_account}.yaml"] = grant_role_bindings([grant], ns)[0]
    if spec.admin:
        objects["admin.yaml"] = {
            "apiVersion": f"{RBAC}/v1",
            "kind": "RoleBinding",
            "metadata": {"name": "clearml-admin", "namespace": ns},
            "roleRef": {"apiGroup": RBAC, "kind": "ClusterRole", "name": "admin"},
            "subjects": [admin_subject(spec.admin)],
        }
    return objects


def app_kustomization(spec: BundleSpec) -> dict:
    return {
        "apiVersion": "kustomize.config.k8s.io/v1beta1",
        "kind": "Kustomization",
        "helmCharts": [
            {
                "name": CHART,
                "repo": spec.repository,
                "version": spec.chart_version,
                "releaseName": spec.release,
                "namespace": spec.namespace,
                "valuesFile": "values.yaml",
                "kubeVersion": spec.kube_version,
                "apiVersions": list(spec.api_versions),
                "skipTests": True,
            }
        ],
    }


def _dump(obj) -> str:
    return yaml.dump(obj, Dumper=_Dumper, sort_keys=False, default_flow_style=False, width=WIDTH, allow_unicode=True)


def _comment(text: str) -> str:
    return "".join(f"# {line}\n" for line in textwrap.wrap(text, WIDTH - 2))


def values_text(spec: BundleSpec) -> str:
    header = _comment(
        f"ClearML on OpenShift: values for chart {CHART} {spec.chart_version}, release {spec.release} in project "
        f"{spec.namespace}, profile {spec.profile}. Exported by clearml-lab; each setting says why it is here."
    )
    header += _comment(f"Profile {spec.profile}: {spec.profile_description}")
    header += _comment(
        f"No secret is in this file: the ClearML keys are read from the Secret {spec.secret_name}, "
        f"which you create before the app (see ../README.md)."
    )
    return header + "\n" + commented_yaml(spec.values, comment_placement(spec.values, spec.reasons))


def credentials_command(spec: BundleSpec) -> str:
    literals = " \\\n  ".join(f'--from-literal={key}="$(openssl rand -hex 24)"' for key in CREDENTIAL_KEYS)
    return f"oc create secret generic {spec.secret_name} -n {spec.namespace} \\\n  {literals}"


def readme_text(spec: BundleSpec) -> str:
    ns, grants = spec.namespace, spec.grants
    grant_lines = (
        "\n".join(f"| `{g.scc}` | `{g.service_account}` | {', '.join(g.workloads)} | {g.reason} |" for g in grants)
        or "| — | — | — | no grant is needed |"
    )
    admin = (
        f"\n- `admin.yaml`: `{spec.admin}` becomes admin of the project (RoleBinding `clearml-admin`).\n"
        if spec.admin
        else ""
    )
    notes = "".join(f"\n> **Note:** {note}\n" for note in spec.notes)
    return f"""# ClearML on OpenShift — hand-off bundle

Project `{ns}`, chart `{CHART}` {spec.chart_version} from `{spec.repository}`, release `{spec.release}`, values
profile `{spec.profile}`, rendered for Kubernetes {spec.kube_version} (OpenShift {spec.openshift_version}).
Generated by `clearml-lab export`; the same inputs give the same files, so a Git diff shows only real changes.
{notes}
## 1. Platform team (cluster-admin): `platform/`

- `namespace.yaml`: the project, with its display name and description. OpenShift allocates its UID range and
  SELinux labels itself.
- One RoleBinding per SCC grant, computed from the rendered chart (the reason is on each binding, annotation
  `{grant_binding_marks()["reason_annotation"]}`):

| SCC | service account | runs | why |
|---|---|---|---|
{grant_lines}
{admin}
```
oc apply -k platform/
```

## 2. Credentials, before the app

The chart's built-in ClearML keys are public. `app/values.yaml` points the chart at the Secret `{spec.secret_name}`
instead (`clearml.existingSecret`); create it first, with your own random keys (this bundle never holds a secret):

```
{credentials_command(spec)}
```

## 3. The app (project admin): `app/`

`app/kustomization.yaml` renders the chart with helm, as `helm install` would on this cluster (its `kubeVersion`
and `apiVersions`), without the chart's test pods (`skipTests`). `oc apply -k` cannot run helm, so render, then
apply:

```
kubectl kustomize --enable-helm app/ | oc apply -n {ns} -f -
```

kubectl 1.35's kustomize calls `helm version -c`, which helm 4 refuses: give it a helm 3 with
`--helm-command /path/to/helm3`. Argo CD (OpenShift GitOps) ships helm 3: point an Application at `app/` with
destination namespace `{ns}`, and enable helm for kustomize in `argocd-cm`:

```
kustomize.buildOptions: --enable-helm
```

(an Argo CD instance of OpenShift GitOps: `spec.kustomizeBuildOptions: --enable-helm`). Apply `platform/` first,
as its own Application run by the platform team, or by hand.

## 4. Check

From the machine the bundle was exported on (the lab keeps its values there):

```
clearml-lab --namespace {ns} check scc                         # every workload admitted by the SCC it needs
clearml-lab --namespace {ns} export --check <this directory>   # the project still matches this bundle
```

The Routes are not part of the chart: `oc expose svc/{spec.release}-webserver svc/{spec.release}-apiserver
svc/{spec.release}-fileserver -n {ns}` (or the chart's ingress values).
"""


def render(spec: BundleSpec) -> dict:
    """relative path -> file text, for every file of the bundle; sorted, deterministic."""
    files = {
        "README.md": readme_text(spec),
        "app/values.yaml": values_text(spec),
        # kustomize --enable-helm pulls the chart into app/charts/: a cache, not part of what is reviewed.
        "app/.gitignore": "# the chart that kubectl kustomize --enable-helm downloads\ncharts/\n",
        "app/kustomization.yaml": _comment(
            f"ClearML {spec.chart_version} as helm would install it on this cluster: "
            f"kubectl kustomize --enable-helm . | oc apply -n {spec.namespace} -f -"
        )
        + _dump(app_kustomization(spec)),
    }
    objects = platform_objects(spec)
    for name, obj in objects.items():
        files[f"platform/{name}"] = _dump(obj)
    files["platform/kustomization.yaml"] = _comment(
        "What needs cluster-admin, applied before the app: oc apply -k ."
    ) + _dump({"apiVersion": "kustomize.config.k8s.io/v1beta1", "kind": "Kustomization", "resources": sorted(objects)})
    return dict(sorted(files.items()))


def refuse_leaks(files: dict, forbidden) -> None:
    """A bundle never names the API server or carries a credential; stop before writing if it would."""
    for path, text in files.items():
        for secret in forbidden:
            if secret and secret in text:
                raise LabError(
                    f"the bundle would contain a credential or the API server address in {path}; "
                    f"nothing was written — report this as a bug of clearml-lab."
                )


# ---- writing -----------------------------------------------------------------------------------------------------
def write(files: dict, out: str | Path, *, force: bool = False) -> Path:
    """Write the bundle to ``out``: first into a temporary directory beside it, then moved into place, so a failure
    leaves ``out`` as it was. A new or empty ``out`` is the temporary directory renamed; an existing non-empty one is
    refused unless ``force``, and then only the bundle's own entries (README.md, platform/, app/) are replaced —
    the old ones set aside until the new ones are in, and put back if that fails — and anything else there (a .git)
    is kept."""
    out = Path(out)
    if out.exists() and not out.is_dir():
        raise UsageError(f"{out} is a file, not a directory: choose a new or empty directory for the bundle.")
    occupied = out.is_dir() and any(out.iterdir())
    if occupied and not force:
        raise UsageError(
            f"{out} is not empty: choose a new or empty directory, or pass --force to replace the bundle in it."
        )

    def refuse(err: OSError):
        return UsageError(f"cannot write to {out} ({err.strerror or err}): choose a directory you may write to.")

    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.", dir=out.parent))
    except OSError as err:
        raise refuse(err) from None
    try:
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o777 & ~umask)  # a directory like any other, not mkdtemp's private 0700
        for rel, text in files.items():
            target = tmp / rel
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(text)
        if not occupied:
            if out.is_dir():
                out.rmdir()
            os.replace(tmp, out)
            return out
        _swap_entries(tmp, out)
    except OSError as err:
        raise refuse(err) from None
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return out


def _swap_entries(new: Path, out: Path) -> None:
    """Replace the bundle's entries in ``out`` with those in ``new``; on failure, ``out`` is put back as it was."""
    aside = new / ".previous"
    aside.mkdir()
    moved, placed = [], []
    try:
        for entry in BUNDLE_ENTRIES:
            if (out / entry).exists() or (out / entry).is_symlink():
                os.replace(out / entry, aside / entry)
                moved.append(entry)
        for entry in BUNDLE_ENTRIES:
            os.replace(new / entry, out / entry)
            placed.append(entry)
    except OSError:
        for entry in placed:
            target = out / entry
            if target.is_dir():
                shutil.rmtree(target, ignore_errors=True)
            else:
                target.unlink(missing_ok=True)
        for entry in moved:
            os.replace(aside / entry, out / entry)
        raise


@dataclass(frozen=True)
class ExportResult:
    path: Path
    files: tuple[str, ...]
    spec: BundleSpec


def export(lab, out: str | Path, *, admin: str | None = None, force: bool = False) -> ExportResult:
    """gather, render and write the bundle of this lab to ``out``."""
    out = Path(out)
    if out.is_dir() and any(out.iterdir()) and not force:  # before any work, not after it
        raise UsageError(
            f"{out} is not empty: choose a new or empty directory, or pass --force to replace the bundle in it."
        )
    spec = gather(lab, admin=admin)
    files = render(spec)
    refuse_leaks(files, _credentials_of(lab))
    write(files, out, force=force)
    return ExportResult(out, tuple(files), spec)


def _credentials_of(lab) -> list[str]:
    config = getattr(lab.api_client, "configuration", None)
    found = [lab.target.server]
    for value in (getattr(config, "api_key", None) or {}).values():
        found.append(str(value).removeprefix("Bearer ").strip())
    return [f for f in found if f and len(f) > 8]


# ---- checking a live project against a bundle --------------------------------------------------------------------
@dataclass(frozen=True)
class Difference:
    subject: str  # what differs: Kind/name, a grant, the chart version
    detail: str  # how, in one sentence

    def render(self) -> str:
        return f"{self.subject}: {self.detail}"


@dataclass(frozen=True)
class CheckResult:
    path: Path
    namespace: str
    compared: tuple[str, ...]  # what was compared, as Kind/name and grants
    differences: tuple[Difference, ...]

    @property
    def ok(self) -> bool:
        return not self.differences


@dataclass(frozen=True)
class LoadedBundle:
    platform: tuple[dict, ...]
    chart: dict  # the helmCharts entry
    values_file: Path

    @property
    def namespace(self) -> str:
        return self.chart["namespace"]


def read_bundle(path: str | Path) -> LoadedBundle:
    """The objects and the chart entry of a bundle directory; one sentence when it is not one."""
    path = Path(path)
    if not path.is_dir():
        raise UsageError(
            f"{path} is not an export bundle (not a directory): give the directory `clearml-lab export --out` wrote."
        )

    def load(rel: str):
        try:
            return list(yaml.safe_load_all((path / rel).read_text()))
        except FileNotFoundError:
            raise UsageError(
                f"{path} is not an export bundle ({rel} is missing): give the directory "
                f"`clearml-lab export --out` wrote."
            ) from None
        except (OSError, yaml.YAMLError) as err:
            raise UsageError(
                f"cannot read {path / rel} ({getattr(err, 'strerror', None) or err.__class__.__name__})"
                f": fix the file or export again."
            ) from None

    platform_k = (load("platform/kustomization.yaml") or [None])[0] or {}
    objects = []
    for resource in platform_k.get("resources") or []:
        objects += [doc for doc in load(f"platform/{resource}") if isinstance(doc, dict)]
    app_k = (load("app/kustomization.yaml") or [None])[0] or {}
    charts = [c for c in app_k.get("helmCharts") or [] if isinstance(c, dict) and c.get("name") == CHART]
    needed = ("version", "releaseName", "namespace", "valuesFile")
    if len(charts) != 1 or any(not charts[0].get(key) for key in needed):
        raise UsageError(
            f"{path / 'app/kustomization.yaml'} has no helmCharts entry for chart {CHART} with "
            f"{', '.join(needed)}: export again."
        )
    values_file = path / "app" / charts[0]["valuesFile"]
    if not values_file.is_file():
        raise UsageError(f"{values_file} is missing: export again.")
    return LoadedBundle(tuple(objects), charts[0], values_file)


def _label(obj: dict) -> str:
    return f"{obj.get('kind')}/{(obj.get('metadata') or {}).get('name')}"


def _short(value) -> str:
    text = json.dumps(value, sort_keys=True) if not isinstance(value, str) or not value.strip() else value
    text = " ".join(text.split())
    return text if len(text) <= 60 else text[:57] + "..."


def _empty(value) -> bool:
    return value is None or value == {} or value == [] or value == ""


def _same_scalar(want, have) -> bool:
    if want == have:
        return True
    if isinstance(want, bool) or isinstance(have, bool):
        return False
    return isinstance(want, (int, float, str)) and isinstance(have, (int, float, str)) and str(want) == str(have)


def field_differences(want, have, path: str = "", *, secret: bool = False) -> list[str]:
    """Where ``have`` (the live object) differs from ``want`` in the fields ``want`` sets; fields the cluster adds
    (defaults, status, metadata it keeps) are not differences. Lists are compared item by item. A Secret's values
    are never shown."""
    if isinstance(want, dict):
        if not isinstance(have, dict):
            return [f"{path or 'the object'} is {_short(have)} on the cluster, a mapping in the bundle"]
        found = []
        for key, value in want.items():
            here = f"{path}.{key}" if path else str(key)
            if here.endswith("labels.helm.sh/chart"):
                continue  # the chart version is compared once, not on every object
            if key not in have or have[key] is None:
                if not _empty(value):
                    shown = "" if secret and path.split(".")[0] in ("data", "stringData") else f" ({_short(value)})"
                    found.append(f"{here} is not set on the cluster, the bundle sets it{shown}")
                continue
            found += field_differences(value, have[key], here, secret=secret)
        return found
    if isinstance(want, list):
        if not isinstance(have, list):
            return [f"{path} is {_short(have)} on the cluster, a list in the bundle"]
        if len(want) != len(have):
            return [f"{path} has {len(have)} item(s) on the cluster, {len(want)} in the bundle"]
        found = []
        for index, (w, h) in enumerate(zip(want, have, strict=True)):
            # Items with a name (containers, env, ports, volumes) are named by it, as kubectl's merge keys do.
            key = w.get("name") if isinstance(w, dict) and isinstance(w.get("name"), str) else index
            found += field_differences(w, h, f"{path}[{key}]", secret=secret)
        return found
    if _same_scalar(want, have) or (_empty(want) and _empty(have)):
        return []
    if secret and path.split(".")[0] in ("data", "stringData"):
        return [f"{path} differs (values of a Secret are not shown)"]
    return [f"{path} is {_short(have)} on the cluster, {_short(want)} in the bundle"]


def grants_of(objects) -> dict:
    """(scc, service account) -> the RoleBinding of the bundle that grants it."""
    prefix = SCC_ROLE.format("")
    found = {}
    for obj in objects:
        role = (obj.get("roleRef") or {}).get("name", "")
        if obj.get("kind") != "RoleBinding" or not role.startswith(prefix):
            continue
        for subject in obj.get("subjects") or []:
            if subject.get("kind") == "ServiceAccount":
                found[(role[len(prefix) :], subject["name"])] = obj
    return found


def platform_differences(objects, live: dict, live_grants: set) -> list[Difference]:
    """The bundle's platform objects against the live ones (label -> object or None) and the grants in force."""
    found = []
    planned = grants_of(objects)
    for obj in objects:
        label = _label(obj)
        have = live.get(label)
        granted = [g for g, binding in planned.items() if binding is obj]
        if have is None:
            detail = "missing on the cluster"
            for scc, sa in granted:
                detail += (
                    f" ({sa} may still use {scc} through another binding)"
                    if (scc, sa) in live_grants
                    else f", so {sa} may not use {scc}"
                )
            found.append(Difference(label, detail))
            continue
        found += [Difference(label, d) for d in field_differences(obj, have)]
    for scc, sa in sorted(live_grants - set(planned)):
        found.append(Difference(f"grant {scc} to {sa}", "on the cluster but not in the bundle (an extra grant)"))
    reported = {g for g, binding in planned.items() if live.get(_label(binding)) is None}
    for scc, sa in sorted(set(planned) - live_grants - reported):
        found.append(Difference(f"grant {scc} to {sa}", f"in the bundle but {sa} may not use {scc} on the cluster"))
    return found


def app_differences(rendered, live: dict) -> list[Difference]:
    """The rendered app's objects against the live ones (label -> object or None)."""
    found = []
    for obj in rendered:
        label = _label(obj)
        have = live.get(label)
        if have is None:
            found.append(Difference(label, "missing on the cluster"))
            continue
        found += [Difference(label, d) for d in field_differences(obj, have, secret=obj.get("kind") == "Secret")]
    return found


def chart_version_difference(bundle_version: str, live_version: str | None, source: str) -> list[Difference]:
    if live_version is None or live_version == bundle_version:
        return []
    return [Difference("chart version", f"{source} is {CHART} {live_version}, the bundle pins {bundle_version}")]


def check(lab, path: str | Path) -> CheckResult:
    """Compare the bundle at ``path`` with its live project: platform objects and SCC grants, the rendered app's
    objects in the fields the bundle sets, and the chart version (of the helm release, else of the objects'
    helm.sh/chart label)."""
    bundle = read_bundle(path)
    kube, ns, entry = lab.kube(), bundle.namespace, bundle.chart
    progress.report("reading the cluster's API discovery")
    discovery = discover(kube)

    def fetch(obj: dict) -> dict | None:
        meta = obj.get("metadata") or {}
        where = discovery.path(
            obj.get("apiVersion", ""), obj.get("kind", ""), meta.get("name", ""), meta.get("namespace") or ns
        )
        if where is None:
            return None
        try:
            return kube.request("GET", where)
        except ApiFailure as err:
            if err.code in (403, 404):
                return None
            raise

    compared = []
    namespace_obj = next((o for o in bundle.platform if o.get("kind") == "Namespace"), None)
    if namespace_obj is not None and fetch(namespace_obj) is None:
        return CheckResult(
            Path(path),
            ns,
            (_label(namespace_obj),),
            (Difference(_label(namespace_obj), "missing on the cluster (apply platform/ first)"),),
        )
    progress.report(f"comparing the platform objects with project {ns}")
    live = {_label(o): fetch(o) for o in bundle.platform}
    compared += live
    live_grants = set(existing_grants(kube, ns))
    differences = platform_differences(bundle.platform, live, live_grants)
    progress.report(f"rendering chart {CHART} {entry['version']} with the bundle's values (helm template)")
    rendered = helm_template(
        str(entry["version"]),
        str(entry.get("repo") or chart_repository(lab)),
        release=entry["releaseName"],
        namespace=ns,
        values_file=bundle.values_file,
        kube_version=str(entry.get("kubeVersion") or lab.server_version()),
        api_versions=entry.get("apiVersions") or (),
        skip_tests=bool(entry.get("skipTests")),
    )
    progress.report(f"comparing {len(rendered)} objects of the app with project {ns}")
    live_app = {_label(o): fetch(o) for o in rendered}
    compared += live_app
    live_version, source = _live_chart_version(lab, ns, entry["releaseName"], rendered, live_app)
    differences += chart_version_difference(str(entry["version"]), live_version, source)
    released = _release_values(lab, ns, entry["releaseName"])
    if released is not None:
        bundle_values = yaml.safe_load(bundle.values_file.read_text()) or {}
        differences += value_differences(bundle_values, released, f"helm release {entry['releaseName']}")
    differences += app_differences(rendered, live_app)
    return CheckResult(Path(path), ns, tuple(compared), tuple(differences))


def value_differences(bundle_values: dict, release_values: dict, source: str) -> list[Difference]:
    """The values the bundle sets against those a helm release was installed with, key by key."""
    want, have = leaves(bundle_values), leaves(release_values)
    found = []
    for path in sorted(set(want) | set(have)):
        if (
            path in want
            and path in have
            and (_same_scalar(want[path], have[path]) or (_empty(want[path]) and _empty(have[path])))
        ):
            continue
        shown = [
            ("a credential (not shown)" if is_secret_value(path, v[path]) else _short(v[path]))
            if path in v
            else "not set"
            for v in (have, want)
        ]
        found.append(Difference(f"value {'.'.join(path)}", f"{shown[0]} in {source}, {shown[1]} in the bundle"))
    return found


def _release_values(lab, ns: str, release: str) -> dict | None:
    """The user-supplied values of the helm release, or None when there is no such release."""
    result = lab.helm().run(["get", "values", release, "--namespace", ns, "-o", "json"], timeout=60)
    if not result.ok:
        return None
    return json.loads(result.stdout or "null") or {}


def _live_chart_version(lab, ns: str, release: str, rendered, live_app) -> tuple[str | None, str]:
    """The chart version running: the helm release's, else the helm.sh/chart label of the chart's own objects."""
    # `helm list` names the chart as <name>-<version> in helm 3 and 4 alike (helm 4's status has no chart).
    result = lab.helm().run(["list", "--namespace", ns, "--filter", f"^{release}$", "-o", "json"], timeout=60)
    listed = json.loads(result.stdout or "[]") if result.ok else []
    for entry in listed:
        if entry.get("name") == release and str(entry.get("chart", "")).startswith(f"{CHART}-"):
            return str(entry["chart"])[len(CHART) + 1 :], f"helm release {release}"
    for obj in rendered:
        label = ((obj.get("metadata") or {}).get("labels") or {}).get("helm.sh/chart", "")
        have = live_app.get(_label(obj))
        if label.startswith(f"{CHART}-") and have is not None:
            live_label = ((have.get("metadata") or {}).get("labels") or {}).get("helm.sh/chart", "")
            if live_label.startswith(f"{CHART}-"):
                return live_label[len(CHART) + 1 :], f"the helm.sh/chart label of {_label(obj)}"
    return None, ""
