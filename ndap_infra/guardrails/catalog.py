"""Which organization policies exist and where they attach: plain data from configuration."""

from __future__ import annotations

from dataclasses import dataclass

from ndap_infra.config.enums import Environment
from ndap_infra.config.model import NdapConfig
from ndap_infra.guardrails import scp
from ndap_infra.iam.document import PolicyDocument
from ndap_infra.naming import scp_name


@dataclass(frozen=True)
class GuardrailSpec:
    """A named organization policy and the environments whose units it is attached to."""

    name: str
    description: str
    document: PolicyDocument
    environments: tuple[Environment, ...]
    policy_type: str = "SERVICE_CONTROL_POLICY"

    @property
    def size(self) -> int:
        return len(self.document.to_json())


class GuardrailTooLarge(ValueError):
    pass


def organization_guardrails(config: NdapConfig) -> list[GuardrailSpec]:
    """Every guardrail of the platform. Guardrails common to all environments are attached
    to every enabled environment's unit: identical by construction."""
    org = config.organization.name
    everywhere = config.enabled_environments()
    specs = [
        GuardrailSpec(
            scp_name(org, "deny-leaving-organization"),
            "No member account may leave the organization.",
            scp.deny_leaving_organization(),
            everywhere,
        ),
    ]
    for spec in specs:
        if spec.policy_type == "SERVICE_CONTROL_POLICY" and spec.size > scp.SCP_SIZE_LIMIT:
            raise GuardrailTooLarge(
                f"service control policy {spec.name} is {spec.size} characters, over the AWS "
                f"limit of {scp.SCP_SIZE_LIMIT}: split it or shorten its statements"
            )
    return specs
