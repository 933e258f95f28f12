"""The chart source is a Helm repository: versions from its index, packages through `helm pull` into a cache keyed by
URL, version and digest, and the commands that read it (charts, lint-values, plan-scc) with no cluster at all.

Every repository here is a loopback one (tests/chartrepo_fixtures.py); the tests' own chart NEW_VERSION has keys the
practice charts lack, a values schema, values files it ships, and a service account shared by a root pod and a pod
with a privileged init container.
"""

import hashlib
import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from clearml_lab import chart
from clearml_lab.errors import LabError, UsageError
from clearml_lab.practice.chartrepo import LoopbackRepository, build_repository
from clearml_lab.values import lint
from tests.chartrepo_fixtures import NEW_VERSION, index, new_chart_files, package

pytestmark = pytest.mark.helm
BIN = Path(sys.executable).parent


@pytest.fixture
def cache(tmp_path, monkeypatch):
    """A fresh chart cache and no memory of earlier indexes, so each test sees what it fetched itself."""
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    monkeypatch.setattr(chart, "_indexes", {})
    monkeypatch.setattr(chart, "_notes", {})
    monkeypatch.setattr(chart, "_files", {})
    monkeypatch.setattr(chart, "_keys", {})
    return tmp_path / "cache" / "clearml-lab"


def cli(tmp_path, *args, env=None):
    """clearml-lab with no cluster: a lab home without a practice cluster, no KUBECONFIG."""
    environment = {
        **os.environ,
        "CLEARML_LAB_HOME": str(tmp_path / "home"),
        "XDG_CACHE_HOME": str(tmp_path / "xdg"),
        **(env or {}),
    }
    environment.pop("KUBECONFIG", None)
    return subprocess.run(
        [str(BIN / "clearml-lab"), *args],
        capture_output=True,
        text=True,
        env=environment,
        timeout=300,
        stdin=subprocess.DEVNULL,
    )


# ---- the index and the default version ------------------------------------------------------------------------------
def test_index_lists_every_version_with_app_and_kube_versions(cache, extended_chart_repository):
    idx = chart.index(extended_chart_repository.url)
    assert idx.versions() == ["7.3.1", "7.14.4", NEW_VERSION]
    entry = idx.entry(NEW_VERSION)
    assert (entry.app_version, entry.kube_version) == ("2.1", ">= 1.29.0-0 < 1.34.0-0")
    assert (
        entry.digest
        == hashlib.sha256(
            (Path(extended_chart_repository.directory) / f"clearml-{NEW_VERSION}.tgz").read_bytes()
        ).hexdigest()
    )


@pytest.mark.parametrize(
    "kube,expected",
    [(None, NEW_VERSION), ("1.33", NEW_VERSION), ("v1.32.5", NEW_VERSION), ("1.28", "7.14.4"), ("1.26", "7.14.4")],
)
def test_default_is_the_newest_that_fits_the_cluster(cache, extended_chart_repository, kube, expected):
    assert chart.default_version(extended_chart_repository.url, kube) == expected


def test_no_version_fits_names_the_newest_and_its_range(cache, extended_chart_repository):
    with pytest.raises(LabError, match=f"no clearml chart .* accepts Kubernetes 1.40.0 .*{NEW_VERSION}"):
        chart.default_version(extended_chart_repository.url, "1.40")


def test_a_version_not_served_lists_the_nearest(cache, extended_chart_repository):
    with pytest.raises(UsageError) as refused:
        chart.chart_package("7.14.7", extended_chart_repository.url)
    message = str(refused.value)
    assert f"choose one of 7.3.1, 7.14.4, {NEW_VERSION}" in message and extended_chart_repository.url in message


def test_nearest_versions_are_the_neighbours_in_version_order():
    served = [f"7.{minor}.{patch}" for minor in (3, 9, 14) for patch in range(8)]
    assert chart.nearest_versions("7.14.9", served) == ["7.14.4", "7.14.5", "7.14.6", "7.14.7"]
    assert chart.nearest_versions("7.9.9", served, n=2) == ["7.9.7", "7.14.0"]
    assert chart.nearest_versions("1.0.0", served, n=2) == ["7.3.0", "7.3.1"]


