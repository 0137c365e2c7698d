"""Provenance of what acc/prd identities run (#21 build 4, second bullet): images,
packages, and who holds release powers while running project code. A row a data
scientist (or anyone outside review, a public index included) can change FAILS the build
(``enforced``); a row whose finding is still open is reported, not failing.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from ndap_infra.config.enums import TOOLING, Environment, Persona
from ndap_infra.evaluator import NamedPolicy, Request, Resource, evaluate, principal_for
from ndap_infra.names import pipelines as names
from ndap_infra.proofs.access_model import PlatformModel
from ndap_infra.proofs.principals import base_context, reachable_principals

RELEASE_ENVIRONMENTS = (Environment.ACC, Environment.PRD)
PIP_INSTALL = re.compile(r"pip3?\s+install\b(?P<args>[^\n;|&>]*)")


@dataclass(frozen=True)
class ProvenanceRow:
    identity: str
    runs: str
    source: str
    who_can_change: str
    controlled_by_others: bool
    """True when someone outside review (a data scientist, a public index) can change it."""
    finding: str
    enforced: bool = True
    """The finding's fix has landed: a row others control fails the build."""

    @property
    def fails(self) -> bool:
        return self.controlled_by_others and self.enforced

    @property
    def state(self) -> str:
        if not self.controlled_by_others:
            return "ok"
        return f"FAILS ({self.finding})" if self.enforced else f"open finding ({self.finding})"

    def render(self) -> str:
        return (
            f"| `{self.identity}` | {self.runs} | {self.source} | {self.who_can_change} | "
            f"{self.state} |"
        )


def _allowed(model: PlatformModel, principal: Any, action: str, resource: Resource) -> bool:
    request = Request(principal, action, resource, base_context(model.config))
    return evaluate(request, model.organization).allowed


def _checks_digests(buildspec: str) -> bool:
    """The deploy build refuses images named by tag or from outside the platform registry."""
    return "ndap_check_images dist/model-metadata.json" in buildspec and (
        "IMAGE_REPOSITORY:" in buildspec
    )


def _image_rows(
    model: PlatformModel, stacks: Mapping[str, Mapping[str, Any]]
) -> Iterator[ProvenanceRow]:
    """Can an acc/prd execution role run an image a data scientist pushes (in dev, or in
    the platform registry), or one named by a tag?"""
    config = model.config
    region = config.organization.home_region
    dev = config.account_id(Environment.DEV)
    tooling = config.tooling_account_id
    assert tooling is not None
    org = config.organization.name
    repository = f"arn:aws:ecr:{region}:{dev}:repository/helper"
    scientists = reachable_principals(model, Persona.DATA_SCIENTIST)
    pushes = any(
        _allowed(model, p, "ecr:PutImage", Resource(repository, dev))
        and _allowed(model, p, "ecr:SetRepositoryPolicy", Resource(repository, dev))
        for _, p in scientists
    )
    platform = model.image_repositories
    builds = dict(_buildspecs(stacks.get(TOOLING, {})))
    for env in RELEASE_ENVIRONMENTS:
        account = config.account_id(env)
        for project in config.ml_projects:
            arn = names.execution_role_arn(config.organization.name, project.name, account)
            role = model.roles.get(arn)
            if role is None:
                continue
            grant = NamedPolicy(
                "hypothetical/dev-repository-policy.json",
                {
                    "Version": "2012-10-17",
                    "Statement": [
                        {
                            "Sid": "WrittenByADataScientist",
                            "Effect": "Allow",
                            "Principal": {"AWS": arn},
                            "Action": ["ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer"],
                        }
                    ],
                },
            )
            pulls = _allowed(
                model,
                principal_for(role),
                "ecr:BatchGetImage",
                Resource(repository, dev, "ecr", grant),
            )
            name = names.image_repository(org, project.name)
            own = names.image_repository_arn(region, tooling, org, project.name)
            in_registry = name in platform
            scientist_pushes_there = in_registry and any(
                _allowed(model, p, "ecr:PutImage", Resource(own, tooling, "ecr", platform[name][1]))
                for _, p in scientists
            )
            by_digest = _checks_digests(
                builds.get(names.codebuild_project(project.name, "deploy", env), "")
            )
            problems = []
            if pulls and pushes:
                problems.append("a dev repository a data scientist creates, grants and pushes to")
            if scientist_pushes_there:
                problems.append("a data scientist pushes to the platform repository")
            if not in_registry:
                problems.append("the platform provides no repository for it")
            if not by_digest:
                problems.append("the deploy build accepts a mutable tag")
            yield ProvenanceRow(
                arn,
                "container images of training and prediction jobs",
                f"`{name}` in the platform registry ({tooling}), by digest"
                if not problems
                else "any registry its policy allows, by tag",
                "; ".join(problems)
                if problems
                else "the project's pipeline builds only (immutable tags, scan on push)",
                bool(problems),
                "#21, finding 1: images from anywhere",
            )


