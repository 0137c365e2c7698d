"""The security baseline as pure data: policy documents, alarm filters, names and ARNs.

Everything here is a pure function of the configuration and of names and ids (no cdktf),
so that it is testable without synthesis; ``ndap_infra.constructs.baseline`` turns it into
resources. Nothing here may depend on the environment: invariant 1 of the model says the
baseline is identical in every environment account.
"""
