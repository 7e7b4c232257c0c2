"""camb_async inside other frameworks: each module here imports its framework (install the extra of the same name)."""