# ---- the package cache ----------------------------------------------------------------------------------------------
def test_the_package_is_helms_bytes_cached_by_url_version_and_digest(cache, tmp_path):
    served = tmp_path / "repo"
    repo = LoopbackRepository(served).start()
    build_repository(served, repo.url)
    first = chart.chart_package("7.14.4", repo.url)
    digest = hashlib.sha256((served / "clearml-7.14.4.tgz").read_bytes()).hexdigest()
    assert first.read_bytes() == (served / "clearml-7.14.4.tgz").read_bytes()
    assert first.name == f"clearml-7.14.4-{digest[:16]}.tgz"
    assert first.parent == cache / "charts" / hashlib.sha256(repo.url.encode()).hexdigest()[:16]
    repo.stop()  # cached, index and package: no request needed any more
    assert chart.chart_package("7.14.4", repo.url) == first
    assert chart.source_note(repo.url) is None


def test_a_failed_download_leaves_nothing_in_the_cache(cache, tmp_path):
    served = tmp_path / "repo"
    with LoopbackRepository(served) as repo:
        build_repository(served, repo.url)
        (served / "clearml-7.3.1.tgz").unlink()  # the index names it, the server answers 404
        with pytest.raises(LabError, match=f"{repo.url} cannot be reached .*--chart-repo"):
            chart.chart_package("7.3.1", repo.url)
    leftovers = [p for p in (cache / "charts").rglob("*")]
    assert leftovers == [cache / "charts" / hashlib.sha256(repo.url.encode()).hexdigest()[:16]]


def test_a_package_that_does_not_match_the_index_is_refused_and_not_cached(cache, tmp_path):
    served = tmp_path / "repo"
    with LoopbackRepository(served) as repo:
        build_repository(served, repo.url)
        (served / "clearml-7.14.4.tgz").write_bytes((served / "clearml-7.3.1.tgz").read_bytes())
        with pytest.raises(LabError, match="does not match the digest"):
            chart.chart_package("7.14.4", repo.url)
    assert not list((cache / "charts").rglob("*.tgz"))


def test_unreachable_repository_is_one_sentence_naming_the_url_and_the_option(cache):
    with LoopbackRepository(Path(cache).parent / "gone") as repo:
        url = repo.url
    with pytest.raises(LabError) as failed:
        chart.index(url)
    message = str(failed.value)
    assert message.startswith(f"the chart repository {url} cannot be reached (")
    assert "--chart-repo URL" in message and "\n" not in message and message.count(". ") == 0


def test_unreachable_repository_with_a_cached_package_uses_it_and_says_so(cache, tmp_path, monkeypatch):
    served = tmp_path / "repo"
    repo = LoopbackRepository(served).start()
    build_repository(served, repo.url)
    package_path = chart.chart_package("7.3.1", repo.url)
    repo.stop()
    # A later process (nothing in memory) with a stale index: the repository is asked again and does not answer.
    monkeypatch.setattr(chart, "_indexes", {})
    monkeypatch.setattr(chart, "INDEX_MAX_AGE_S", 0)
    assert chart.chart_package("7.3.1", repo.url) == package_path
    assert "cannot be reached" in chart.source_note(repo.url) and "cached" in chart.source_note(repo.url)
    # With no index either (a wiped helm cache), the cached package still answers for its version.
    for cached_index in (cache / "helm-state").rglob("*-index.yaml"):
        cached_index.unlink()
    monkeypatch.setattr(chart, "_indexes", {})
    assert chart.chart_package("7.3.1", repo.url) == package_path
    assert "using the clearml 7.3.1 package cached" in chart.source_note(repo.url)
    with pytest.raises(LabError, match="cannot be reached"):
        chart.chart_package("7.14.4", repo.url)


@pytest.mark.parametrize(
    "url,message",
    [
        ("oci://registry.example.com/charts", "OCI registry, which the lab does not read"),
        ("ftp://mirror.example.com/charts", "not an http(s) URL"),
        ("https://ana:s3cret@mirror.example.com/charts", "carries credentials"),
    ],
)
def test_repository_urls_the_lab_refuses(url, message):
    with pytest.raises(UsageError, match=message.replace("(", r"\(").replace(")", r"\)")) as refused:
        chart.repo_url(url)
    assert "s3cret" not in str(refused.value)


