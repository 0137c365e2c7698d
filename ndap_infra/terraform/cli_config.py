"""The project's own Terraform CLI configuration.

Why and how: docs/design-notes.md, section ndap_infra/terraform/cli_config.py."""

from __future__ import annotations

import os
import platform
from dataclasses import dataclass
from pathlib import Path

from ndap_infra.terraform.provider import (
    PROVIDER_HOST,
    PROVIDER_NAMESPACE,
    PROVIDER_TYPE,
    PROVIDER_VERSION,
)

MIRROR_ENV = "NDAP_TF_PROVIDER_MIRROR"
MIRROR_OFF = "off"

# Terraform's own implicit system directories, plus /opt/tf-plugins (common in images).
SYSTEM_MIRROR_CANDIDATES: tuple[Path, ...] = (
    Path("/opt/tf-plugins"),
    Path("/usr/local/share/terraform/plugins"),
    Path("/usr/share/terraform/plugins"),
)


class MirrorError(RuntimeError):
    """The configured provider mirror cannot be used."""


def terraform_platform() -> str:
    """Terraform's name for this machine's OS and architecture, e.g. ``linux_amd64``."""
    machine = platform.machine().lower()
    arch = {"x86_64": "amd64", "amd64": "amd64", "aarch64": "arm64", "arm64": "arm64"}.get(
        machine, machine
    )
    return f"{platform.system().lower()}_{arch}"


def provider_address() -> str:
    return f"{PROVIDER_HOST}/{PROVIDER_NAMESPACE}/{PROVIDER_TYPE}"


def mirror_holds_provider(mirror: Path, version: str = PROVIDER_VERSION) -> bool:
    """True when ``mirror`` is a Terraform filesystem mirror holding the pinned provider
    for this platform (unpacked layout or packed zip layout)."""
    base = mirror / PROVIDER_HOST / PROVIDER_NAMESPACE / PROVIDER_TYPE
    unpacked = base / version / terraform_platform()
    packed = base / f"terraform-provider-{PROVIDER_TYPE}_{version}_{terraform_platform()}.zip"
    return unpacked.is_dir() or packed.is_file()


@dataclass(frozen=True)
class MirrorChoice:
    """Where the pinned provider comes from, and why."""

    path: Path | None
    reason: str


def discover_mirror(environ: dict[str, str] | None = None) -> MirrorChoice:
    """Find the provider mirror to use, or decide to use the registry."""
    env = os.environ if environ is None else environ
    configured = env.get(MIRROR_ENV, "").strip()
    if configured.lower() == MIRROR_OFF:
        return MirrorChoice(None, f"{MIRROR_ENV}=off: providers come from the registry")
    if configured:
        path = Path(configured).expanduser().resolve()
        if not mirror_holds_provider(path):
            raise MirrorError(
                f"{MIRROR_ENV}={configured} does not hold {provider_address()} "
                f"{PROVIDER_VERSION} for {terraform_platform()}: expected the directory "
                f"{path / PROVIDER_HOST / PROVIDER_NAMESPACE / PROVIDER_TYPE / PROVIDER_VERSION}"
                f"/{terraform_platform()}. Fix the path, or set {MIRROR_ENV}=off to install "
                "providers from the registry."
            )
        return MirrorChoice(path, f"{MIRROR_ENV} points at {path}")
    for candidate in SYSTEM_MIRROR_CANDIDATES:
        if mirror_holds_provider(candidate):
            return MirrorChoice(candidate, f"found a provider mirror at {candidate}")
    return MirrorChoice(None, "no provider mirror found: providers come from the registry")


def render_cli_config(mirror: Path | None, plugin_cache_dir: Path) -> str:
    """The text of a Terraform CLI configuration file (HCL)."""
    lines = [
        "# Written by ndap-infra; regenerated on every run. Do not edit.",
        f'plugin_cache_dir = "{plugin_cache_dir.as_posix()}"',
        "disable_checkpoint = true",
    ]
    if mirror is not None:
        address = provider_address()
        lines += [
            "provider_installation {",
            "  filesystem_mirror {",
            f'    path    = "{mirror.as_posix()}"',
            f'    include = ["{address}"]',
            "  }",
            "  direct {",
            f'    exclude = ["{address}"]',
            "  }",
            "}",
        ]
    return "\n".join(lines) + "\n"


GO_GC_PERCENT = "200"
"""Go's garbage-collector target for Terraform and the provider processes it starts. Most of
a plan's or validate's CPU is the AWS provider's processes starting (5 to 6 s each, about
600 MB resident; docs/testing.md, "Where the time goes"); collecting half as often takes
about a fifth off that for some 5 % more memory (measured with bench/terraform_processes.py,
env-dev's validate: its providers 12.0 and 13.8 s of CPU at Go's default of 100, 9.8 and
10.4 s at 200; 585 to 618 MB and 622 to 643 MB each). Only the collector's pacing changes,
never what Terraform does."""


@dataclass(frozen=True)
class TerraformSetup:
    """The CLI configuration file written for this run, and the mirror decision."""

    cli_config_file: Path
    plugin_cache_dir: Path
    mirror: MirrorChoice

    def environment(self, base: dict[str, str] | None = None) -> dict[str, str]:
        """Environment variables for a Terraform (or cdktf CLI) child process."""
        env = dict(os.environ if base is None else base)
        env.update(tool_environment())
        env["TF_CLI_CONFIG_FILE"] = str(self.cli_config_file)
        env["TF_PLUGIN_CACHE_DIR"] = str(self.plugin_cache_dir)
        env["TF_IN_AUTOMATION"] = "1"
        env["TF_INPUT"] = "0"
        env.setdefault("GOGC", GO_GC_PERCENT)  # a value of the user's own wins
        if self.mirror.path is not None:
            # cdktf deploy runs `terraform providers lock` after init, which ignores the
            # CLI configuration's mirror and contacts the registry unless pointed here.
            env["TF_CLI_ARGS_providers_lock"] = (
                f"-fs-mirror={self.mirror.path} -platform={terraform_platform()}"
            )
        return env


def tool_environment() -> dict[str, str]:
    """Quiet, offline-safe settings for jsii, the cdktf CLI and Terraform."""
    return {
        # jsii prints an end-of-life banner on Node 20 unless the major version is listed.
        "JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION": "20",
        "JSII_SILENCE_WARNING_DEPRECATED_NODE_VERSION": "1",
        "CHECKPOINT_DISABLE": "1",
        "DISABLE_VERSION_CHECK": "1",
        "CDKTF_DISABLE_PLUGIN_CACHE_ENV": "1",
        "CDKTF_DISABLE_TELEMETRY": "1",
    }


def write_cli_config(work_dir: Path, environ: dict[str, str] | None = None) -> TerraformSetup:
    """Write the CLI configuration under ``work_dir`` and return how to use it."""
    mirror = discover_mirror(environ)
    work_dir = work_dir.resolve()
    cache = work_dir / "plugin-cache"
    cache.mkdir(parents=True, exist_ok=True)
    config_file = work_dir / "terraform.rc"
    text = render_cli_config(mirror.path, cache)
    if not config_file.exists() or config_file.read_text() != text:
        tmp = config_file.with_suffix(".rc.tmp")
        tmp.write_text(text)
        tmp.replace(config_file)
    return TerraformSetup(config_file, cache, mirror)
