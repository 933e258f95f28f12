"""Access that lasts: `practice up --address ADDR` serves on that address with a certificate naming it, and a
restart keeps the address and the port (and the chart repository's), so every kubeconfig handed out keeps working.
127.0.0.2 stands for a classroom address: it is on this machine (the loopback range) yet not 127.0.0.1."""

import json
import socket
import ssl
import subprocess
import sys
from pathlib import Path

import yaml

BIN = Path(sys.executable).parent


def _practice(home, *args):
    return subprocess.run(
        [str(BIN / "clearml-lab"), "practice", *args, "--state", str(home / "state")],
        capture_output=True,
        text=True,
        timeout=180,
        env={"CLEARML_LAB_HOME": str(home), "PATH": str(BIN) + ":/usr/bin:/bin"},
    )


def _kubectl(kubeconfig, *args):
    return subprocess.run(
        [str(BIN / "kubectl"), "--kubeconfig", str(kubeconfig), *args], capture_output=True, text=True, timeout=60
    )


def test_practice_up_on_an_address_keeps_it_and_its_port_across_restarts(tmp_path):
    home = tmp_path / "home"
    refused = _practice(home, "up", "--address", "0.0.0.0")
    assert refused.returncode == 2 and "names no address the certificate" in refused.stderr
    assert not (home / "state" / "listen.json").exists()
    try:
        up = _practice(home, "up", "--address", "127.0.0.2", "--time-scale", "0.05")
        assert up.returncode == 0, up.stderr
        state = home / "state"
        listen = json.loads((state / "listen.json").read_text())
        server = yaml.safe_load((state / "kubeconfig").read_text())["clusters"][0]["cluster"]["server"]
        assert server == f"https://127.0.0.2:{listen['port']}" and server in up.stdout
        # A learner's copy of the kubeconfig, as handed out before the restart.
        handed_out = tmp_path / "learner.kubeconfig"
        handed_out.write_text((state / "kubeconfig").read_text())
        got = _kubectl(handed_out, "get", "namespaces", "-o", "name")  # TLS verified against the address
        assert got.returncode == 0 and "namespace/default" in got.stdout, got.stderr
        context = ssl.create_default_context(cafile=str(state / "ca.crt"))
        with context.wrap_socket(
            socket.create_connection(("127.0.0.2", listen["port"])), server_hostname="127.0.0.2"
        ) as tls:
            assert tls.version()  # the certificate names 127.0.0.2

        assert _practice(home, "down").returncode == 0
        again = _practice(home, "up", "--time-scale", "0.05")  # no --address: the last start's
        assert again.returncode == 0, again.stderr
        assert json.loads((state / "listen.json").read_text()) == listen
        got = _kubectl(handed_out, "get", "namespaces", "-o", "name")
        assert got.returncode == 0 and "namespace/default" in got.stdout, got.stderr
        repo = json.loads((state / "server.json").read_text())["chart_repository"]
        assert repo == f"http://127.0.0.2:{listen['chart_port']}"
    finally:
        _practice(home, "down")
