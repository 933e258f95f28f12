"""Writes the learners' notebooks (notebooks/*.ipynb, notebooks/workshop/instructor.ipynb) from the cell texts
below — clean: no outputs, no execution counts — and, with --execute, runs the same notebooks in order against a
fresh practice cluster and stores them with their outputs as nbval's reference copies in tests/notebooks/recorded/.

The notebooks are the product; this file is their source, so a change of wording is a change here and a rebuild:
    .venv/bin/python scripts/build_notebooks.py --execute
tests/notebooks/test_recorded.py proves that both sets hold the same cells. Learners never run notebooks/ itself:
``--workspace DIR`` (what `make lab` runs) copies them into a git-ignored folder that JupyterLab opens, so a run
leaves notebooks/ as shipped.
"""
from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path

import nbformat
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from clearml_lab.widgets.topology_view import colour_sentence  # noqa: E402 — notebook 07 names the view's colours

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "notebooks"
RECORDED = ROOT / "tests" / "notebooks" / "recorded"  # nbval's reference copies: the same cells, with outputs
METADATA = {"kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"},
            "language_info": {"name": "python"}}


def md(text: str):
    return new_markdown_cell(text.strip())


def code(text: str, *tags: str):
    cell = new_code_cell(text.strip())
    if tags:
        cell.metadata["tags"] = list(tags)
    return cell


SESSION = code("from clearml_lab import notebook as nb\nlab = nb.session()")

