"""`clearml-lab practice serve|up|down|status`."""

from __future__ import annotations

import ipaddress
import logging
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from ..errors import LabError, UsageError
from ..paths import practice_state
from .lifecycle import use_image_file
from .registry import release

# The learner's default pace: the lifecycle data holds real durations (the apiserver's 60 s probe delay waits for
# Elasticsearch), about 135 s to Ready; scaled by this, an install is Ready within a minute.
DEFAULT_TIME_SCALE = 0.35


def default_state() -> Path:
    """Where the lab looks for the practice cluster's kubeconfig: <lab home>/practice ($CLEARML_LAB_HOME)."""
    return practice_state()


def register(subparsers, common) -> None:
    practice = subparsers.add_parser(
        "practice", parents=[common], help="the practice cluster: a local OpenShift-like API server (no containers)"
    )
    sub = practice.add_subparsers(dest="practice_command", metavar="ACTION")
    sub.required = True
    for name, handler, text in (
        ("serve", _serve, "run it in the foreground"),
        ("up", _up, "start it in the background (returns once it answers)"),
        ("down", _down, "stop the background one"),
        ("status", _status, "say whether it runs, where, and its kubeconfig"),
    ):
        p = sub.add_parser(name, parents=[common], help=text)
        p.add_argument(
            "--state",
            metavar="DIR",
            type=Path,
            default=default_state(),
            help="state directory (default $CLEARML_LAB_HOME/practice, else ~/.clearml-lab/practice)",
        )
        if name in ("serve", "up"):
            p.add_argument(
                "--address",
                metavar="ADDR",
                default=None,
                help="the address to serve on, which the certificate names (default: that of the last "
                "start, else 127.0.0.1); a classroom address lets learners on that network connect",
            )
            p.add_argument(
                "--port",
                type=int,
                default=0,
                help="HTTPS port (0: the port of the last start, so "
                "handed-out kubeconfigs keep working, else a free one)",
            )
            p.add_argument(
                "--time-scale",
                type=float,
                default=DEFAULT_TIME_SCALE,
                metavar="X",
                help=f"multiply simulated durations by X (default {DEFAULT_TIME_SCALE}: an install is "
                "Ready within a minute; 1 = the real pace, where ClearML's probes alone take minutes; "
                "0.05 = twenty times faster)",
            )
            p.add_argument(
                "--openshift-version",
                metavar="4.N",
                default=None,
                help="OpenShift release to emulate (4.11 ... 4.20, default 4.19)",
            )
            # 8Ti: enough for 52 concurrent 155Gi installs (why: data/lifecycle.yaml, storage.default_capacity)
            p.add_argument(
                "--storage-capacity",
                metavar="QUANTITY",
                default="8Ti",
                help="total capacity of the default storage class; its CSIStorageCapacity reports what "
                "is still free (default 8Ti)",
            )
            p.add_argument(
                "--images",
                metavar="FILE",
                type=Path,
                default=None,
                help="extend the image model with your own images (same schema as the shipped "
                "clearml_lab/practice/data/images/*.yaml), e.g. to try your own chart",
            )
        p.set_defaults(handler=handler)


def _kubeconfig_path(args) -> Path:
    # The global --kubeconfig names the file serve writes; by default it lives in the state dir.
    given = getattr(args, "kubeconfig", None)
    return Path(given) if given else args.state / "kubeconfig"


def _check_scale(args) -> None:
    if not args.time_scale > 0:
        raise UsageError(f"--time-scale must be a positive number, not {args.time_scale}.")
    if not 0 <= args.port <= 65535:
        raise UsageError(f"--port must be between 0 and 65535, not {args.port}.")
    _check_address(args.address)


def _check_address(address: str | None) -> None:
    if address is None:
        return
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        if not address or any(c in address for c in "/: ") or len(address) > 253:
            raise UsageError(
                f"--address {address!r} is not an IP address or host name: give the address learners "
                f"connect to, e.g. 127.0.0.1 or this machine's classroom IP."
            ) from None
        return
    if ip.is_unspecified:
        raise UsageError(
            f"--address {address} listens everywhere but names no address the certificate and the "
            f"kubeconfigs could use: give the address learners connect to (this machine's classroom "
            f"IP)."
        )


