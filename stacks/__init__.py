"""Thin stacks: each wires constructs for one account. No security decision lives here."""

from stacks.platform import build_platform

__all__ = ["build_platform"]
