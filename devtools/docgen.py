"""The documentation's reference sections, written from the code so they cannot drift from it.

The docs site (``mkdocs.yml``) calls :func:`section` through its hook for every ``<!-- generated: NAME -->`` marker
in a page: the topology and vendor-profile keys and the settings come from their pydantic models, the kinds from the
system registry, the error classes from ``foundation.errors.ERROR_CLASSES`` with the runbook's words for each
(``docs/operations/runbook.yaml``), the commands from the CLI itself. A class, kind, incident or setting without
words in the runbook fails the build, so the runbook grows with the code.
"""

from __future__ import annotations

import ast
import functools
import inspect
import re
import sys
import types
import typing
from collections.abc import Callable, Iterator
from enum import Enum
from pathlib import Path
from typing import Any

import typer
import yaml
from pydantic import BaseModel
from pydantic.fields import FieldInfo
from pydantic_core import PydanticUndefined

from console.alerts import AlertSettings
from foundation.errors import ERROR_CLASSES
from foundation.settings import PROJECT_ROOT, Settings
from foundation.topology import TopologyFile
from mappings.vendors import VendorProfile
from reports.rules import RULES_ENV, Rules
from systems import registry
from systems.kind import Options

RUNBOOK = PROJECT_ROOT / "docs" / "operations" / "runbook.yaml"
# Error classes no HubError subclass carries: an exception the hub did not expect is logged under this name.
UNEXPECTED = "unexpected"


class MissingWords(Exception):
    """Raised when the runbook has no words for an error class or incident kind the code has."""


def runbook() -> dict[str, dict[str, dict[str, str]]]:
    """The runbook's words: ``error_classes`` and ``incidents``, each name → ``meaning`` and ``action``."""
    data: dict[str, dict[str, dict[str, str]]] = yaml.safe_load(RUNBOOK.read_text(encoding="utf-8"))
    return data


def documented_error_classes() -> set[str]:
    """The error classes the code can log: the table's, and ``unexpected``."""
    return {*ERROR_CLASSES, UNEXPECTED}


def _type_name(annotation: Any) -> str:
    origin = typing.get_origin(annotation)
    if origin is typing.Literal:
        return " \\| ".join(repr(arg) for arg in typing.get_args(annotation))
    if origin in (typing.Union, types.UnionType):
        return " \\| ".join(_type_name(arg) for arg in typing.get_args(annotation))
    if origin is not None:
        args = ", ".join(_type_name(arg) for arg in typing.get_args(annotation) if arg is not Ellipsis)
        return f"{getattr(origin, '__name__', str(origin))}[{args}]"
    if annotation is type(None):
        return "none"
    if isinstance(annotation, type) and issubclass(annotation, Enum):
        return " \\| ".join(repr(member.value) for member in annotation)
    return getattr(annotation, "__name__", str(annotation))


def _default(field: FieldInfo) -> str:
    if field.default_factory is not None:
        value: Any = field.default_factory()  # type: ignore[call-arg]
    elif field.default is PydanticUndefined:
        return "**required**"
    else:
        value = field.default
    if isinstance(value, BaseModel):
        return "see below"
    if isinstance(value, Enum):
        value = value.value
    if isinstance(value, dict):
        value = {(k.value if isinstance(k, Enum) else k): v for k, v in value.items()}
    shown = str(value).replace(str(PROJECT_ROOT), "<repo>")
    if value is None:
        shown = "none"
    return f"`{shown}`" if shown else '`""`'


def _cell(text: str) -> str:
    return " ".join(text.split()).replace("|", "\\|")


_BOUNDS = {"ge": "≥", "gt": ">", "le": "≤", "lt": "<", "min_length": "at least", "max_length": "at most"}


@functools.cache
def _module_classes(module: str) -> dict[str, dict[str, str]]:
    """Class name → field name → the comment on the field's line, for every class of ``module`` (parsed once)."""
    try:
        source = inspect.getsource(sys.modules[module])
    except (KeyError, OSError, TypeError):
        return {}
    lines = source.splitlines()
    found: dict[str, dict[str, str]] = {}
    for node in ast.walk(ast.parse(source)):
        if not isinstance(node, ast.ClassDef):
            continue
        fields = found.setdefault(node.name, {})
        for statement in node.body:
            if isinstance(statement, ast.AnnAssign) and isinstance(statement.target, ast.Name):
                match = re.search(r"#\s*(.+)$", lines[(statement.end_lineno or statement.lineno) - 1])
                if match and not match.group(1).startswith(("type:", "noqa")):
                    fields[statement.target.id] = match.group(1)
    return found