def test_credentials_and_ca_file_go_to_helms_own_options(monkeypatch, tmp_path):
    ca = tmp_path / "ca.pem"
    ca.write_text("-----BEGIN CERTIFICATE-----\n")
    monkeypatch.setenv(chart.CA_FILE_ENV, str(ca))
    monkeypatch.setenv(chart.USERNAME_ENV, "ana")
    monkeypatch.setenv(chart.PASSWORD_ENV, "s3cret")
    args, password = chart.repo_add_args("clearml", "https://mirror.example.com/charts")
    assert args == [
        "repo",
        "add",
        "clearml",
        "https://mirror.example.com/charts",
        "--force-update",
        "--ca-file",
        str(ca),
        "--username",
        "ana",
        "--password-stdin",
    ]
    assert password == "s3cret" and "s3cret" not in args  # on stdin, never on a command line
    monkeypatch.delenv(chart.PASSWORD_ENV)
    with pytest.raises(UsageError, match="set both, or neither"):
        chart.repo_add_args("clearml", "https://mirror.example.com/charts")


# ---- what the package says about its keys ---------------------------------------------------------------------------
def test_chart_keys_come_from_defaults_templates_schema_and_subcharts(cache, extended_chart_repository):
    keys = chart.chart_keys(NEW_VERSION, extended_chart_repository.url)
    assert keys.defaults["worker"]["tuning"]["maxMapCount"] == 262144
    assert keys.defaults["elasticsearch"]["sysctlInitContainer"] == {"enabled": True}  # a subchart, under its key
    assert {"worker.deploymentAnnotations", "worker.probe", "worker.tuning.maxMapCount"} <= keys.read
    assert "worker.probe" in keys.whole  # handed on whole by `with … toYaml`
    clean = "worker:\n  queue: gpu\n  deploymentAnnotations: {a: b}\n  probe:\n    httpGet: {path: /}\n"
    assert lint(clean, keys) == []
    (typo,) = lint("worker:\n  replicaCont: 2\n", keys)
    assert typo.severity == "error" and "did you mean `worker.replicaCount`" in typo.message
    (maybe,) = lint(
        "worker:\n  deploymentAnnotations: {}\n  probe: {httpGet: {path: /}}\n  tuning:\n"
        "    maxMapCount: 1\n    swappiness: 1\n",
        keys,
    )
    assert maybe.severity == "error"  # tuning is read key by key (index …), not handed on whole


@pytest.mark.parametrize("version", ["7.3.1", "7.14.4", NEW_VERSION])
def test_every_values_file_a_chart_ships_lints_clean(cache, extended_chart_repository, version):
    files = chart.chart_files(version, extended_chart_repository.url)
    keys = chart.chart_keys(version, extended_chart_repository.url)
    shipped = files.shipped_values()
    assert ("values-production.yaml" in shipped) == (version == NEW_VERSION)
    for name, text in shipped.items():
        assert [p for p in lint(text, keys) if p.severity == "error"] == [], name


def test_a_subchart_under_an_alias_is_linted_under_the_alias(cache, tmp_path):
    files = new_chart_files("7.16.0")
    meta = yaml.safe_load(files["Chart.yaml"])
    for dep in meta["dependencies"]:
        if dep["name"] == "redis":
            dep["alias"] = "cache"
    files["Chart.yaml"] = yaml.safe_dump(meta).encode()
    values = yaml.safe_load(files["values.yaml"])
    values["cache"] = values.pop("redis")
    files["values.yaml"] = yaml.safe_dump(values).encode()
    served = tmp_path / "repo"
    with LoopbackRepository(served) as repo:
        package(files, "clearml", served, tmp_path / "src")
        index(served, repo.url)
        keys = chart.chart_keys("7.16.0", repo.url)
    assert lint("cache:\n  master:\n    persistence: {size: 1Gi}\n", keys) == []
    (problem,) = lint("redis:\n  master: {}\n", keys)
    assert "`redis` is not a key" in problem.message


