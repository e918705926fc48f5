"""The CLI's global options (--config FILE, --json) work before or after the
subcommand, as in kubectl."""

import json
import os
import subprocess

import pytest

from conftest import make_tenant


def run(stack, tmp_path, *args):
    """The CLI without PARLEY_CONFIG, from a folder without var/parley.yaml:
    only --config can find the configuration."""
    env = {k: v for k, v in os.environ.items() if k != "PARLEY_CONFIG"}
    return subprocess.run([str(stack.parley_bin)] + [str(a) for a in args],
                          env=env, cwd=tmp_path, capture_output=True,
                          text=True)


@pytest.mark.parametrize("argv", [
    ["--config", "{config}", "tenant", "list", "--json"],
    ["--config={config}", "--json", "tenant", "list"],
    ["--json", "tenant", "--config", "{config}", "list"],
    ["tenant", "list", "--json", "--config", "{config}"],
])
def test_global_options_go_before_or_after_the_subcommand(stack, tmp_path, argv):
    t = make_tenant(stack)
    r = run(stack, tmp_path, *[a.format(config=stack.config) for a in argv])
    assert r.returncode == 0, r.stderr
    slugs = [x["slug"] for x in json.loads(r.stdout)["tenants"]]
    assert t.slug in slugs


def test_without_json_the_output_is_for_people(stack, tmp_path):
    t = make_tenant(stack)
    r = run(stack, tmp_path, "--config", stack.config, "tenant", "list")
    assert r.returncode == 0, r.stderr
    assert r.stdout.startswith("SLUG") and t.slug in r.stdout


def test_other_options_before_the_subcommand_are_usage_errors(stack, tmp_path):
    r = run(stack, tmp_path, "--slug", "x", "tenant", "list", "--json")
    assert r.returncode == 2
    error = json.loads(r.stderr)["error"]
    assert error["code"] == "usage" and "--slug" in error["message"]
    r = run(stack, tmp_path, "--config")
    assert r.returncode == 2
    assert "--config" in r.stderr
    r = run(stack, tmp_path, "--config", stack.config, "--help")
    assert r.returncode == 0 and "usage: parley" in r.stdout
