"""The organization's policies: which guardrails (service and resource control policies)
attach to which unit, composed from the access, pipeline and guardrail builders."""
