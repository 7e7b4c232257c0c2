"""The Python samples of README.md and docs/*.md, run against the bundled simulator (nox -s docs)."""
