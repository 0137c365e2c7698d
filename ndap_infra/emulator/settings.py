"""Names shared by the synthesized local-target stacks and the commands that deploy them
(kept free of cdktf, so the command line can read them without loading it)."""

from __future__ import annotations

# The Terraform variable every local-target provider reads its endpoints from.
EMULATOR_ENDPOINT_VARIABLE = "ndap_emulator_endpoint"
# Dummy credentials: moto accepts any; they map to its default account.
DUMMY_CREDENTIAL = "test"
EMULATOR_DEFAULT_ACCOUNT = "123456789012"
# The bucket holding Terraform state on the emulator (`ndap emulator start` creates it).
EMULATOR_STATE_BUCKET = "ndap-terraform-state"
EMULATOR_STATE_REGION = "us-east-1"


def state_key(stack: str) -> str:
    return f"{stack}.tfstate"
