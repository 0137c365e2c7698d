"""Typed IAM policy documents: pure data, no cdktf."""

from ndap_infra.iam.document import Condition, PolicyDocument, Principal, Statement

__all__ = ["Condition", "PolicyDocument", "Principal", "Statement"]
