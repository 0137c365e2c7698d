"""Organization guardrails (service control policies), built by named pure functions."""