def _comments(model: type[BaseModel]) -> dict[str, str]:
    """Field name → the comment on its line in the class body, for fields that say what they mean that way."""
    return _module_classes(model.__module__).get(model.__name__, {})


def _description(name: str, field: FieldInfo, comments: dict[str, str]) -> str:
    text = field.description or comments.get(name, "")
    bounds = [
        f"{word} {getattr(meta, key)}"
        for meta in field.metadata
        for key, word in _BOUNDS.items()
        if getattr(meta, key, None) is not None
    ]
    pattern = next((getattr(meta, "pattern", None) for meta in field.metadata if getattr(meta, "pattern", None)), None)
    if pattern:
        bounds.append(f"matches `{pattern}`")
    if bounds:
        text = f"{text} ({', '.join(bounds)})" if text else ", ".join(bounds)
    return _cell(text)


def _models_in(annotation: Any) -> Iterator[type[BaseModel]]:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        yield annotation
    for arg in typing.get_args(annotation):
        yield from _models_in(arg)


def model_table(model: type[BaseModel], *, skip: frozenset[str] = frozenset(), key: Callable[[str], str] = str) -> str:
    """One row per field of ``model``: key, type, default, meaning."""
    rows = ["| key | type | default | meaning |", "|---|---|---|---|"]
    comments: dict[str, str] = {}
    for klass in reversed(model.__mro__):  # a subclass's comment wins over its base's
        if isinstance(klass, type) and issubclass(klass, BaseModel):
            comments.update(_comments(klass))
    for name, field in model.model_fields.items():
        if name in skip or field.exclude:
            continue
        meaning = _description(name, field, comments)
        rows.append(f"| `{key(name)}` | {_type_name(field.annotation)} | {_default(field)} | {meaning} |")
    return "\n".join(rows)


def nested_tables(model: type[BaseModel], prefix: str, level: int = 3) -> str:
    """``model``'s table, then one section per model nested in it (a dotted key path as its title)."""
    parts = [model_table(model)]
    seen: set[type[BaseModel]] = {model}

    def walk(current: type[BaseModel], path: str) -> None:
        for name, field in current.model_fields.items():
            for inner in _models_in(field.annotation):
                if inner in seen:
                    continue
                seen.add(inner)
                where = f"{path}.{name}" if path else name
                doc = _cell((inner.__doc__ or "").strip().split("\n\n")[0])
                parts.append(f"{'#' * level} `{prefix}{where}`\n\n{doc}\n\n{model_table(inner)}")
                walk(inner, where)

    walk(model, "")
    return "\n\n".join(parts)


def topology() -> str:
    """The topology file's keys, each system kind's options, and the vendor profile's keys."""
    parts = [nested_tables(TopologyFile, "", level=3)]
    parts.append(
        "### `systems[].options`: every kind\n\nWhat every kind accepts besides its own options (a system's unknown "
        "key is refused by `dvc-hub config check`, with its path).\n\n" + model_table(Options)
    )
    base = frozenset(Options.model_fields)
    for name in sorted(registry.BUILTIN):
        options = registry.kind_of(name).options
        own = set(options.model_fields) - base
        doc = _cell((options.__doc__ or "").strip().split("\n\n")[0])
        body = model_table(options, skip=base) if own else "No options of its own."
        if options is Options:
            doc = ""
        parts.append(f"### `systems[].options`: kind `{name}`\n\n{doc}\n\n{body}")
    parts.append(
        "## Vendor profile\n\nThe keys of a one-stop-shop vendor's profile (`options: {vendor: NAME}` or "
        "`{vendor_file: PATH}`); `mappings/vendors/default.yaml` is the annotated example of each.\n\n"
        + nested_tables(VendorProfile, "", level=3)
    )
    return "\n\n".join(parts)


def _settings_table(model: type[BaseModel], prefix: str) -> str:
    return model_table(model, key=lambda name: f"{prefix}{name.upper()}")


def configuration() -> str:
    """Every environment variable the hub reads, from the settings models."""
    return "\n\n".join(
        [
            "### The hub (`DVC_HUB_*`)\n\n" + _settings_table(Settings, "DVC_HUB_"),
            "### Alerts (`DVC_HUB_ALERT_*`)\n\n" + _settings_table(AlertSettings, "DVC_HUB_ALERT_"),
            f"### Report rules (the YAML file named by `{RULES_ENV}`)\n\n" + model_table(Rules),
        ]
    )


