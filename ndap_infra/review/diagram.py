"""A picture of the platform, from the configuration: units and accounts, which personas
reach which accounts, how production data flows, and the pipeline path from git to each
environment. Plain SVG written here (deterministic, reviewable in git); PNG by cairosvg.

Written by hand rather than with graphviz: the layout is fixed (four environment columns)
and a hand layout keeps the output byte-stable across machines, with no system package.
"""

from __future__ import annotations

from dataclasses import dataclass
from html import escape

from ndap_infra.config.enums import Access, DataSharingMode, Environment, Persona
from ndap_infra.config.model import NdapConfig

WIDTH = 1180
COLUMN_X = {
    Environment.NONPROD: 300,
    Environment.DEV: 520,
    Environment.ACC: 740,
    Environment.PRD: 960,
}
BOX_W, BOX_H = 190, 86
ACCOUNT_Y = 300
PERSONA_X, PERSONA_W = 20, 200
COLOURS = {
    Environment.NONPROD: "#eef3f8",
    Environment.DEV: "#e8f5e9",
    Environment.ACC: "#fff8e1",
    Environment.PRD: "#fdecea",
}
ACCESS_COLOUR = {
    Access.FULL: "#2e7d32",
    Access.ADMIN: "#6a1b9a",
    Access.READ_ONLY: "#1565c0",
    Access.SECURITY_AUDIT: "#455a64",
    Access.UAT: "#ef6c00",
}


@dataclass(frozen=True)
class Svg:
    parts: list[str]

    def add(self, text: str) -> None:
        self.parts.append(text)

    def rect(
        self,
        x: float,
        y: float,
        w: float,
        h: float,
        fill: str,
        stroke: str = "#37474f",
        dash: bool = False,
    ) -> None:
        style = ' stroke-dasharray="5,4"' if dash else ""
        self.add(
            f'<rect x="{x:.0f}" y="{y:.0f}" width="{w:.0f}" height="{h:.0f}" rx="8" '
            f'fill="{fill}" stroke="{stroke}"{style}/>'
        )

    def text(
        self,
        x: float,
        y: float,
        value: str,
        size: int = 13,
        weight: str = "normal",
        anchor: str = "middle",
        colour: str = "#212121",
    ) -> None:
        self.add(
            f'<text x="{x:.0f}" y="{y:.0f}" font-family="DejaVu Sans, Arial, sans-serif" '
            f'font-size="{size}" font-weight="{weight}" text-anchor="{anchor}" '
            f'fill="{colour}">{escape(value)}</text>'
        )

    def line(
        self,
        x1: float,
        y1: float,
        x2: float,
        y2: float,
        colour: str,
        dash: bool = False,
        arrow: bool = True,
        width: float = 1.6,
    ) -> None:
        style = ' stroke-dasharray="6,4"' if dash else ""
        marker = ' marker-end="url(#arrow)"' if arrow else ""
        self.add(
            f'<path d="M{x1:.0f},{y1:.0f} L{x2:.0f},{y2:.0f}" stroke="{colour}" '
            f'stroke-width="{width}" fill="none"{style}{marker}/>'
        )


def _curve(svg: Svg, x1: float, x2: float, y: float, depth: float, colour: str, dash: bool) -> None:
    style = ' stroke-dasharray="6,4"' if dash else ""
    svg.add(
        f'<path d="M{x1:.0f},{y:.0f} Q{(x1 + x2) / 2:.0f},{y + depth:.0f} {x2:.0f},{y:.0f}" '
        f'stroke="{colour}" stroke-width="1.8" fill="none"{style} marker-end="url(#arrow)"/>'
    )


