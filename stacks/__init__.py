"""The cdktf app entry (cdktf.json runs ``python -m stacks``); the stack classes live in
``ndap_infra.stacks``. Not installed: it exists for the habits of cdktf users."""