def error_classes() -> str:
    """Each error class the integration log can hold: what the hub does, what it means, what to do."""
    words = runbook()["error_classes"]
    missing = sorted(documented_error_classes() - set(words))
    if missing:
        raise MissingWords(f"docs/operations/runbook.yaml: error_classes has no words for {', '.join(missing)}")
    rows = ["| error class | the hub | what it means | what to do |", "|---|---|---|---|"]
    for name in sorted(documented_error_classes()):
        action = ERROR_CLASSES[name].value if name in ERROR_CLASSES else "park after a few attempts"
        entry = words[name]
        rows.append(f"| `{name}` | {action} | {_cell(entry['meaning'])} | {_cell(entry['action'])} |")
    return "\n".join(rows)


def incidents() -> str:
    """Each incident kind the console opens."""
    rows = ["| incident | opens when | what to do |", "|---|---|---|"]
    for name, entry in runbook()["incidents"].items():
        rows.append(f"| `{name}` | {_cell(entry['meaning'])} | {_cell(entry['action'])} |")
    return "\n".join(rows)


def commands(app: typer.Typer) -> str:
    """Every command of ``app`` (the ``dvc-hub`` command, which only ``cli`` may import) with its help and options."""
    root = typer.main.get_command(app)
    parts: list[str] = []

    # typer's own command classes (a vendored click): read by their attributes, not by click's class names
    def walk(command: Any, path: str) -> None:
        subcommands: dict[str, Any] = getattr(command, "commands", None) or {}
        params = [p for p in command.params if p.name != "help"]
        if params or not subcommands:  # a group of commands only is said by its commands
            summary = _cell((command.help or "").strip().split("\n\n")[0])
            lines = [f"### `{path}`", "", summary]
            if params:
                lines += ["", "| argument or option | meaning |", "|---|---|"]
                for param in params:
                    if param.param_type_name == "option":
                        shown = " / ".join([*param.opts, *param.secondary_opts])
                    else:
                        shown = str(param.name).upper()
                    help_text = _cell(getattr(param, "help", None) or "")
                    lines.append(f"| `{shown}` | {help_text} |")
            parts.append("\n".join(lines))
        for name in sorted(subcommands):
            walk(subcommands[name], f"{path} {name}")

    walk(root, "dvc-hub")
    return "\n\n".join(parts)


BENCH = PROJECT_ROOT / "bench"


def _command(name: str, results: str) -> str:
    if (BENCH / f"bench_{name}.py").exists():
        return f"make bench BENCH={name}"
    if (BENCH / f"{name}.py").exists():
        return f".venv/bin/python -m bench.{name}"
    made_by = [line for line in results.splitlines() if line.startswith("made by:")]
    return made_by[0].removeprefix("made by:").strip() if made_by else results.splitlines()[0]


def _summary(module: Path) -> str:
    if not module.exists():
        return ""
    doc = ast.get_docstring(ast.parse(module.read_text(encoding="utf-8"))) or ""
    return _cell(doc.split("\n\n")[0])


def benchmarks(limit: int = 16) -> str:
    """Each file of ``bench/results``: the command that writes it, what it measures, and its figures as they stand
    (the file's head; the rest of the file is the dated history)."""
    parts: list[str] = []
    for path in sorted((BENCH / "results").glob("*.txt")):
        name = path.stem.replace("-", "_")
        results = path.read_text(encoding="utf-8").rstrip()
        lines = results.splitlines()
        shown = "\n".join(lines[:limit]) + (
            f"\n… ({len(lines) - limit} more lines in the file)" if len(lines) > limit else ""
        )
        summary = _summary(BENCH / f"bench_{name}.py") or _summary(BENCH / f"{name}.py")
        parts.append(
            f"### {path.stem}\n\n{summary}\n\nMade by `{_command(name, results)}`; "
            f"the record is `bench/results/{path.name}`.\n\n```text\n{shown}\n```"
        )
    return "\n\n".join(parts)


SECTIONS: dict[str, Callable[[], str]] = {
    "benchmarks": benchmarks,
    "topology": topology,
    "configuration": configuration,
    "error-classes": error_classes,
    "incidents": incidents,
}


def render(markdown: str, sections: dict[str, Callable[[], str]]) -> str:
    """``markdown`` with each ``<!-- generated: NAME -->`` marker replaced by its section (KeyError for a name
    ``sections`` does not have, so a misspelt marker fails the build)."""
    out: list[str] = []
    for line in markdown.splitlines():
        stripped = line.strip()
        if stripped.startswith("<!-- generated:") and stripped.endswith("-->"):
            out.append(sections[stripped.removeprefix("<!-- generated:").removesuffix("-->").strip()]())
        else:
            out.append(line)
    return "\n".join(out) + "\n"
