"""Developer tasks: `nox` runs lint, typing and the tests on every supported Python.

Sessions: lint, typing, examples, docs, package, tests-3.10 ... tests-3.13, integrations, contract, faults,
bench_smoke; and, run by name only: bench, the full benchmarks (minutes; run it on a quiet machine);
lock, which refreshes requirements/lock.txt on purpose; latest, the tests on the newest releases
the declared ranges allow.

Every session installs from requirements/lock.txt (tools, test and runtime dependencies, the build
backend, pinned for Python 3.10 to 3.13 at once), so a clone passes on any later day whatever has
been released since. Only ``nox -s lock`` changes the lock, and a commit of its own makes it land.
"""

from __future__ import annotations

import os
import pathlib

import nox

ROOT = pathlib.Path(__file__).parent
LOCK = ROOT / "requirements" / "lock.txt"
# Every install, including the isolated builds of the package itself, is held to the lock, by pip and by uv.
LOCKED = {"PIP_CONSTRAINT": str(LOCK), "UV_CONSTRAINT": str(LOCK), "UV_BUILD_CONSTRAINT": str(LOCK)}
PYPROJECT = nox.project.load_toml(ROOT / "pyproject.toml")
PYTHONS = nox.project.python_versions(PYPROJECT)
# The groups and extras the lock covers: all of them. `nox -s lock` compiles them together.
LOCKED_GROUPS = tuple(PYPROJECT["dependency-groups"])

nox.options.default_venv_backend = "uv|virtualenv"
os.environ.setdefault("UV_PYTHON_DOWNLOADS", "never")  # the installed Pythons only (pyenv's, below)
nox.options.error_on_external_run = True
nox.options.reuse_existing_virtualenvs = True
nox.options.sessions = [
    "lint",
    "typing",
    "examples",
    "docs",
    "package",
    "tests",
    "integrations",
    "contract",
    "faults",
    "bench_smoke",
]


def _put_pyenv_pythons_on_path() -> None:
    """pyenv keeps each Python in its own folder; show them to nox as python3.X."""
    root = pathlib.Path(os.environ.get("PYENV_ROOT", "~/.pyenv")).expanduser()
    folders = sorted(root.glob("versions/3.*/bin"), reverse=True)
    if folders:
        os.environ["PATH"] = os.pathsep.join([*map(str, folders), os.environ.get("PATH", "")])


_put_pyenv_pythons_on_path()


def _install(session: nox.Session, *groups: str, extras: str = "simulator", locked: bool = True) -> None:
    """Install the package (editable, with ``extras``) and the dependency ``groups``, at the lock's versions."""
    env = LOCKED if locked else {}
    session.install("-e", f".[{extras}]" if extras else ".", env=env)
    for group in groups:
        session.install(*nox.project.dependency_groups(PYPROJECT, group), env=env)


def _install_groups(session: nox.Session, *groups: str, locked: bool = True) -> None:
    """Install dependency groups alone (tools that need no package), at the lock's versions."""
    for group in groups:
        session.install(*nox.project.dependency_groups(PYPROJECT, group), env=LOCKED if locked else {})


def _apt_install(session: nox.Session, program: str, package: str) -> None:
    """Install Debian's ``package`` when ``program`` is missing, as root with apt-get (CI); else do nothing.

    No recommended packages; ``apt-get update`` only if the install fails at first; each
    step bounded in time.
    """
    import shutil

    if pathlib.Path(program).exists() or not hasattr(os, "geteuid") or os.geteuid() != 0:
        return
    if not shutil.which("apt-get"):
        return
    apt = ["timeout", "150", "apt-get", "-y", "-q", "-o", "DPkg::Lock::Timeout=60"]
    apt += ["-o", "Acquire::Retries=2", "-o", "Acquire::http::Timeout=20"]
    install = (*apt, "install", "--no-install-recommends", package)
    env = {"DEBIAN_FRONTEND": "noninteractive"}
    # apt-get exits 100 when it cannot install (stale package lists), timeout 124: try again after an update.
    session.run_install(*install, env=env, external=True, success_codes=[0, 100, 124])
    if not pathlib.Path(program).exists():
        session.run_install(*apt, "update", env=env, external=True)
        session.run_install(*install, env=env, external=True)