def render_svg(config: NdapConfig) -> str:
    """The diagram as SVG text."""
    org = config.organization
    envs = config.enabled_environments()
    matrix = config.persona_matrix()
    height = 640
    svg = Svg([])
    svg.add(
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{height}" '
        f'viewBox="0 0 {WIDTH} {height}">'
    )
    svg.add(
        '<defs><marker id="arrow" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" '
        'markerHeight="7" orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z" '
        'fill="#37474f"/></marker></defs>'
    )
    svg.rect(0, 0, WIDTH, height, "#ffffff", stroke="#ffffff")
    svg.text(WIDTH / 2, 28, f"{org.name}: the N-D-A-P platform", 18, "bold")
    svg.text(
        WIDTH / 2,
        48,
        f"management account {org.management_account_id}; regions {', '.join(org.allowed_regions)}",
        12,
        colour="#555555",
    )

    # The git flow and the pipelines (top band).
    tooling = getattr(org, "tooling_account_id", None)
    svg.rect(300, 70, 170, 60, "#f3e5f5")
    svg.text(385, 96, "git host", 13, "bold")
    svg.text(385, 114, "PR checks, no cloud identity", 10)
    svg.rect(560, 70, 300, 60, "#ede7f6")
    svg.text(710, 96, "pipelines (tooling account)", 13, "bold")
    svg.text(710, 114, f"account {tooling}" if tooling else "one per ML project", 10)
    svg.line(470, 100, 560, 100, "#6a1b9a")
    triggers = {
        Environment.DEV: "merge to develop",
        Environment.ACC: "release tag",
        Environment.PRD: "main + tag + approval",
    }
    for env, label in triggers.items():
        x = COLUMN_X[env] + BOX_W / 2
        svg.line(710, 130, x, ACCOUNT_Y - 8, "#6a1b9a", dash=True)
        svg.text(x + 4, ACCOUNT_Y - 40, label, 10, anchor="middle", colour="#6a1b9a")

    # The platform's own pipeline: one reviewed plan, approved, applied to every account.
    platform = config.platform_pipeline
    if platform is not None:
        teal = "#00695c"
        svg.rect(880, 70, 280, 60, "#e0f2f1")
        svg.text(1020, 90, "platform pipeline (tooling)", 13, "bold")
        svg.text(1020, 106, f"push to {platform.branch}: plan > review pack", 10)
        approvers = ", ".join(a.value for a in platform.approvers)
        svg.text(1020, 121, f"approved by {approvers} > apply saved plan", 10)
        svg.add(
            f'<path d="M385,70 L385,60 L1020,60 L1020,70" stroke="{teal}" stroke-width="1.4" '
            'fill="none" marker-end="url(#arrow)"/>'
        )
        for env in envs:
            x = COLUMN_X[env] + BOX_W - 12
            svg.line(1100, 130, x, ACCOUNT_Y - 28, teal, dash=True, width=1.0)

    # Personas and the accounts they reach.
    svg.text(PERSONA_X + PERSONA_W / 2, 170, "people (identity account)", 12, "bold")
    for index, persona in enumerate(p for p in Persona if p is not Persona.DEPLOYER):
        py = 190 + index * 62
        svg.rect(PERSONA_X, py, PERSONA_W, 40, "#ffffff")
        svg.text(PERSONA_X + PERSONA_W / 2, py + 25, persona.value, 12)
        for env in envs:
            access = matrix[persona][env]
            if access is Access.NONE:
                continue
            colour = ACCESS_COLOUR.get(access, "#37474f")
            tx = COLUMN_X[env]
            ty = ACCOUNT_Y + 12 + index * 10
            svg.line(PERSONA_X + PERSONA_W, py + 20, tx, ty, colour, width=1.1)
    # Organizational units and accounts.
    for env in envs:
        x = COLUMN_X[env]
        svg.rect(x - 10, ACCOUNT_Y - 28, BOX_W + 20, BOX_H + 44, "none", dash=True)
        svg.text(x + BOX_W / 2, ACCOUNT_Y - 14, f"OU {org.name}-{env.value}", 11, colour="#555555")
        svg.rect(x, ACCOUNT_Y, BOX_W, BOX_H, COLOURS[env])
        svg.text(x + BOX_W / 2, ACCOUNT_Y + 24, env.value, 15, "bold")
        svg.text(x + BOX_W / 2, ACCOUNT_Y + 44, config.account_id(env), 11)
        data = config.production_data(env).value
        svg.text(x + BOX_W / 2, ACCOUNT_Y + 62, f"production data: {data}", 10)
        svg.text(x + BOX_W / 2, ACCOUNT_Y + 78, "same security baseline", 10, colour="#555555")

    # Production data flows (below the accounts).
    bottom = ACCOUNT_Y + BOX_H
    prd_x = COLUMN_X[Environment.PRD] + BOX_W / 2
    acc_x = COLUMN_X[Environment.ACC] + BOX_W / 2
    dev_x = COLUMN_X[Environment.DEV] + BOX_W / 2
    red = "#c62828"
    _curve(svg, prd_x, acc_x + 20, bottom, 70, red, dash=False)
    svg.text((prd_x + acc_x) / 2 + 10, bottom + 52, "copy (replication)", 10, colour=red)
    if config.data.sharing_mode is DataSharingMode.REPLICA:
        _curve(svg, prd_x - 20, dev_x, bottom, 170, red, dash=False)
        svg.text(
            (prd_x + dev_x) / 2, bottom + 104, "read-only replica (replication)", 10, colour=red
        )
    else:
        _curve(svg, dev_x, prd_x - 20, bottom, 170, red, dash=True)
        svg.text(
            (prd_x + dev_x) / 2, bottom + 104, "cross-account read, named datasets", 10, colour=red
        )
    if Environment.NONPROD in envs:
        svg.text(
            COLUMN_X[Environment.NONPROD] + BOX_W / 2,
            bottom + 40,
            "no production data",
            10,
            colour=red,
        )

    legend_y = height - 36
    x = 20
    for access, colour in ACCESS_COLOUR.items():
        svg.line(x, legend_y, x + 26, legend_y, colour, arrow=False, width=3)
        svg.text(x + 32, legend_y + 4, access.value, 11, anchor="start")
        x += 150
    svg.text(
        WIDTH - 20,
        legend_y + 4,
        "data scientists reach dev only",
        11,
        "bold",
        anchor="end",
        colour="#2e7d32",
    )
    svg.add("</svg>")
    return "\n".join(svg.parts) + "\n"


def render_png(svg: str) -> bytes:
    import cairosvg  # type: ignore[import-untyped]  # loaded when needed (cairo library)

    result: bytes = cairosvg.svg2png(bytestring=svg.encode("utf-8"), output_width=WIDTH)
    return result
