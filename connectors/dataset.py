"""A .NET DataSet answer (an inline ``xs:schema`` followed by a ``diffgr:diffgram``) read as plain rows.

zeep gives such an answer as ``xs:any`` content under internal names (``_value_1``) that no profile should have to
know; this module finds the diffgram wherever the answer holds it and returns the rows of one table, each a mapping of
its columns by name (a column the row leaves out is null in the DataSet, and absent here). A SOAP connector installs
:class:`DataSetAsElements` for a profile that reads a DataSet, so the diffgram reaches this module as XML.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from lxml import etree
from zeep import Plugin

from connectors.embedded import element_value

DIFFGRAM = "urn:schemas-microsoft-com:xml-diffgram-v1"
XSD = "http://www.w3.org/2001/XMLSchema"


class DataSetAsElements(Plugin):
    """Keeps a DataSet's diffgram as XML for :func:`dataset_rows`: zeep would otherwise type the rows by the inline
    schema, under internal names, and refuse the whole answer when one row carries a column that schema omits. The
    inline schema is dropped before zeep reads the answer (the rows are read as text, by column name)."""

    def ingress(self, envelope: Any, http_headers: Any, operation: Any) -> Any:
        for diffgram in envelope.iter(f"{{{DIFFGRAM}}}diffgram"):
            parent = diffgram.getparent()
            for schema in [] if parent is None else list(parent.iterchildren(f"{{{XSD}}}schema")):
                parent.remove(schema)
        return envelope, http_headers


def dataset_rows(answer: Any, table: str) -> list[dict[str, Any]]:
    """The rows of ``table`` in the DataSet ``answer`` holds (none when it holds no diffgram: an empty DataSet)."""
    diffgram = next(_diffgrams(answer), None)
    if diffgram is None:
        return []
    rows: list[dict[str, Any]] = []
    for dataset in (c for c in diffgram if isinstance(c.tag, str)):
        if etree.QName(dataset).localname == "before" or etree.QName(dataset).localname == "errors":
            continue  # a diffgram's earlier versions and row errors are not the current rows
        for row in dataset:
            if isinstance(row.tag, str) and etree.QName(row).localname == table:
                value = element_value(row)
                rows.append(value if isinstance(value, dict) else {})
    return rows


def dataset_tables(answer: Any) -> dict[str, list[str]]:
    """Each table a DataSet answer holds, with the columns its rows carry (what ``vendor probe --show-paths`` shows)."""
    tables: dict[str, list[str]] = {}
    diffgram = next(_diffgrams(answer), None)
    if diffgram is None:
        return tables
    for dataset in (c for c in diffgram if isinstance(c.tag, str)):
        for row in (r for r in dataset if isinstance(r.tag, str)):
            columns = tables.setdefault(etree.QName(row).localname, [])
            for cell in (c for c in row if isinstance(c.tag, str)):
                if etree.QName(cell).localname not in columns:
                    columns.append(etree.QName(cell).localname)
    return tables


def holds_dataset(answer: Any) -> bool:
    return next(_diffgrams(answer), None) is not None


def _diffgrams(value: Any) -> Iterator[etree._Element]:
    if etree.iselement(value):
        yield from value.iter(f"{{{DIFFGRAM}}}diffgram")
    elif isinstance(value, Mapping):
        for item in value.values():
            yield from _diffgrams(item)
    elif isinstance(value, list | tuple):
        for item in value:
            yield from _diffgrams(item)