# ---- the commands, with no cluster ----------------------------------------------------------------------------------
def test_charts_lists_every_version_and_marks_the_default(tmp_path, extended_chart_repository):
    done = cli(tmp_path, "--chart-repo", extended_chart_repository.url, "charts")
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines[0] == f"clearml chart versions served by {extended_chart_repository.url}; target: no cluster"
    rows = [line.split() for line in lines[2:5]]
    assert rows == [
        ["*", NEW_VERSION, "2.1", ">=", "1.29.0-0", "<", "1.34.0-0", "no", "cluster"],
        ["7.14.4", "2.0", ">=", "1.21.0-0", "<", "1.33.0-0", "no", "cluster"],
        ["7.3.1", "1.12.0", ">=", "1.21.0-0", "<", "1.29.0-0", "no", "cluster"],
    ]


def test_charts_reads_the_repository_from_the_environment(tmp_path, extended_chart_repository):
    done = cli(tmp_path, "charts", env={"CLEARML_LAB_CHART_REPO": extended_chart_repository.url})
    assert done.returncode == 0 and NEW_VERSION in done.stdout


def test_with_no_repository_chosen_the_public_one_is_named(tmp_path):
    done = cli(tmp_path, "charts", env={"CLEARML_LAB_CHART_REPO": ""})
    # This machine has no internet: one sentence naming the public URL and the option.
    assert done.returncode == 1
    assert done.stderr.startswith(f"clearml-lab: the chart repository {chart.PUBLIC_REPO} cannot be reached")
    assert "--chart-repo URL" in done.stderr and len(done.stderr.strip().splitlines()) == 1


def test_lint_values_of_a_shipped_file_exits_zero(tmp_path, extended_chart_repository):
    values = tmp_path / "values-production.yaml"
    values.write_text(new_chart_files()["values-production.yaml"].decode())
    done = cli(tmp_path, "--chart-repo", extended_chart_repository.url, "lint-values", str(values))
    assert done.returncode == 0, done.stdout + done.stderr
    assert f"0 error(s), 0 warning(s) against clearml chart {NEW_VERSION} from" in done.stdout
    # 7.14.4 has no worker: the same file has errors there.
    done = cli(
        tmp_path, "--chart-repo", extended_chart_repository.url, "--chart-version", "7.14.4", "lint-values", str(values)
    )
    assert done.returncode == 1 and "`worker` is not a key of this chart" in done.stdout


def test_an_indentation_slip_suggests_indenting(tmp_path, extended_chart_repository):
    values = tmp_path / "values.yaml"
    values.write_text("apiserver:\n  podSecurityContext:\n    runAsUser: 0\nwebserver:\nservice:\n  type: ClusterIP\n")
    done = cli(tmp_path, "--chart-repo", extended_chart_repository.url, "lint-values", str(values))
    assert done.returncode == 1
    assert (
        f"{values}:5:1: error: `service` is not a key of this chart; did you mean "
        "`webserver.service`? Indent it under `webserver:`" in done.stdout
    )


def test_plan_scc_renders_the_chart_it_is_given(tmp_path, extended_chart_repository):
    done = cli(tmp_path, "--chart-repo", extended_chart_repository.url, "plan-scc")
    assert done.returncode == 0, done.stderr
    # The tests' chart runs a privileged init container as clearml-worker: only privileged admits it.
    assert "oc adm policy add-scc-to-user privileged -z clearml-worker" in done.stdout
    old = cli(tmp_path, "--chart-repo", extended_chart_repository.url, "--chart-version", "7.14.4", "plan-scc")
    assert old.returncode == 0 and "clearml-worker" not in old.stdout


def test_a_version_the_repository_does_not_serve_is_a_usage_error(tmp_path, extended_chart_repository):
    done = cli(tmp_path, "--chart-repo", extended_chart_repository.url, "--chart-version", "7.14.7", "plan-scc")
    assert done.returncode == 2
    assert (
        f"chart version 7.14.7 is not served by {extended_chart_repository.url}: choose one of 7.3.1, 7.14.4, "
        f"{NEW_VERSION}" in done.stderr
    )


