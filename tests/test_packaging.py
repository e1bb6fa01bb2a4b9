"""What gets published: server.json agrees with the package, and scripts/build makes an sdist
and a wheel that installs into a fresh environment and serves MCP from its console script."""

from __future__ import annotations

import json
import os
import re
import site
import subprocess
import sys
import tarfile
import threading
import tomllib
import zipfile
from email.parser import HeaderParser
from pathlib import Path
from typing import Any

import pytest

from gemini_interactions_mcp import __version__
from gemini_interactions_mcp.settings import Settings, variables
from tests.messages import HANDSHAKE

from .server.processes import child_env

ROOT = Path(__file__).resolve().parents[1]
PROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
SERVER_JSON = json.loads((ROOT / "server.json").read_text())
SCRIPT = "gemini-interactions-mcp"
# The current released server.json schema and its limits, from the MCP registry's reference
# (https://github.com/modelcontextprotocol/registry/blob/main/docs/reference/server-json/CHANGELOG.md,
# schema https://static.modelcontextprotocol.io/schemas/2025-12-11/server.schema.json).
SCHEMA_URL = "https://static.modelcontextprotocol.io/schemas/2025-12-11/server.schema.json"
NAME_PATTERN = re.compile(r"^[a-zA-Z0-9.-]+/[a-zA-Z0-9._-]+$")
MAX_DESCRIPTION = 100


def test_server_json_names_this_package_at_this_version() -> None:
    assert SERVER_JSON["$schema"] == SCHEMA_URL
    assert SERVER_JSON["description"] == PROJECT["description"]
    assert SERVER_JSON["version"] == __version__
    (package,) = SERVER_JSON["packages"]
    assert package["registryType"] == "pypi"
    assert package["registryBaseUrl"] == "https://pypi.org"
    assert package["identifier"] == PROJECT["name"]
    assert package["version"] == __version__
    assert package["transport"] == {"type": "stdio"}


def test_server_json_stays_within_the_registry_schema() -> None:
    name = SERVER_JSON["name"]
    assert NAME_PATTERN.match(name) and 3 <= len(name) <= 200
    namespace, _ = name.split("/")
    # A GitHub namespace (io.github.OWNER) must be the repository's owner.
    owner = namespace.removeprefix("io.github.")
    assert SERVER_JSON["repository"] == {
        "url": PROJECT["urls"]["Source"],
        "source": "github",
    }
    assert PROJECT["urls"]["Source"].startswith(f"https://github.com/{owner}/")
    assert 1 <= len(SERVER_JSON["description"]) <= MAX_DESCRIPTION
    assert 1 <= len(SERVER_JSON["title"]) <= MAX_DESCRIPTION
    (package,) = SERVER_JSON["packages"]
    allowed = {
        "registryType",
        "registryBaseUrl",
        "identifier",
        "version",
        "runtimeHint",
        "transport",
        "environmentVariables",
    }
    assert set(package) <= allowed


def test_server_json_environment_variables_are_real_settings() -> None:
    (package,) = SERVER_JSON["packages"]
    declared = {v["name"]: v for v in package["environmentVariables"]}
    key = declared.pop("GEMINI_API_KEY")
    assert key["isSecret"] is True and key["isRequired"] is True
    settings = {variable for name in Settings.model_fields for variable in variables(name)}
    assert set(declared) <= settings
    for variable in declared.values():
        assert not variable.get("isSecret", False)
        assert variable["format"] in {"string", "number", "boolean", "filepath"}


def test_the_readme_carries_the_registry_ownership_marker() -> None:
    """PyPI ownership is proven by `mcp-name: NAME` in the package description (the README):
    https://github.com/modelcontextprotocol/registry/blob/main/docs/modelcontextprotocol-io/package-types.mdx
    """
    readme = (ROOT / "README.md").read_text()
    assert f"<!-- mcp-name: {SERVER_JSON['name']} -->" in readme