NOTEBOOKS = {
    "00_welcome_and_prerequisites": [
        md("""
# ClearML on OpenShift — 00 · Welcome and prerequisites

In these notebooks you deploy the [ClearML](https://clear.ml) server on OpenShift with helm, one step at a time.
Each notebook is one step: **why** OpenShift needs it, the exact **commands** it stands for, a **Run** button that
does it, and a **Check** that proves it worked. Fell behind? **Run it for me** does the step and checks it.

You can work against the **practice cluster** — a local stand-in that answers like OpenShift 4 but runs no
containers — or a real cluster from your kubeconfig, or (inside an OpenShift AI workbench) the cluster you are in.
"""),
        md("""
## Choose where to work

Pick a target and press **Use this target**. Every later notebook acts on the same cluster and says so at the top.
Without a choice, the lab uses the practice cluster (`make lab` started it).
"""),
        code("from clearml_lab import notebook as nb\npicker = nb.target_picker()"),
        md("""
**In a workshop**, your instructor gives you a kubeconfig (on the practice cluster, a file named after you) whose
context names your own project. Type its path in **File** and press **Use this target** (in code:
`nb.choose("kubeconfig", kubeconfig="ada.kubeconfig")`). The lab then recognises your project as a workshop project and
says so below: your instructor already created it and made its SCC grants, so notebooks 02 and 04 check that work
instead of redoing it, and the chart version and profile follow what the workshop was prepared for.
"""),
        SESSION,
        md("""
## What the recipe needs

helm 3.14+ or 4.x · a login · the right to create a project and to grant security context constraints (SCCs) ·
a router with an apps domain · a default StorageClass with about **155 Gi** for four volume claims
(50 + 50 + 50 + 5) · a Kubernetes version the chart's `kubeVersion` accepts.
"""),
        code('nb.check("prerequisites", lab)'),
    ],
    "01_helm_repository": [
        md("""
# 01 · The chart repository

helm installs charts from repositories. ClearML publishes its charts at
`https://clearml.github.io/clearml-helm-charts` (the older `allegroai.github.io` address is the previous name).

The lab reasons about exactly the chart helm installs: the values check, the SCC plan and the install all read the
package `helm pull` fetches from the repository this step adds (cached under `~/.cache/clearml-lab`). Which one:

* the one you chose — `clearml-lab --chart-repo URL …`, or `CLEARML_LAB_CHART_REPO=URL` set before JupyterLab
  starts. Use it for a **mirror** (a disconnected cluster, a workshop's own copy): any HTTP(S) directory of chart
  packages with the `index.yaml` that `helm repo index` writes;
* else, on the practice cluster, its own repository (a stand-in chart; the cluster publishes the address as the
  HelmChartRepository `clearml`, as the OpenShift console does);
* else the public repository above.

With no chart version chosen, this step takes the newest version the repository serves whose `kubeVersion` admits
your cluster, and keeps it for the later steps. `clearml-lab charts` lists every version and whether it fits.
"""),
        SESSION,
        code('card = nb.card("helm-repo", lab)'),
        md("Press **Run** above — or run the next cell, which does what **Run it for me** does."),
        code("nb.run_for_me(card)"),
        md("## Check"),
        code('nb.check("helm-repo", lab)'),
    ],
    "02_project": [
        md("""
# 02 · The project

A project is OpenShift's namespace plus policy. When it is created, OpenShift reserves a block of 10,000 user IDs
for it (`openshift.io/sa.scc.uid-range`) and SELinux labels. Pods that ask for a UID outside that block — MongoDB
and Redis ask for 1001 — are refused unless a security context constraint allows them. Keep that in mind for 04.

In a workshop your instructor already created your project and made you its admin: **Run** says so and checks it.
"""),
        SESSION,
        code('card = nb.card("project", lab)'),
        code("nb.run_for_me(card)"),
        md("## Check"),
        code('nb.check("project", lab)'),
    ],
    "03_values": [
        md("""
# 03 · values.yaml for OpenShift

The chart's defaults assume plain Kubernetes. The recipe changes four things for OpenShift:

* `elasticsearch.rbac.create: true` and `serviceAccountName: clearml-elastic` — a dedicated service account, so a
  grant for Elasticsearch does not reach other pods;
* `apiserver.podSecurityContext.runAsUser: 0` — the ClearML image creates `/var/log/clearml` as root;
* `service.type: ClusterIP` for apiserver, fileserver and webserver — Routes replace NodePorts.

Profile **seed** keeps exactly that (plus `bitnamilegacy/*` images: Bitnami removed the pinned tags in 2025).
Profile **hardened** is the least-privilege variant: MongoDB, Redis and Elasticsearch run under the project's own
UIDs. The form writes `values.yaml`; the check compares it with the keys of the chart pulled from the repository of
notebook 01 — its defaults and its subcharts', the keys its templates read, its values schema — and renders it.
`clearml-lab lint-values FILE` checks any values file the same way (`--chart-repo URL --chart-version V` for
another repository's chart); a key one line too far left is found as such ("indent it under `webserver:`").
"""),
        SESSION,
        code("form = nb.values_form(lab)"),
        code('card = nb.card("values", lab)'),
        code("nb.run_for_me(card)"),
        md("## Check"),
        code('nb.check("values", lab)'),
    ],
    "04_security_context_constraints": [
        md("""
# 04 · Security context constraints

OpenShift admits a pod only if one **SCC** that its service account (or, for pods a controller creates, the
controller) may use allows everything the pod asks for. The SCCs are tried in order — priority first, then the
most restrictive — and the first that fits wins. A pod that fits none is refused with a message listing every SCC.

Why ClearML trips over them:
* **MongoDB, Redis** ask for UID 1001 and fsGroup 1001, outside the project's range;
* **Elasticsearch** (seed profile) runs a privileged init container that raises `vm.max_map_count`;
* **ClearML** apiserver, fileserver and webserver must run as root (their image writes to root-owned paths).

The seed recipe granted `anyuid` to `clearml-mongodb`, `clearml-redis` and `default`, and `privileged` to
`clearml-elastic`. Since chart 7.4.0 the ClearML pods run as their own service accounts, so `-z default` no longer
reaches them. The lab computes the grants from the chart itself — the package from the repository of notebook 01,
rendered for your values — instead: for each service account, the least privileged SCC that admits all its pods.
`clearml-lab --chart-repo URL --chart-version V plan-scc` computes them for any repository's chart.

Granting an SCC takes a cluster admin. In a workshop your instructor computed and made these grants in your project
before you started: the table shows nothing left to grant, and **Run** lists what was granted and checks it.
"""),
        SESSION,
        code("table = nb.plan_table(lab)"),
        code('card = nb.card("scc", lab)'),
        code("nb.run_for_me(card)"),
        md("## Check\n\nThe check asks OpenShift's own review API which SCC would admit each workload's pods."),
        code('nb.check("scc", lab)'),
    ],
    "05_install": [
        md("""
# 05 · Install

`helm install` creates every object of the chart in the project. Then the cluster works: controllers create pods,
SCC admission accepts them, volumes are bound, images pulled, containers started. The topology below fills in as
that happens — Elasticsearch is the slowest; the ClearML pods wait for it, MongoDB and Redis in their init containers.
"""),
        SESSION,
        code("view = nb.topology(lab)"),
        code('card = nb.card("install", lab)'),
        code("nb.run_for_me(card)"),
        md("## Check"),
        code('nb.check("install", lab)'),
        md("The topology stays live while this notebook is open; closing it (its kernel shuts down) stops it."),
    ],
    "06_routes": [
        md("""
# 06 · Routes

ClusterIP services are reachable only inside the cluster. `oc expose svc` creates a **Route** per service; the
router gives it a host `<name>-<project>.<apps domain>` and forwards HTTP to the service — for the web UI, to service
port 8080, which the service sends on to nginx on container port 80.
"""),
        SESSION,
        code('card = nb.card("routes", lab)'),
        code("nb.run_for_me(card)"),
        code("nb.route_links(lab)"),
        md("## Check"),
        code('nb.check("routes", lab)'),
    ],
    "07_topology": [
        md(f"""
# 07 · Topology

One circle per Deployment or StatefulSet, grouped by helm release. The ring shows the pods: {colour_sentence()}
(refused by admission). The badge before a name says its kind: **D** a Deployment, **SS** a StatefulSet. Under each
name: the SCC its pods were admitted with; a red **!** marks a problem (hover it for the reason); the arrow is its
Route. The legend under the picture explains every mark. The view updates live while this notebook is open; as text
it is what `clearml-lab status` prints.
"""),
        SESSION,
        code("view = nb.topology(lab)"),
        md("## Check"),
        code('nb.check("install", lab)'),
    ],
    "08_verify_clearml": [
        md("""
# 08 · Verify ClearML

On a real cluster the lab asks each component through its Route: the apiserver's `/debug.ping`, the file server's
`/`, the web UI. The first login needs no password: type a name and ClearML creates that user. Then create access
keys in the web UI (Settings → Workspace) and put them in `~/clearml.conf` for the SDK.

**On the practice cluster nothing answers HTTP** — it runs no containers. There the check proves what can be
proven (routes admitted, endpoints ready) and reports the HTTP checks as skipped, not passed.
"""),
        SESSION,
        code('card = nb.card("verify", lab)'),
        code("nb.run_for_me(card)"),
        md("## Check"),
        code('nb.check("verify", lab)'),
    ],
    "09_cleanup": [
        md("""
# 09 · Clean up

`helm uninstall` removes what the chart made, but not the volume claims of StatefulSets; Routes and SCC grants were
never part of the release. Cleanup removes them in order — release, claims (and with them the volumes), routes,
**only the grants the lab made** (it records them on the cluster), the project — and returns when the project is
gone, not merely Terminating.

In a workshop, cleanup removes what you installed and keeps your project and its grants: they are your instructor's,
who removes them at the end (`clearml-lab workshop teardown`) or resets you to any step.
"""),
        SESSION,
        code('card = nb.card("cleanup", lab)'),
        code("nb.run_for_me(card)"),
        md("## Check"),
        code('nb.check("cleanup", lab)'),
    ],
    "10_troubleshooting": [
        md("""
# 10 · Troubleshooting: an install without the grants

A guided failure, in a project of its own: install ClearML **without** the SCC grants, read what OpenShift says,
let the lab diagnose it, apply the fix, and see everything become ready.

It needs the rights of a cluster admin (a new project and SCC grants). In a workshop, your instructor can show it.
"""),
        code("from clearml_lab import notebook as nb\n"
             "lab = nb.session().with_settings(namespace='clearml-troubleshooting')\n"
             "for name in ('helm-repo', 'project', 'values'):\n"
             "    nb.run(name, lab)"),
        md("""
Install, skipping the SCC step, and watch it in the topology: refused workloads stay grey (not created) with a red
**!** — hover it for OpenShift's reason. The lab stops waiting as soon as it sees a cause that waiting will not fix.
"""),
        code("view = nb.topology(lab)"),
        code("result = nb.run('install', lab)"),
        md("## What OpenShift says\n\nThe ReplicaSets and StatefulSets record why they could not create pods:"),
        code("nb.warnings(lab, reason='FailedCreate', limit=4)"),
        md("""
## Diagnosis

Every workload: the refused ones with the SCC reason, and those admitted under `restricted-v2` whose image must run
as root — they will crash as soon as they start.
"""),
        code("found = nb.diagnose(lab)"),
        md("## The fix: the grants from notebook 04"),
        code("fixed = nb.run('scc', lab)"),
        md("The controllers retry on their own; the topology above fills in. Wait until everything is ready:"),
        code("nb.check('install', lab, timeout=300)"),
        md("## Clean up the troubleshooting project"),
        code("view.close()\ncleaned = nb.run('cleanup', lab)"),
    ],
    "11_upgrade_and_recover": [
        md("""
# 11 · After the install: an upgrade, a breakage, a recovery

A release is not done once it is ready. Here you upgrade yours, break it the way real clusters broke in 2025
(Bitnami moved its images), read what the lab diagnoses, apply the fix, find out why the fix alone is not enough,
and verify. At the end your install is as it was before.

If you already cleaned up (notebook 09), the first cell installs it again; with your install still there it
changes nothing.
"""),
        SESSION,
        code("for name in ('helm-repo', 'project', 'values', 'scc', 'install'):\n"
             "    nb.run(name, lab)"),
        md("""
Every change below is a `helm upgrade` of the release with your `values.yaml`, plus what the cell changes — the
command is printed before it runs.
"""),
        code("from clearml_lab.steps.install import REPO_NAME\n\n\n"
             "def upgrade(*changes):\n"
             "    chart = [f'{REPO_NAME}/clearml', '--version', lab.chart_version, '--namespace', lab.namespace]\n"
             "    print('$ helm upgrade', lab.settings.release, *chart, '-f values.yaml', *changes)\n"
             "    result = lab.helm().run(['upgrade', lab.settings.release, *chart, '-f', str(lab.values_file),\n"
             "                             *changes])\n"
             "    print('upgraded.' if result.ok else result.error)"),
        code("view = nb.topology(lab)"),
        md("""
## An upgrade: two apiservers

More replicas change the Deployment but not its pod template: its ReplicaSet is scaled, no new revision is made.
(A changed template — an image tag, an environment variable — would start a rollout: a new ReplicaSet grows while
the old one shrinks, within the Deployment's `maxSurge` and `maxUnavailable`; `oc rollout status`, `oc rollout
history` and `helm rollback` follow it.)
"""),
        code("upgrade('--set', 'apiserver.replicaCount=2')\nnb.check('install', lab, timeout=300)"),
        code("for rs in lab.kube().list('replicasets', lab.namespace)['items']:\n"
             "    if rs['metadata']['name'].startswith('clearml-apiserver-') and 'asyncdelete' not in rs['metadata']['name']:\n"
             "        revision = rs['metadata']['annotations']['deployment.kubernetes.io/revision']\n"
             "        print(f\"revision {revision}: {rs['spec']['replicas']} pods\")"),
        md("""
## Break it: an image that no longer exists

Since September 2025 Bitnami serves only `latest` under `docker.io/bitnami`; the versioned tags the chart pins moved
to `docker.io/bitnamilegacy`. Your values already say `bitnamilegacy` — override it back, as a values file from
before the move would. Redis is a StatefulSet: its pod is replaced with one that cannot pull its image.
"""),
        code("upgrade('--set', 'redis.image.repository=bitnami/redis')\n\n"
             "from clearml_lab.kube import wait_for\n\n\n"
             "def pull_fails(pods):\n"
             "    return any(s.get('state', {}).get('waiting', {}).get('reason') in ('ErrImagePull', 'ImagePullBackOff')\n"
             "               for p in pods for s in p.get('status', {}).get('containerStatuses', []))\n\n\n"
             "with nb._Waiting('the new Redis pod pulling its image'):\n"
             "    wait_for(lab.kube(), 'pods', pull_fails, namespace=lab.namespace, name='clearml-redis-master-0')\n"
             "found = nb.diagnose(lab)"),
        md("""
## Fix it — and find out why that is not enough

The diagnosis names the fix: `redis.image.repository: bitnamilegacy/redis`, which your `values.yaml` has. Upgrade
with it again, then ask again. The lab reads the spec and the pods anew each time, so it does not repeat a fix that
is already in place: it names what still stands in the way.
"""),
        code("upgrade()\n\n\n"
             "def fix_seen(statefulsets):\n"
             "    return all(s['status'].get('observedGeneration') == s['metadata']['generation'] for s in statefulsets)\n\n\n"
             "wait_for(lab.kube(), 'statefulsets', fix_seen, namespace=lab.namespace, name='clearml-redis-master')\n"
             "found = nb.diagnose(lab)"),
        md("""
A StatefulSet with `podManagementPolicy: OrderedReady` (Redis's) replaces its pods one by one, each only after the
one before is Ready — and it never replaces a pod that never became Ready, even when its spec is fixed. This is a
known Kubernetes limitation: the pod must be deleted by hand. (Elasticsearch's StatefulSet is `Parallel`: it
replaces such a pod by itself.) The same, from a terminal: `oc delete pod clearml-redis-master-0 -n <project>`.
"""),
        code("lab.kube().delete('pods', 'clearml-redis-master-0', lab.namespace)\n"
             "print('pod \"clearml-redis-master-0\" deleted')\n"
             "nb.check('install', lab, timeout=300)"),
        md("""
## When someone changed it by hand

`oc rollout undo deployment/clearml-apiserver` also works on a helm release — but the fields it writes then belong
to `kubectl`, not helm. With helm 4 (server-side apply) the next upgrade that sets them otherwise stops with
`conflict with "kubectl"`; `clearml-lab diagnose` names the fields and the way out (`--force-conflicts` once
`values.yaml` says what you want). helm 3 overwrites them silently.

Your release now runs exactly your `values.yaml` again. Notebook 09 cleans it up when you are done.
"""),
        code("view.close()\nfound = nb.diagnose(lab)"),
    ],
    "12_hand_off": [
        md("""
# 12 · Hand-off: the recipe as a bundle your platform team applies

On the clusters where ClearML ends up you rarely hold cluster-admin, and platform teams do not run
`oc adm policy add-scc-to-user` by hand: they review YAML in Git and let OpenShift GitOps (Argo CD) or `oc apply`
apply it. Everything this lab worked out — the project, the SCC grants with a reason for each, the values with a
reason for each, the chart and its version — is written here as such a bundle:

- `platform/` — what needs cluster-admin: the Namespace, one RoleBinding per SCC grant (its reason annotated);
- `app/` — `values.yaml` and a `kustomization.yaml` that renders the chart as `helm install` would on this cluster;
- `README.md` — who applies what, in which order, with the commands.

Exporting changes nothing on the cluster. The same from a terminal: `clearml-lab export --out DIR`, and
`clearml-lab export --check DIR` to compare a bundle with the live project.

It reads your live install: if you already cleaned up (notebook 09), the first cell installs it again — with your
install still there it changes nothing.
"""),
        SESSION,
        code("for name in ('helm-repo', 'project', 'values', 'scc', 'install'):\n"
             "    nb.run(name, lab)"),
        md("## Export"),
        code("from clearml_lab import export\n\n"
             "bundle = lab.state_dir / 'hand-off'  # or a directory of your GitOps repository\n"
             "with nb._Waiting('export'):\n"
             "    result = export.export(lab, bundle, force=True)\n"
             "print(*result.files, sep='\\n')"),
        md("""
## What the platform team reviews

One RoleBinding per grant: the ClusterRole `system:openshift:scc:<scc>` bound to one service account, with the
planner's reason on it. The lab records it as one of its own grants, so its cleanup removes it too.
"""),
        code("grant = result.spec.grants[0]\n"
             "print((bundle / 'platform' / f'scc-{grant.scc}-{grant.service_account}.yaml').read_text())"),
        md("""
The values, each with the reason it is there. The chart's built-in ClearML keys are public, so the bundle points the
chart at a Secret the team creates first (`clearml.existingSecret`); the bundle itself never holds a secret.
"""),
        code("print((bundle / 'app' / 'values.yaml').read_text())"),
        md("""
How `app/` renders the chart: `kubectl kustomize --enable-helm` runs helm with the chart, version, release and
values named here, for this cluster's Kubernetes version and APIs, without the chart's test pods.
"""),
        code("import yaml\n\n"
             "chart = yaml.safe_load((bundle / 'app' / 'kustomization.yaml').read_text())['helmCharts'][0]\n"
             "chart['apiVersions'] = f\"{len(chart['apiVersions'])} entries, from the cluster's discovery\"\n"
             "print(yaml.safe_dump(chart, sort_keys=False))"),
        md("The README the team follows, generated from the same data:"),
        code("print((bundle / 'README.md').read_text())"),
        md("""
## Does the project match the bundle?

`export --check` compares the bundle with the live project: each SCC grant and platform object, every object of the
rendered chart in the fields the bundle sets, the chart version and the release's values.

Your install was made the lab's way, so expect differences — exactly what the hand-off does differently: the lab
granted with `oc adm policy` (one RoleBinding per SCC, so the per-grant bindings are missing, though the accounts
are granted), the project has no display name, and the chart still uses its public keys (`clearml-conf`) where the
bundle names your own Secret. Once the team has applied the bundle, the check finds nothing.
"""),
        code("with nb._Waiting('export --check'):\n"
             "    checked = export.check(lab, bundle)\n"
             "for difference in checked.differences:\n"
             "    print('-', difference.render())\n"
             "print('no difference.' if checked.ok else f'{len(checked.differences)} difference(s).')"),
    ],
    "workshop/instructor": [
        md("""
# ClearML on OpenShift — workshop · instructor

You run the workshop as a cluster admin. Each learner gets a project of which they are admin (named after their user
name, e.g. `ana-lopez-clearml` for `ana.lopez`), with what only a cluster admin can give: the SCC grants their ClearML
service accounts need (RoleBindings in their project, computed from the chart), the RBAC rules the chart's own Roles
hand out, and a ResourceQuota and LimitRange sized for one install. On the practice cluster each learner also gets a
login, a kubeconfig and a one-page hand-out; on a real cluster, give your learners' existing user names.

**Safe by default**: the grants are planned for the `hardened` profile, and a plan that needs an SCC opening the node
(privileged, host network, hostPath …) is refused unless you allow it. While the workshop runs, learners cannot create
projects of their own; provisioning first checks that the cluster's storage holds an install per learner.

Running this notebook changes nothing: the dashboard below acts only when you press its buttons.
"""),
        code("from clearml_lab.lab import connect\n"
             "from clearml_lab.widgets.workshop_dashboard import WorkshopDashboard\n\n"
             "lab = connect()  # your login as the cluster's admin; on the practice cluster the kubeadmin context\n"
             "dashboard = WorkshopDashboard(lab)\n"
             "dashboard"),
        md("""
## Using the dashboard

- **Provision**: type the learners' user names (or choose a number: `learner1` … `learnerN`) and press *Provision*.
  Safe to press again: it puts back what is missing, and with another profile it converges (grants no longer needed
  are revoked). The kubeconfigs and hand-outs go to `$CLEARML_LAB_HOME/workshop/`.
- **Progress**: *Refresh now* (or every 30 s) reads each learner's project with your credentials. `pass`, `FAIL`
  (tried and failed), `-` (not reached); *at* is the learner's current step. A stuck learner's row is highlighted, and
  below the table each cause has its fix — yours (e.g. a missing grant) or the learner's.
- **Reset**: choose a step in the learner's row and press *Reset*: that step and every later one are undone in their
  project, and what you provisioned is put back.
- **Tear down…** asks first, naming the cluster and the projects it will delete; it returns when they are gone and
  proves nothing of the workshop is left.

The same from a terminal: `clearml-lab workshop provision --names ana.lopez,grace --out DIR`,
`clearml-lab workshop progress`, `clearml-lab workshop reset grace --to install`, `clearml-lab workshop teardown`.
For learners on a classroom network, start the practice cluster with `clearml-lab practice up --address <this
machine's classroom IP>`: it keeps its address and port across restarts, so the kubeconfigs you hand out keep working.
"""),
    ],
}


