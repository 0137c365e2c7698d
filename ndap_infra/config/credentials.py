"""Values that look like credentials, so a configuration never carries one into the
synthesized stacks (default tags reach every resource) or into an error message.

Two signals: the value's shape (well-known token formats, the same families secret
scanners such as GitHub's and gitleaks' look for), and, for the free-form mappings (tags),
a key that names a secret with a non-trivial value. Hand-written on purpose: a scanner
library would bring its own rule files and runtime for these dozen patterns.
"""

from __future__ import annotations

import re

SHAPES: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("an AWS access key id", re.compile(r"\b(AKIA|ASIA|ABIA|ACCA)[0-9A-Z]{16}\b")),
    ("a private key", re.compile(r"-----BEGIN [A-Z ]*PRIVATE KEY")),
    ("a GitHub token", re.compile(r"\b(gh[pousr]_[A-Za-z0-9]{36,}|github_pat_\w{22,})")),
    ("a GitLab token", re.compile(r"\bglpat-[A-Za-z0-9_-]{20,}")),
    ("a Slack token", re.compile(r"\bxox[abposr]-[A-Za-z0-9-]{10,}")),
    ("a Stripe key", re.compile(r"\b[sr]k_live_[A-Za-z0-9]{20,}")),
    ("a Google API key", re.compile(r"\bAIza[0-9A-Za-z_-]{35}\b")),
    ("a JSON web token", re.compile(r"\beyJ[A-Za-z0-9_-]{10,}\.eyJ[A-Za-z0-9_-]{10,}\.")),
    ("a password in a URL", re.compile(r"://[^/\s:@]+:[^/\s@]+@")),
    (
        "an AWS secret access key",
        re.compile(r"(?<![A-Za-z0-9/+=])[A-Za-z0-9/+=]{40}(?![A-Za-z0-9/+=])"),
    ),
)

SECRET_KEY_WORDS = re.compile(
    r"(pass(word|wd|phrase)?|pwd|secret|token|api[-_]?key|private[-_]?key|credential|"
    r"access[-_]?key)",
    re.IGNORECASE,
)


PLACEHOLDERS = frozenset({"redacted", "changeme", "not-set", "secrets-manager", "ssm"})


def _looks_random(text: str) -> bool:
    """A 40-character run of the secret-key alphabet that is not a plain word or path:
    mixed case and a digit (an AWS secret access key always has them)."""
    return (
        any(c.islower() for c in text)
        and any(c.isupper() for c in text)
        and any(c.isdigit() for c in text)
    )


def credential_kind(value: str) -> str | None:
    """What credential ``value`` looks like (for a message), or None."""
    for kind, shape in SHAPES:
        match = shape.search(value)
        if match is None:
            continue
        if kind == "an AWS secret access key" and not _looks_random(match.group(0)):
            continue
        return kind
    return None


def secret_named(key: str, value: str) -> bool:
    """A free-form key that names a secret, holding something that could be one."""
    text = value.strip()
    return (
        bool(SECRET_KEY_WORDS.search(key))
        and len(text) >= 6
        and not text.isdigit()
        and text.lower() not in PLACEHOLDERS
    )
