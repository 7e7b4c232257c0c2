"""Side-by-side benchmarks of camb-async against raw clients and camb-sdk; see __main__.py."""
