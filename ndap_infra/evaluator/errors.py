"""Errors raised instead of guessing: a proof must never silently miss a statement."""

from __future__ import annotations


class PolicyError(ValueError):
    """A policy document the evaluator cannot read exactly as AWS would."""


class UnsupportedConditionError(PolicyError):
    """A condition operator that is unknown, or known but not implemented (BinaryEquals)."""