@pytest.fixture(scope="module")
def dists(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """scripts/build, run with this interpreter (which has hatchling from the dev extra)."""
    out = tmp_path_factory.mktemp("dist")
    env = {**os.environ, "BUILD_PYTHON": sys.executable, "DIST_DIR": str(out)}
    env.pop("PYTHONPATH", None)
    built = subprocess.run(
        ["bash", str(ROOT / "scripts" / "build")],
        capture_output=True,
        text=True,
        env=env,
        stdin=subprocess.DEVNULL,
        timeout=300,
    )
    assert built.returncode == 0, built.stderr
    sdist, wheel = (Path(line) for line in built.stdout.split())
    assert sdist.name == f"gemini_interactions_mcp-{__version__}.tar.gz"
    assert wheel.name == f"gemini_interactions_mcp-{__version__}-py3-none-any.whl"
    return sdist, wheel


@pytest.mark.slow
def test_the_sdist_holds_what_a_build_needs(dists: tuple[Path, Path]) -> None:
    """scripts/build made the wheel from the unpacked sdist; this names what it relied on."""
    sdist, _ = dists
    with tarfile.open(sdist) as tar:
        top = f"gemini_interactions_mcp-{__version__}/"
        names = {name.removeprefix(top) for name in tar.getnames()}
    for needed in ("pyproject.toml", "README.md", "LICENSE", "PKG-INFO"):
        assert needed in names, needed
    sources = {
        path.relative_to(ROOT).as_posix()
        for path in (ROOT / "src").rglob("*")
        if path.is_file() and "__pycache__" not in path.parts
    }
    assert sources <= names, sources - names


@pytest.mark.slow
def test_the_wheel_carries_the_package_data_entry_point_and_metadata(
    dists: tuple[Path, Path],
) -> None:
    _, wheel = dists
    info = f"gemini_interactions_mcp-{__version__}.dist-info"
    with zipfile.ZipFile(wheel) as zf:
        names = set(zf.namelist())
        entry_points = zf.read(f"{info}/entry_points.txt").decode()
        metadata = HeaderParser().parsestr(zf.read(f"{info}/METADATA").decode())
    for needed in ("core/models.toml", "py.typed", "__main__.py", "cli.py"):
        assert f"gemini_interactions_mcp/{needed}" in names, needed
    assert f"{info}/licenses/LICENSE" in names
    assert f"{SCRIPT} = gemini_interactions_mcp.cli:main" in entry_points
    assert metadata["Name"] == PROJECT["name"]
    assert metadata["Version"] == __version__
    assert metadata["Summary"] == PROJECT["description"]
    assert metadata["License-Expression"] == "Apache-2.0"
    classifiers = metadata.get_all("Classifier") or []
    assert not [c for c in classifiers if c.startswith("License ::")]
    for prefix in ("Environment ::", "Intended Audience ::", "Operating System ::", "Topic ::"):
        assert any(c.startswith(prefix) for c in classifiers), prefix
    urls = dict(url.split(", ", 1) for url in metadata.get_all("Project-URL") or [])
    assert urls == PROJECT["urls"]


def _fresh_venv(root: Path) -> tuple[Path, Path]:
    """A new venv that also sees this test run's installed dependencies (a .pth file), so the
    wheel installs with --no-deps and nothing is downloaded. Returns (bin dir, its site dir)."""
    subprocess.run(
        [sys.executable, "-m", "venv", "--without-pip", str(root)],
        check=True,
        timeout=120,
        stdin=subprocess.DEVNULL,
    )
    bindir = root / ("Scripts" if os.name == "nt" else "bin")
    purelib = subprocess.run(
        [str(bindir / "python"), "-c", "import sysconfig; print(sysconfig.get_path('purelib'))"],
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    ).stdout.strip()
    sitedir = Path(purelib)
    (sitedir / "_this_test_run.pth").write_text("\n".join(site.getsitepackages()) + "\n")
    return bindir, sitedir


def _venv_env() -> dict[str, str]:
    env = child_env()
    env.pop("PYTHONPATH", None)
    return env


def _stdio_session(command: list[str], cwd: Path) -> list[dict[str, Any]]:
    """initialize + tools/list over stdio; every stdout line must be JSON-RPC."""
    proc = subprocess.Popen(
        command,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        env=_venv_env(),
        cwd=cwd,
    )
    assert proc.stdin is not None and proc.stdout is not None
    watchdog = threading.Timer(60, proc.kill)  # a hung server ends the read with EOF
    watchdog.start()
    replies: list[dict[str, Any]] = []
    try:
        proc.stdin.write(b"".join(json.dumps(m).encode() + b"\n" for m in HANDSHAKE))
        proc.stdin.flush()
        for line in proc.stdout:
            message = json.loads(line)
            assert message["jsonrpc"] == "2.0"
            replies.append(message)
            if message.get("id") == 2:
                break
        proc.stdin.close()
        proc.wait(timeout=30)
    finally:
        watchdog.cancel()
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        proc.stdout.close()
    return replies


@pytest.mark.slow
def test_the_installed_wheel_runs_its_console_script_and_serves_stdio(
    dists: tuple[Path, Path], tmp_path: Path
) -> None:
    _, wheel = dists
    bindir, sitedir = _fresh_venv(tmp_path / "venv")
    installed = subprocess.run(
        [
            str(bindir / "python"),
            "-m",
            "pip",
            "install",
            "--no-deps",
            "--no-index",
            "-q",
            str(wheel),
        ],
        capture_output=True,
        text=True,
        env=_venv_env(),
        cwd=tmp_path,
        timeout=300,
    )
    assert installed.returncode == 0, installed.stderr
    script = bindir / SCRIPT
    version = subprocess.run(
        [str(script), "--version"],
        capture_output=True,
        text=True,
        env=_venv_env(),
        cwd=tmp_path,
        timeout=60,
    )
    assert version.stdout.strip() == f"{SCRIPT} {__version__}"
    where = subprocess.run(
        [
            str(bindir / "python"),
            "-c",
            "import gemini_interactions_mcp as m; "
            "from gemini_interactions_mcp.core.registry import ModelRegistry; "
            "print(m.__file__); print(bool(ModelRegistry.load().current))",
        ],
        capture_output=True,
        text=True,
        env=_venv_env(),
        cwd=tmp_path,
        timeout=60,
    )
    module, has_models = where.stdout.split()
    assert Path(module).is_relative_to(sitedir), "not the wheel's copy"
    assert has_models == "True"
    replies = _stdio_session([str(script), "--emulator", "--state", "memory"], tmp_path)
    assert replies[0]["result"]["serverInfo"]["version"] == __version__
    tools = {tool["name"] for tool in replies[-1]["result"]["tools"]}
    assert {"gemini_ask", "gemini_continue", "deep_research_start"} <= tools
