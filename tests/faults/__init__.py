"""Fault-injection suite: the SDK against a misbehaving simulator over real TCP (docs/reliability.md)."""