def _title(name: str) -> str:
    """A notebook's first heading, without the course prefix: '01 · The chart repository'."""
    first = NOTEBOOKS[name][0].source.splitlines()[0].lstrip("# ").strip()
    return first.split(" — ", 1)[1] if first.startswith("ClearML on OpenShift — ") else first


def next_link(name: str):
    """The closing cell of a numbered notebook: a link to the next one (the last links back to the start)."""
    numbered = [n for n in NOTEBOOKS if re.fullmatch(r"\d\d_.*", n)]
    if name not in numbered:
        return None
    index = numbered.index(name)
    if index + 1 < len(numbered):
        following = numbered[index + 1]
        return md(f"**Next:** [{_title(following)}]({following}.ipynb)")
    return md(f"That was the last notebook. Back to the start: [{_title(numbered[0])}]({numbered[0]}.ipynb)")


def notebook(name: str):
    """The notebook ``name`` as its cell texts define it, ending with a link to the next: clean, with cell ids
    that do not change between builds."""
    closing = next_link(name)
    cells = [nbformat.from_dict(dict(c)) for c in NOTEBOOKS[name] + ([closing] if closing else [])]
    for index, cell in enumerate(cells):
        cell["id"] = f"cell-{index:02d}"
    result = new_notebook(cells=cells)
    result.metadata.update(METADATA)
    return result