def test_a_slow_fetch_says_what_it_waits_for(cache, tmp_path, monkeypatch):
    said = []
    monkeypatch.setattr(chart, "progress", said.append)
    monkeypatch.setattr(chart, "PROGRESS_AFTER_S", 0)
    served = tmp_path / "repo"
    with LoopbackRepository(served) as repo:
        build_repository(served, repo.url)
        chart.chart_package("7.3.1", repo.url)
    assert said == [
        f"reading the chart repository {repo.url} (index.yaml) …",
        f"downloading the clearml chart 7.3.1 from {repo.url} …",
    ]


def test_a_mirror_behind_a_login_is_read_with_helms_own_credentials(cache, tmp_path, monkeypatch):
    import base64
    import functools
    import threading
    from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer

    served = tmp_path / "repo"
    served.mkdir()
    wanted = "Basic " + base64.b64encode(b"ana:s3cret").decode()

    class LoginRequired(SimpleHTTPRequestHandler):
        def do_GET(self):
            if self.headers.get("Authorization") != wanted:
                self.send_response(401)
                self.send_header("WWW-Authenticate", 'Basic realm="charts"')
                self.end_headers()
                return
            super().do_GET()

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(LoginRequired, directory=str(served)))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{server.server_address[1]}"
    try:
        build_repository(served, url)
        with pytest.raises(LabError, match=f"{url} cannot be reached .*401"):
            chart.index(url)
        monkeypatch.setenv(chart.USERNAME_ENV, "ana")
        monkeypatch.setenv(chart.PASSWORD_ENV, "s3cret")
        assert chart.chart_package("7.3.1", url).read_bytes() == (served / "clearml-7.3.1.tgz").read_bytes()
    finally:
        server.shutdown()
        server.server_close()


def test_a_mirror_with_its_own_ca_is_read_with_helms_ca_file(cache, tmp_path, monkeypatch):
    import ssl

    from clearml_lab.practice.pki import ensure_certificates

    ca, cert, key = ensure_certificates(tmp_path / "pki")
    served = tmp_path / "repo"
    repo = LoopbackRepository(served)
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(str(cert), str(key))
    repo.server.socket = context.wrap_socket(repo.server.socket, server_side=True)
    url = repo.url.replace("http://", "https://")
    with repo:
        build_repository(served, url)
        with pytest.raises(LabError, match=f"{url} cannot be reached .*certificate"):
            chart.index(url)
        monkeypatch.setenv(chart.CA_FILE_ENV, str(ca))
        assert chart.chart_package("7.14.4", url).read_bytes() == (served / "clearml-7.14.4.tgz").read_bytes()


def test_a_version_published_after_the_index_was_read_is_found(cache, tmp_path):
    served = tmp_path / "repo"
    with LoopbackRepository(served) as repo:
        build_repository(served, repo.url)
        index(served, repo.url)
        assert chart.index(repo.url).versions() == ["7.3.1", "7.14.4"]
        package(new_chart_files("7.16.0-rc.1"), "clearml", served, tmp_path / "src")
        index(served, repo.url)
        found = chart.chart_package("7.16.0-rc.1", repo.url)
        assert found.name.startswith("clearml-7.16.0-rc.1-")
        # A pre-release is served, but not the default while a release exists.
        assert chart.default_version(repo.url) == "7.14.4"
    # Offline, the cached pre-release package still answers for its own version.
    chart._indexes.clear()
    for cached_index in (cache / "helm-state").rglob("*-index.yaml"):
        cached_index.unlink()
    assert chart.chart_package("7.16.0-rc.1", repo.url) == found


