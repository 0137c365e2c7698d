"""External policy linters (checkov, parliament), their reasoned suppressions and the
LINT.md report."""