def _ignored_in_unit_runs() -> list[str]:
    """pytest's ``--ignore``s for the folders that run in sessions of their own."""
    # The fault suite takes minutes, and once is enough; the quick tests of the fault-injecting
    # simulator itself run with the unit tests.
    heavy = sorted(str(path) for path in (ROOT / "tests" / "faults").glob("test_*.py"))
    ignore = [f"--ignore={path}" for path in heavy if not path.endswith("test_simulator_faults.py")]
    ignore.append(f"--ignore={ROOT / 'tests' / 'integrations'}")  # their own session, on one Python
    ignore.append(f"--ignore={ROOT / 'tests' / 'docs'}")  # the docs' samples: the docs session
    ignore.append(f"--ignore={ROOT / 'tests' / 'contract'}")  # camb-sdk against the SDK: the contract session
    return ignore


_IGNORED_IN_UNIT_RUNS = _ignored_in_unit_runs()


@nox.session(python=PYTHONS)
def tests(session: nox.Session) -> None:
    """Unit tests (respx) and integration/load tests (real TCP), on asyncio and trio.

    The newest Python runs every test under coverage; the older ones skip the tests marked
    ``slow`` (processes, 10,000 watches, 100 MB bodies), which test nothing version-bound
    that the newest does not, and run without coverage, to keep CI's full run short.
    """
    _install(session, "tests")
    # tests/test_shared_budget.py runs against a real redis-server: in CI, Debian's (see _apt_install).
    _apt_install(session, "/usr/bin/redis-server", "redis-server")
    ignore = _IGNORED_IN_UNIT_RUNS
    if session.python != PYTHONS[-1]:
        session.run("pytest", *ignore, "-m", "not slow", *session.posargs)
        return
    session.run("coverage", "erase")
    session.run("coverage", "run", "-m", "pytest", *ignore, *session.posargs)
    session.run("coverage", "combine", "--quiet")
    session.run("coverage", "report", "--fail-under=90")


@nox.session(python=PYTHONS[-1])
def faults(session: nox.Session) -> None:
    """The fault suite (tests/faults, docs/reliability.md): 1,000 watches per fault over real TCP.

    tests/faults/test_proxy.py puts Debian's nginx in front of the simulator: in CI this
    installs it when missing (see ``_apt_install``). Elsewhere those tests install it or skip.
    """
    _install(session, "tests")
    _apt_install(session, "/usr/sbin/nginx", "nginx-light")
    session.run("pytest", "tests/faults", *session.posargs)


@nox.session(python=PYTHONS[-1])
def integrations(session: nox.Session) -> None:
    """tests/integrations: the SDK inside real frameworks and servers (uvicorn, Redis), on the newest Python.

    tests/integrations/test_worker.py starts Debian's redis-server: in CI this installs it
    when missing (see ``_apt_install``). Elsewhere that test skips without it.
    """
    _install(session, "integrations", extras="simulator,realtime,redis")
    _apt_install(session, "/usr/bin/redis-server", "redis-server")
    session.run("pytest", "tests/integrations", *session.posargs)


@nox.session(python=PYTHONS[-1])
def contract(session: nox.Session) -> None:
    """tests/contract: the official client, camb-sdk 1.6.6, held against camb-async: the same requests for
    every call, and its realtime sessions completing against the simulator."""
    _install(session, "contract", extras="simulator,realtime")
    session.run("pytest", "tests/contract", *session.posargs)


@nox.session(python=PYTHONS[-1])
def lint(session: nox.Session) -> None:
    """ruff check and ruff format --check."""
    _install_groups(session, "lint")
    session.run("ruff", "check", ".")
    session.run("ruff", "format", "--check", ".")


@nox.session(python=PYTHONS[0])
def typing(session: nox.Session) -> None:
    """mypy --strict and pyright strict over the package, tests and examples, on the oldest Python;
    and pyright's type completeness of the public API, which exits non-zero below 100%."""
    _install(session, "typing")
    session.run("mypy")
    session.run("pyright")
    session.run("pyright", "--verifytypes", "camb_async", "--ignoreexternal")


@nox.session(python=PYTHONS[-1])
def examples(session: nox.Session) -> None:
    """Run every example against the bundled simulator."""
    _install(session, extras="simulator,fastapi,realtime")  # fastapi: examples/fastapi_app.py
    for example in sorted((ROOT / "examples").glob("*.py")):
        session.run("python", str(example))


