"""The ground floor every folder stands on: the error base classes, the topology, settings and credentials, the
clock and time zone, logging, and the one module that decides what is personal data.

This package imports nothing else of the project (an import-linter contract keeps it so).
"""
