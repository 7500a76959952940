"""One package per external system kind, registered by kind.

A kind package brings together what the hub needs to talk to one kind of system: its typed options, how to build
its connector, its error table, the wire names of its personal fields, and its mappings to and from the canonical
dossier. The hub asks :mod:`systems.registry` for a system's :class:`~systems.kind.SystemKind` and never branches on
a kind; a new kind is a new package named in the topology's ``kinds`` section.
"""
