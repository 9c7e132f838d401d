"""The scenario file reference, generated from the schema (the pydantic models)."""

from __future__ import annotations

from typing import Any

from placeplan.scenario import Scenario

__all__ = ["scenario_reference"]


def _type(prop: dict[str, Any]) -> str:
    if "$ref" in prop:
        return prop["$ref"].rsplit("/", 1)[-1]
    if "anyOf" in prop:
        return " or ".join(_type(p) for p in prop["anyOf"])
    if "oneOf" in prop:
        return " or ".join(_type(p) for p in prop["oneOf"])
    if "const" in prop:
        return f"`{prop['const']}`"
    if "enum" in prop:
        return " \\| ".join(f"`{v}`" for v in prop["enum"])
    kind = prop.get("type", "any")
    if kind == "array":
        items = prop.get("items") or prop.get("prefixItems")
        if isinstance(items, list):
            return "[" + ", ".join(_type(i) for i in items) + "]"
        return f"list of {_type(items or {})}"
    if kind == "object" and "additionalProperties" in prop:
        extra = prop["additionalProperties"]
        return f"mapping to {_type(extra) if isinstance(extra, dict) else 'any'}"
    return str(kind)


def _default(value: Any) -> str:
    """A default as written in a scenario file: distributions in their short form."""
    if isinstance(value, dict):
        if set(value) >= {"mean", "low", "high"}:  # an Uncertain: only the keys given
            if value.get("mean") is not None and not value.get("sd"):
                return f"`{value['mean']}`"
            keys = ("mean", "sd") if value.get("mean") is not None else ("low", "mode", "high")
            value = {k: value[k] for k in keys if value.get(k) is not None}
        else:
            value = {k: v for k, v in value.items() if v not in (None, "", {}, [])}
        return "`{" + ", ".join(f"{k}: {_default(v).strip('`')}" for k, v in value.items()) + "}`"
    return f"`{value}`"


def _range(prop: dict[str, Any]) -> str:
    """The bounds of a value (or of its items, or of the members of a union)."""
    parts = [prop["range"]] if "range" in prop else []
    for key, sign in (
        ("minimum", "≥"),
        ("exclusiveMinimum", ">"),
        ("maximum", "≤"),
        ("exclusiveMaximum", "<"),
    ):
        if key in prop:
            parts.append(f"{sign} {prop[key]:,}" if not isinstance(prop[key], str) else "")
    if "minLength" in prop or "maxLength" in prop:
        lo, hi = prop.get("minLength"), prop.get("maxLength")
        if prop.get("type") in {"array", "object"} or "items" in prop:
            parts.append(f"{lo or 0}–{hi if hi is not None else '…'} items")
    if ("maxItems" in prop and "prefixItems" not in prop) or "maxProperties" in prop:
        parts.append(f"≤ {prop.get('maxItems', prop.get('maxProperties')):,} items")
    for sub in (prop.get("items"), prop.get("additionalProperties")):
        if isinstance(sub, dict) and (inner := _range(sub)):
            parts.append(inner if inner.startswith("each ") else f"each {inner}")
    for sub in prop.get("anyOf", []):
        if inner := _range(sub):
            parts.append(inner)
    return "; ".join(p for p in parts if p)


def _validation_rules() -> list[str]:
    """The whole-scenario rules, from the docstring of :mod:`placeplan.validation`."""
    from placeplan import validation

    text = (validation.__doc__ or "").strip().split("\n\n", 1)[-1]
    return text.splitlines()


def scenario_reference() -> str:
    """Markdown reference of every section and key of a scenario file, with units."""
    schema = Scenario.model_json_schema()
    models = {"Scenario": schema, **schema.get("$defs", {})}
    out = [
        "# Scenario file reference",
        "",
        "Generated from the schema by `python -m placeplan.schema_doc` — do not edit by hand.",
        "Every key below is checked; unknown keys are errors.",
        "",
        "## Checked across keys",
        "",
        *_validation_rules(),
        "",
    ]
    for name, model in models.items():
        if "properties" not in model:
            continue
        summary = model.get("description", "").strip().split("\n\n")[0]
        out += [f"## {name}", "", " ".join(summary.split()), ""]
        out += [
            "| key | type | default | units | range | description |",
            "|---|---|---|---|---|---|",
        ]
        required = set(model.get("required", []))
        for key, prop in model["properties"].items():
            default = "required" if key in required else _default(prop.get("default", ""))
            description = " ".join(str(prop.get("description", "")).split()).replace("|", "\\|")
            cells = [f"`{key}`", _type(prop), default, prop.get("units", ""), _range(prop)]
            out.append("| " + " | ".join([*cells, description]) + " |")
        out.append("")
    return "\n".join(out)


if __name__ == "__main__":  # pragma: no cover
    print(scenario_reference())
