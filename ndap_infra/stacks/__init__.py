"""Thin stacks: each wires constructs for one account. No security decision lives here.
Importing this package does not start cdktf; its modules do."""
