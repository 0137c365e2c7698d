"""AWS size limits of policy documents, and the error for a policy over one."""

from __future__ import annotations


class PolicyTooLarge(ValueError):
    """A policy is over its AWS size limit. The message names the policy and its size."""