def _use_images(path: Path | None) -> None:
    if path is None:
        return
    try:
        use_image_file(path)
    except ValueError as err:
        raise UsageError(f"--images: {err}.") from None


def _serve(args) -> int:
    # Here, not at the top: runtime brings aiohttp and cryptography (~0.3 s), which every clearml-lab command would
    # pay, since each imports this module to register its subcommands.
    from .runtime import Cluster, serve_forever

    _check_scale(args)
    release(args.openshift_version)  # a bad version is a usage error before anything is created
    _use_images(args.images)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    cluster = Cluster(
        args.state.resolve(),
        _kubeconfig_path(args).resolve(),
        port=args.port,
        time_scale=args.time_scale,
        openshift_version=args.openshift_version,
        storage_capacity=args.storage_capacity,
        address=args.address,
    )
    stopped_by = serve_forever(cluster)
    return 130 if stopped_by == signal.SIGINT else 0  # Ctrl-C ends with the shell's usual code


def _running(state: Path) -> dict | None:
    from .runtime import serving  # here: see _serve

    return serving(state)


def _up(args) -> int:
    _check_scale(args)
    release(args.openshift_version)
    state = args.state.resolve()
    info = _running(state)
    if info:
        print(
            f"The practice cluster already runs at {info['url']} (pid {info['pid']}); kubeconfig: {info['kubeconfig']}"
        )
        return 0
    state.mkdir(parents=True, exist_ok=True)
    (state / "server.json").unlink(missing_ok=True)
    command = [
        sys.executable,
        "-m",
        "clearml_lab",
        "practice",
        "serve",
        "--state",
        str(state),
        "--kubeconfig",
        str(_kubeconfig_path(args).resolve()),
        "--port",
        str(args.port),
        "--time-scale",
        str(args.time_scale),
        "--storage-capacity",
        args.storage_capacity,
    ]
    if args.address:
        command += ["--address", args.address]
    if args.images:
        _use_images(args.images)  # a bad file is a usage error here, not a silent failure in the background
        command += ["--images", str(args.images.resolve())]
    if args.openshift_version:
        command += ["--openshift-version", args.openshift_version]
    with open(state / "server.log", "ab") as logfile:
        child = subprocess.Popen(
            command, stdin=subprocess.DEVNULL, stdout=logfile, stderr=logfile, start_new_session=True
        )
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        info = _running(state)
        if info and info.get("pid") == child.pid:
            print(
                f"The practice cluster runs at {info['url']} (OpenShift {info['openshift_version']}, pid "
                f"{info['pid']}); kubeconfig: {info['kubeconfig']}"
            )
            return 0
        if child.poll() is not None:
            raise LabError(f"the practice cluster stopped while starting; see {state / 'server.log'}.")
        time.sleep(0.2)
    child.terminate()
    raise LabError(f"the practice cluster did not answer within two minutes; see {state / 'server.log'}.")


def _down(args) -> int:
    state = args.state.resolve()
    info = _running(state)
    if not info:
        print("The practice cluster is not running.")
        return 0
    pid = int(info["pid"])
    os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + 30
    while _running(state) and time.monotonic() < deadline:  # the lock is released when the process is gone
        time.sleep(0.1)
    if _running(state):
        raise LabError(f"the practice cluster (pid {pid}) did not stop within 30 s; stop it with `kill {pid}`.")
    print(f"Stopped the practice cluster (pid {pid}); its state stays in {state}.")
    return 0


def _status(args) -> int:
    state = args.state.resolve()
    info = _running(state)
    if not info:
        print(f"The practice cluster is not running (state dir {state}).")
        return 3
    print(
        f"The practice cluster runs at {info['url']} (OpenShift {info['openshift_version']}, pid {info['pid']}); "
        f"kubeconfig: {info['kubeconfig']}"
    )
    return 0