def test_rendering_linting_and_planning_never_import_the_simulator(tmp_path, loopback_chart_repository):
    script = (
        "import sys\n"
        "from clearml_lab import chart\n"
        "from clearml_lab.scc import plan_grants\n"
        "from clearml_lab.values import lint\n"
        "objects = chart.render('7.14.4')\n"
        "assert plan_grants(objects, namespace='clearml').grants()\n"
        "assert lint('apiserver: {replicaCount: 1}\\n', chart.chart_keys('7.14.4')) == []\n"
        "print(sorted(m for m in sys.modules if m.startswith('clearml_lab.practice')))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script],
        capture_output=True,
        text=True,
        timeout=300,
        env={
            **os.environ,
            "XDG_CACHE_HOME": str(tmp_path / "cache"),
            "CLEARML_LAB_CHART_REPO": loopback_chart_repository.url,
        },
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"


def test_commands_say_when_the_repository_is_gone_and_a_cached_chart_answers(tmp_path):
    served = tmp_path / "repo"
    repo = LoopbackRepository(served).start()
    build_repository(served, repo.url)
    first = cli(tmp_path, "--chart-repo", repo.url, "--chart-version", "7.3.1", "plan-scc")
    assert first.returncode == 0 and "note:" not in first.stderr
    repo.stop()
    for cached_index in (tmp_path / "xdg").rglob("*-index.yaml"):  # read an hour ago: the lab asks again
        os.utime(cached_index, (cached_index.stat().st_atime - 3600,) * 2)
    stale = {"XDG_CACHE_HOME": str(tmp_path / "xdg")}
    for command in (("plan-scc",), ("lint-values", "/dev/null")):
        done = cli(tmp_path, "--chart-repo", repo.url, "--chart-version", "7.3.1", *command, env=stale)
        assert done.returncode == 0, done.stderr
        assert done.stderr.startswith(f"note: the chart repository {repo.url} cannot be reached"), done.stderr
        assert "cached" in done.stderr
    charts = cli(tmp_path, "--chart-repo", repo.url, "charts")
    assert charts.returncode == 0 and "note: " in charts.stderr and "7.3.1" in charts.stdout


def test_the_lab_resolves_its_chart_version_once_and_keeps_it(
    tmp_path, monkeypatch, extended_chart_repository, loopback_chart_repository
):
    from clearml_lab.lab import Lab, Settings, Target

    monkeypatch.setattr(Lab, "server_version", lambda self: "v1.32.5")
    monkeypatch.delenv("CLEARML_LAB_CHART_REPO")
    target = Target("kubeconfig", "https://api.example:6443", kubeconfig="k", context="c")

    def lab(**settings):
        return Lab(target, Settings(**settings), None, tmp_path / "state", False, None)

    mirror = extended_chart_repository.url
    first = lab(chart_repo=mirror)
    assert first.chart_repo == mirror and first.chart_version == NEW_VERSION  # newest that fits 1.32
    assert first.pin_chart_version() == NEW_VERSION and first.settings.chart_version == NEW_VERSION
    # A later process, with no option given: the chosen mirror and the kept version.
    later = lab()
    assert (later.chart_repo, later.chart_version) == (mirror, NEW_VERSION)
    # Choosing another repository, or a version, is not overruled by what was kept.
    other = lab(chart_repo=loopback_chart_repository.url)
    assert other.chart_version == "7.14.4"
    assert lab(chart_version="7.3.1").chart_version == "7.3.1"
    # A real cluster with nothing chosen and nothing kept reads the public repository.
    later.forget_chart_version()
    assert lab().chart_repo == chart.PUBLIC_REPO


def test_a_workshop_seat_carries_the_chart_repository_and_version(tmp_path, monkeypatch, extended_chart_repository):
    from clearml_lab.lab import Lab, Settings, Target
    from clearml_lab.workshop_mode import CHART_REPO, CHART_VERSION, LEARNER, PROFILE, follow, seat_of

    project = {
        "metadata": {
            "name": "ada-clearml",
            "annotations": {
                LEARNER: "ada",
                CHART_VERSION: NEW_VERSION,
                PROFILE: "hardened",
                CHART_REPO: extended_chart_repository.url,
            },
        }
    }
    seat = seat_of(project)
    assert (seat.chart_repo, seat.chart_version) == (extended_chart_repository.url, NEW_VERSION)
    monkeypatch.delenv("CLEARML_LAB_CHART_REPO")
    target = Target("kubeconfig", "https://api.example:6443", kubeconfig="k", context="ada")

    def learner_lab(**settings):
        lab = Lab(target, Settings(namespace="ada-clearml", **settings), None, tmp_path / "state", True, seat)
        return follow(
            lab, namespace_chosen=True, chart_version_chosen="chart_version" in settings, profile_chosen=False
        )

    followed = learner_lab()
    assert (followed.chart_repo, followed.chart_version) == (extended_chart_repository.url, NEW_VERSION)
    chosen = learner_lab(chart_repo="http://mirror.example/charts")
    assert chosen.chart_repo == "http://mirror.example/charts"  # what the learner chose is not overruled
