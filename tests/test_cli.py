import subprocess
import sys

from clearml_lab import __version__
from clearml_lab.cli import build_parser, main


def test_global_options_before_and_after_the_command_mean_the_same():
    before = build_parser().parse_args(["--namespace", "ns1", "--profile", "hardened", "version"])
    after = build_parser().parse_args(["version", "--namespace", "ns1", "--profile", "hardened"])
    assert (before.namespace, before.profile) == (after.namespace, after.profile) == ("ns1", "hardened")


def test_option_given_before_is_not_reset_by_the_subcommand_defaults():
    args = build_parser().parse_args(["--release", "r1", "version"])
    assert args.release == "r1"


def test_usage_error_exits_2(capsys):
    assert main(["no-such-command"]) == 2
    assert main(["version", "--profile", "weird"]) == 2


def test_console_script_runs_in_its_own_process():
    out = subprocess.run([sys.executable, "-m", "clearml_lab", "version"], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == f"clearml-lab {__version__}"