def build() -> list[Path]:
    paths = []
    for name in NOTEBOOKS:
        path = OUT / f"{name}.ipynb"
        path.parent.mkdir(parents=True, exist_ok=True)
        nbformat.write(notebook(name), path)
        paths.append(path)
    return paths


def recorded_path(path: Path) -> Path:
    return RECORDED / path.relative_to(OUT)


def execute(paths: list[Path]) -> None:
    """Run every notebook in order against one fresh practice cluster and store it, with its outputs, as nbval's
    reference copy. Every code cell must come back with an execution count: nbval compares no cell without one."""
    from nbclient import NotebookClient

    sys.path.insert(0, str(ROOT))
    from tests.notebooks.harness import practice_session  # the same set-up the nbval suite uses

    with practice_session() as env:
        for path in paths:
            out = recorded_path(path)
            out.parent.mkdir(parents=True, exist_ok=True)
            nb = nbformat.read(path, as_version=4)
            # Run where nbval runs the reference copy, so relative paths mean the same in both runs.
            NotebookClient(nb, timeout=600, kernel_name="python3",
                           resources={"metadata": {"path": str(out.parent)}}).execute(env=env)
            unrun = [i for i, c in enumerate(nb.cells) if c.cell_type == "code" and c.execution_count is None]
            if unrun:
                raise SystemExit(f"{path.name}: code cells {unrun} came back without an execution count")
            nb.metadata.pop("widgets", None)  # widget state: random model ids, nothing nbval compares
            nbformat.write(nb, out)
            print(f"recorded {out}", flush=True)


