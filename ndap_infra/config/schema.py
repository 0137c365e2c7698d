"""The configuration's JSON Schema, for editors (committed as schema/ndap-config.schema.json)."""

from __future__ import annotations

import json
from pathlib import Path

from ndap_infra.config.model import NdapConfig

SCHEMA_PATH = Path("schema/ndap-config.schema.json")

SCHEMA_TITLE = "ndap-infra configuration"


def config_json_schema() -> str:
    schema = NdapConfig.model_json_schema(mode="validation")
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["title"] = SCHEMA_TITLE
    return json.dumps(schema, indent=2, sort_keys=True) + "\n"


def is_config_schema(text: str) -> bool:
    """Whether ``text`` is a JSON Schema of this configuration (any version ndap wrote)."""
    try:
        document = json.loads(text)
    except ValueError:
        return False
    return isinstance(document, dict) and document.get("title") == SCHEMA_TITLE
