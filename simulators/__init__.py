"""Simulators of the systems the hub connects: a provincial one-stop-shop (SOAP) and the national portal (REST).

Start both in-process with :class:`simulators.server.Simulators`, or as a process with ``dvc-hub simulate``.
"""
