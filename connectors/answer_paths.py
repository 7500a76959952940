"""The paths a profile can name in a vendor's answer, as ``dvc-hub vendor probe --show-paths`` lists them: dotted
element names, ``[]`` after a repeated one, and what a value needs besides its path — a DataSet's table
(``responses.changes.dataset``), a record in XML or JSON text (``xml_string`` / ``json_string``). Values are never
shown (they may be personal data), only their kind.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from lxml import etree

from connectors.dataset import dataset_tables
from connectors.embedded import UnreadableText, parse_json_text, parse_xml_text

_TEXT_CAP = 4 * 1024 * 1024


def answer_paths(answer: Any, base: str = "") -> list[str]:
    """One line per path of ``answer``: the path, and a hint for the profile key it needs when it is not plain."""
    return list(_walk(answer, base))


def _walk(value: Any, path: str) -> Iterator[str]:
    # A DataSet is named where the answer holds it: the element (or the mapping zeep made of its wrapper) whose own
    # content is the diffgram, never a zeep name inside it.
    held = [value] if etree.iselement(value) else list(value.values()) if isinstance(value, Mapping) else []
    tables = next((found for v in held if etree.iselement(v) and (found := dataset_tables(v))), {})
    if tables:
        for table, columns in tables.items():
            yield (
                f"{path or '(answer)'}  → DataSet: items: {path or '…'}, dataset: {table}"
                f"  (columns: {', '.join(columns)})"
            )
        return
    if isinstance(value, Mapping):
        for key, item in value.items():
            yield from _walk(item, f"{path}.{key}" if path else str(key))
    elif isinstance(value, list | tuple):
        if value:
            yield from _walk(value[0], f"{path}[]")
        else:
            yield f"{path}[]  (empty)"
    elif etree.iselement(value):
        yield f"{path}  (XML element {etree.QName(value).localname})"
    elif isinstance(value, str) and value.lstrip().startswith("<"):
        yield from _text(path, value, xml=True)
    elif isinstance(value, str) and value.lstrip()[:1] in ("{", "["):
        yield from _text(path, value, xml=False)
    else:
        yield f"{path}  ({type(value).__name__})"


def _text(path: str, value: str, *, xml: bool) -> Iterator[str]:
    kind = "xml_string" if xml else "json_string"
    try:
        inner = parse_xml_text(value, max_bytes=_TEXT_CAP) if xml else parse_json_text(value, max_bytes=_TEXT_CAP)
    except UnreadableText as exc:
        yield f"{path}  (text that does not parse as {'XML' if xml else 'JSON'}: {exc})"
        return
    yield f"{path}  → record in text: record: {{path: {path}, {kind}: true}}; its paths:"
    for line in _walk(inner, ""):
        yield "    " + line