def workspace(target: Path, source: Path = OUT) -> list[str]:
    """The learner's copies: every notebook of ``source`` that ``target`` lacks is copied there (a copy the learner
    has is never replaced); ``target`` ignores itself in git. Returns one line per copy older than its source."""
    target.mkdir(parents=True, exist_ok=True)
    (target / ".gitignore").write_text("# the learner's copies of notebooks/ (scripts/build_notebooks.py --workspace)\n*\n")
    older = []
    for path in sorted(source.rglob("*.ipynb")):
        if ".ipynb_checkpoints" in path.parts:
            continue
        copy = target / path.relative_to(source)
        if not copy.exists():
            copy.parent.mkdir(parents=True, exist_ok=True)
            copy.write_bytes(path.read_bytes())
        elif copy.read_bytes() != path.read_bytes() and copy.stat().st_mtime < path.stat().st_mtime:
            older.append(f"{copy} is your copy; notebooks/ has a newer {path.name} (delete your copy to get it)")
    return older


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--execute", action="store_true",
                        help="also run them and store the reference copies in tests/notebooks/recorded/")
    parser.add_argument("--workspace", metavar="DIR", type=Path,
                        help="only copy the notebooks a learner lacks into DIR (what `make lab` opens)")
    args = parser.parse_args()
    if args.workspace:
        for line in workspace(args.workspace):
            print(line)
        return 0
    paths = build()
    if args.execute:
        execute(paths)
    return 0


if __name__ == "__main__":
    sys.exit(main())
