"""The team README's persona table lists the platform's custom personas too, with what
they are for and their cells (#20 item 4)."""

from __future__ import annotations

from ndap_infra.bootstrap.scaffold import team_readme
from ndap_infra.config.load import validate_data
from tests.helpers import reference_data


def test_the_team_readme_names_custom_personas_with_their_cells() -> None:
    data = reference_data()
    data["custom_personas"] = [
        {
            "name": "research-scientist",
            "like": "data-scientist",
            "description": "Explores new model families in dev.",
            "access": {"dev": "full"},
        }
    ]
    config, issues = validate_data(data)
    assert config is not None, issues
    readme = team_readme(config, config.ml_projects[0])
    rows = [line for line in readme.splitlines() if line.startswith("| research-scientist ")]
    assert len(rows) == 1
    assert rows[0].startswith("| research-scientist (Explores new model families in dev) |")
    plain = team_readme(config.model_copy(update={"custom_personas": ()}), config.ml_projects[0])
    assert "research-scientist" not in plain
