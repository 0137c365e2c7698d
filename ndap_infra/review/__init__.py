"""What security reviewers read: generated, deterministic, committed under policies/."""
