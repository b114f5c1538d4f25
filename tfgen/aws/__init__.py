"""Live registries through boto3: sessions, verify (drift), import, audit, Organizations lock.

Reads the same compiled desired state as rendering does (tfgen.compile); never rendered files.
"""

from __future__ import annotations
