"""Proofs on the synthesized stacks with our own evaluator of AWS policy logic: access,
pipelines, git flow, the platform pipeline, parity."""