def _buildspecs(stack: Mapping[str, Any]) -> Iterator[tuple[str, str]]:
    for body in stack.get("resource", {}).get("aws_codebuild_project", {}).values():
        sources = body.get("source", [])
        source = sources[0] if isinstance(sources, list) and sources else sources
        if isinstance(source, dict):
            yield str(body.get("name", "")), str(source.get("buildspec", ""))


def _package_rows(
    model: PlatformModel, stacks: Mapping[str, Mapping[str, Any]]
) -> Iterator[ProvenanceRow]:
    """Does an acc/prd build install a package by name, without pinned hashes?"""
    if TOOLING not in stacks:
        return
    config = model.config
    for project in config.ml_projects:
        for env in RELEASE_ENVIRONMENTS:
            wanted = names.codebuild_project(project.name, "deploy", env)
            for name, buildspec in _buildspecs(stacks[TOOLING]):
                if name != wanted:
                    continue
                unpinned = [
                    m.group(0).strip()
                    for m in PIP_INSTALL.finditer(buildspec)
                    if "--require-hashes" not in m.group("args")
                ]
                yield ProvenanceRow(
                    f"CodeBuild project {name}",
                    "the platform's tooling in the deploy build",
                    "; ".join(f"`{u}`" for u in unpinned) or "pinned by hash",
                    "whoever publishes that name on the package index"
                    if unpinned
                    else "the platform (pinned by sha256)",
                    bool(unpinned),
                    "#21, finding 2: packages from a public index by name",
                )


def _release_rows(model: PlatformModel) -> Iterator[ProvenanceRow]:
    """Does a build that runs project code hold release powers (register or approve a model
    package, write a release)? Fixed (#21, finding 3): only acc's register step, which runs
    the platform's script alone, holds them; a row that reopens it fails the build."""
    config = model.config
    tooling = config.tooling_account_id
    if tooling is None:
        return
    org = config.organization.name
    region = config.organization.home_region
    bucket = names.artifact_bucket(org, tooling)
    for project in config.ml_projects:
        group = names.model_package_group(project.name)
        if group not in model.registries:
            continue
        account, policy = model.registries[group]
        prefix = f"arn:aws:sagemaker:{region}:{tooling}"
        release = (
            f"arn:aws:s3:::{bucket}/"
            f"{names.artifacts_prefix(project.name, names.RELEASE_ARTIFACTS)}/v1/model.tar.gz"
        )
        bucket_account, bucket_policy = model.buckets.get(bucket, (tooling, None))
        asks = (
            (
                "sagemaker:CreateModelPackage",
                Resource(f"{prefix}:model-package-group/{group}", account, "sagemaker", policy),
                "register",
            ),
            (
                "sagemaker:UpdateModelPackage",
                Resource(f"{prefix}:model-package/{group}/1", account, "sagemaker", policy),
                "approve",
            ),
            ("s3:PutObject", Resource(release, bucket_account, "s3", bucket_policy), "write"),
        )
        for env in names.PIPELINE_ENVIRONMENTS:
            build = model.roles.get(names.build_role_arn(org, project.name, env, tooling))
            if build is None:
                continue
            powers = [
                verb for action, resource, verb in asks
                if _allowed(model, principal_for(build), action, resource)
            ]  # fmt: skip
            yield ProvenanceRow(
                build.arn,
                f"repository code (`make model`, tests) in the {env.value} build",
                "the commit or release tag, reviewed once",
                f"one reviewed commit can {', '.join(powers)} a release for a future tag"
                if powers
                else "nothing of the release: acc's register step (platform script only) "
                "registers, approves and writes releases",
                bool(powers),
                "#21, finding 3: a build running project code holds release powers",
                enforced=True,
            )


def prove_provenance(
    model: PlatformModel, stacks: Mapping[str, Mapping[str, Any]]
) -> list[ProvenanceRow]:
    """Every row (none without a tooling account or projects)."""
    if model.config.tooling_account_id is None or not model.config.ml_projects:
        return []
    return [*_image_rows(model, stacks), *_package_rows(model, stacks), *_release_rows(model)]