@nox.session(python=PYTHONS[-1])
def docs(session: nox.Session) -> None:
    """Build the docs with warnings as errors, offline; then run every Python sample of README.md
    and docs/*.md against the bundled simulator (tests/docs)."""
    # fastapi and cli: the quickstart's FastAPI sample (sse-starlette) and results.md's rich progress bar.
    _install(session, "docs", extras="simulator,aiohttp,realtime,fastapi,cli")
    session.run("sphinx-build", "-W", "--keep-going", "-b", "html", "docs", "docs/_build/html")
    # --confcutdir: tests/conftest.py and its test-suite dependencies are not needed here.
    session.run("pytest", "--confcutdir=tests/docs", "tests/docs", *session.posargs)


@nox.session(python=PYTHONS[-1])
def package(session: nox.Session) -> None:
    """Build the sdist and the wheel and check them: twine check --strict (README renders on
    PyPI), check-wheel-contents, and what the wheel must and must not hold."""
    import shutil
    import zipfile

    _install_groups(session, "package")
    dist = pathlib.Path(session.create_tmp()) / "dist"
    shutil.rmtree(dist, ignore_errors=True)
    session.run("python", "-m", "build", "--outdir", str(dist), str(ROOT), env=LOCKED)
    session.run("twine", "check", "--strict", *sorted(map(str, dist.iterdir())))
    session.run("check-wheel-contents", str(dist))
    (wheel,) = dist.glob("*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    tops = {name.split("/")[0] for name in names if not name.split("/")[0].endswith(".dist-info")}
    problems = [f"top-level {top!r} besides camb_async" for top in sorted(tops - {"camb_async"})]
    problems += [f"{name} is missing" for name in ("camb_async/py.typed",) if name not in names]
    if not any(name.endswith(".dist-info/licenses/LICENSE") for name in names):
        problems.append("the LICENSE is missing from .dist-info/licenses")
    problems += [f"{name} is a test" for name in names if "/tests/" in name or "/test_" in name]
    if problems:
        session.error(f"{wheel.name}: " + "; ".join(problems))


@nox.session(python=PYTHONS[-1])
def bench(session: nox.Session) -> None:
    """The full benchmarks (benchmarks/): prints the tables and rewrites docs/benchmarks.md's generated part.

    Takes many minutes and wants a quiet machine. `nox -s bench -- --scenario status` runs one scenario.
    """
    _install(session, "bench", extras="simulator,aiohttp,realtime,redis")
    session.run("python", "-m", "benchmarks", "--profile", "--output", "docs/benchmarks.md", *session.posargs)


@nox.session(python=PYTHONS[-1])
def bench_smoke(session: nox.Session) -> None:
    """The benchmarks at tiny sizes, in seconds, so they keep working; asserts nothing on timings."""
    _install(session, "bench", extras="simulator,aiohttp,realtime,redis")
    copy = pathlib.Path(session.create_tmp()) / "benchmarks.md"
    copy.write_text((ROOT / "docs" / "benchmarks.md").read_text())
    session.run("python", "-m", "benchmarks", "--smoke", "--output", str(copy), *session.posargs)


@nox.session(python=PYTHONS[-1], default=False)
def lock(session: nox.Session) -> None:
    """Refresh requirements/lock.txt to the newest releases every declared range allows, for Python 3.10
    to 3.13 at once; review the diff and commit it on its own. `nox -s lock -- --upgrade-package NAME`
    moves one package only."""
    _install_groups(session, "lock", locked=LOCK.exists())
    extra = session.posargs or ["--upgrade"]
    groups = [arg for group in LOCKED_GROUPS for arg in ("--group", group)]
    session.run(
        *("uv", "pip", "compile", "pyproject.toml", "requirements/build.in", "--universal", "--quiet"),
        *("--python-version", PYTHONS[0], "--all-extras", *groups, *extra, "-o", str(LOCK.relative_to(ROOT))),
        env={"UV_CONSTRAINT": "", "UV_BUILD_CONSTRAINT": ""},
    )


@nox.session(python=[PYTHONS[0], PYTHONS[-1]], default=False)
def latest(session: nox.Session) -> None:
    """The unit tests on the newest releases of the runtime dependencies their declared ranges allow
    (httpx, pydantic, anyio, ...), on the oldest and newest Python: what a user installing today gets.
    Not in the default run, which must not drift; run it before a release and after `nox -s lock`."""
    _install(session, "tests", locked=False)
    session.install("--upgrade", "-e", ".[simulator]")
    session.run("pytest", "-m", "not slow", "-x", "-q", "tests", *_IGNORED_IN_UNIT_RUNS, *session.posargs)
