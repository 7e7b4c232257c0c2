"""Developer tasks: `nox` runs lint, typing and the tests on every supported Python.

Sessions: lint, typing, tests-3.10 ... tests-3.13, integrations, faults, examples, docs, bench_smoke; and bench, the full
benchmarks (minutes; run it on a quiet machine: `nox -s bench`).
"""

from __future__ import annotations

import os
import pathlib

import nox

ROOT = pathlib.Path(__file__).parent
PYPROJECT = nox.project.load_toml(ROOT / "pyproject.toml")
PYTHONS = nox.project.python_versions(PYPROJECT)

nox.options.default_venv_backend = "uv|virtualenv"
nox.options.error_on_external_run = True
nox.options.reuse_existing_virtualenvs = True
nox.options.sessions = ["lint", "typing", "examples", "tests", "integrations", "faults", "bench_smoke"]


def _put_pyenv_pythons_on_path() -> None:
    """pyenv keeps each Python in its own folder; show them to nox as python3.X."""
    root = pathlib.Path(os.environ.get("PYENV_ROOT", "~/.pyenv")).expanduser()
    folders = sorted(root.glob("versions/3.*/bin"), reverse=True)
    if folders:
        os.environ["PATH"] = os.pathsep.join([*map(str, folders), os.environ.get("PATH", "")])


_put_pyenv_pythons_on_path()


def _install(session: nox.Session, *groups: str, extras: str = "simulator") -> None:
    session.install("-e", f".[{extras}]" if extras else ".")
    for group in groups:
        session.install(*nox.project.dependency_groups(PYPROJECT, group))


@nox.session(python=PYTHONS)
def tests(session: nox.Session) -> None:
    """Unit tests (respx) and integration/load tests (real TCP), on asyncio and trio."""
    _install(session, "tests")
    session.run("coverage", "erase")
    # The fault suite has its own session: it takes minutes, and once is enough. The quick
    # tests of the fault-injecting simulator itself run here too.
    heavy = sorted(str(path) for path in (ROOT / "tests" / "faults").glob("test_*.py"))
    ignore = [f"--ignore={path}" for path in heavy if not path.endswith("test_simulator_faults.py")]
    ignore.append(f"--ignore={ROOT / 'tests' / 'integrations'}")  # their own session, on one Python
    session.run("coverage", "run", "-m", "pytest", *ignore, *session.posargs)
    session.run("coverage", "combine", "--quiet")
    session.run("coverage", "report", "--fail-under=90")


@nox.session(python=PYTHONS[-1])
def faults(session: nox.Session) -> None:
    """The fault suite (tests/faults, docs/reliability.md): 1,000 watches per fault over real TCP.

    tests/faults/test_proxy.py puts Debian's nginx in front of the simulator: as root with
    apt-get (CI), this installs it when missing (nginx-light, no recommends; ``apt-get update``
    only if that fails), each step bounded in time. Elsewhere those tests install it or skip.
    """
    import shutil

    _install(session, "tests")
    nginx = pathlib.Path("/usr/sbin/nginx")
    if not nginx.exists() and hasattr(os, "geteuid") and os.geteuid() == 0 and shutil.which("apt-get"):
        apt = ["timeout", "150", "apt-get", "-y", "-q", "-o", "DPkg::Lock::Timeout=60"]
        apt += ["-o", "Acquire::Retries=2", "-o", "Acquire::http::Timeout=20"]
        install = (*apt, "install", "--no-install-recommends", "nginx-light")
        env = {"DEBIAN_FRONTEND": "noninteractive"}
        # apt-get exits 100 when it cannot install (stale package lists), timeout 124: try again after an update.
        session.run_install(*install, env=env, external=True, success_codes=[0, 100, 124])
        if not nginx.exists():
            session.run_install(*apt, "update", env=env, external=True)
            session.run_install(*install, env=env, external=True)
    session.run("pytest", "tests/faults", *session.posargs)


@nox.session(python=PYTHONS[-1])
def integrations(session: nox.Session) -> None:
    """tests/integrations: the SDK inside real frameworks and servers (uvicorn, Redis), on the newest Python."""
    _install(session, "integrations")
    session.run("pytest", "tests/integrations", *session.posargs)


@nox.session(python=PYTHONS[-1])
def lint(session: nox.Session) -> None:
    """ruff check and ruff format --check."""
    session.install(*nox.project.dependency_groups(PYPROJECT, "lint"))
    session.run("ruff", "check", ".")
    session.run("ruff", "format", "--check", ".")


@nox.session(python=PYTHONS[0])
def typing(session: nox.Session) -> None:
    """mypy --strict and pyright strict over the package, tests and examples, on the oldest Python."""
    _install(session, "typing")
    session.run("mypy")
    session.run("pyright")


@nox.session(python=PYTHONS[-1])
def examples(session: nox.Session) -> None:
    """Run every example against the bundled simulator."""
    _install(session)
    for example in sorted((ROOT / "examples").glob("*.py")):
        session.run("python", str(example))


@nox.session(python=PYTHONS[-1])
def docs(session: nox.Session) -> None:
    """Build the docs with warnings as errors."""
    _install(session)
    session.install("sphinx>=7", "furo", "myst-parser>=3")
    session.run("sphinx-build", "-W", "-b", "html", "docs", "docs/_build/html")


@nox.session(python=PYTHONS[-1])
def bench(session: nox.Session) -> None:
    """The full benchmarks (benchmarks/): prints the tables and rewrites docs/benchmarks.md's generated part.

    Takes many minutes and wants a quiet machine. `nox -s bench -- --scenario status` runs one scenario.
    """
    _install(session, "bench", extras="simulator,aiohttp")
    session.run("python", "-m", "benchmarks", "--profile", "--output", "docs/benchmarks.md", *session.posargs)


@nox.session(python=PYTHONS[-1])
def bench_smoke(session: nox.Session) -> None:
    """The benchmarks at tiny sizes, in seconds, so they keep working; asserts nothing on timings."""
    _install(session, "bench", extras="simulator,aiohttp")
    copy = pathlib.Path(session.create_tmp()) / "benchmarks.md"
    copy.write_text((ROOT / "docs" / "benchmarks.md").read_text())
    session.run("python", "-m", "benchmarks", "--smoke", "--output", str(copy), *session.posargs)
