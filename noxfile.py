"""Developer tasks: `nox` runs lint, typing and the tests on every supported Python.

Sessions: lint, typing, examples, docs, package, tests-3.10 ... tests-3.13, integrations, contract, faults,
bench_smoke; and bench, the full benchmarks (minutes; run it on a quiet machine: `nox -s bench`).
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


def _install(session: nox.Session, *groups: str, extras: str = "simulator") -> None:
    session.install("-e", f".[{extras}]" if extras else ".")
    for group in groups:
        session.install(*nox.project.dependency_groups(PYPROJECT, group))


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


@nox.session(python=PYTHONS)
def tests(session: nox.Session) -> None:
    """Unit tests (respx) and integration/load tests (real TCP), on asyncio and trio.

    The newest Python runs every test under coverage; the older ones skip the tests marked
    ``slow`` (processes, 10,000 watches, 100 MB bodies), which test nothing version-bound
    that the newest does not, and run without coverage, to keep CI's full run short.
    """
    _install(session, "tests")
    # The fault suite has its own session: it takes minutes, and once is enough. The quick
    # tests of the fault-injecting simulator itself run here too.
    heavy = sorted(str(path) for path in (ROOT / "tests" / "faults").glob("test_*.py"))
    ignore = [f"--ignore={path}" for path in heavy if not path.endswith("test_simulator_faults.py")]
    ignore.append(f"--ignore={ROOT / 'tests' / 'integrations'}")  # their own session, on one Python
    ignore.append(f"--ignore={ROOT / 'tests' / 'docs'}")  # the docs' samples: the docs session
    ignore.append(f"--ignore={ROOT / 'tests' / 'contract'}")  # camb-sdk against the SDK: the contract session
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
    _install(session, "integrations")
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
    session.install(*nox.project.dependency_groups(PYPROJECT, "lint"))
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
    _install(session, extras="simulator,fastapi")  # fastapi: examples/fastapi_app.py
    for example in sorted((ROOT / "examples").glob("*.py")):
        session.run("python", str(example))


@nox.session(python=PYTHONS[-1])
def docs(session: nox.Session) -> None:
    """Build the docs with warnings as errors, offline; then run every Python sample of README.md
    and docs/*.md against the bundled simulator (tests/docs)."""
    _install(session, "docs", extras="simulator,aiohttp")
    session.run("sphinx-build", "-W", "--keep-going", "-b", "html", "docs", "docs/_build/html")
    # --confcutdir: tests/conftest.py and its test-suite dependencies are not needed here.
    session.run("pytest", "--confcutdir=tests/docs", "tests/docs", *session.posargs)


@nox.session(python=PYTHONS[-1])
def package(session: nox.Session) -> None:
    """Build the sdist and the wheel and check them: twine check --strict (README renders on
    PyPI), check-wheel-contents, and what the wheel must and must not hold."""
    import shutil
    import zipfile

    session.install(*nox.project.dependency_groups(PYPROJECT, "package"))
    dist = pathlib.Path(session.create_tmp()) / "dist"
    shutil.rmtree(dist, ignore_errors=True)
    session.run("python", "-m", "build", "--outdir", str(dist), str(ROOT))
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
    _install(session, "bench", extras="simulator,aiohttp")
    session.run("python", "-m", "benchmarks", "--profile", "--output", "docs/benchmarks.md", *session.posargs)


@nox.session(python=PYTHONS[-1])
def bench_smoke(session: nox.Session) -> None:
    """The benchmarks at tiny sizes, in seconds, so they keep working; asserts nothing on timings."""
    _install(session, "bench", extras="simulator,aiohttp")
    copy = pathlib.Path(session.create_tmp()) / "benchmarks.md"
    copy.write_text((ROOT / "docs" / "benchmarks.md").read_text())
    session.run("python", "-m", "benchmarks", "--smoke", "--output", str(copy), *session.posargs)
