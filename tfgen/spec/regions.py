"""Regions where ECR exists, per partition, from botocore's bundled endpoint data.

Reading endpoints.json directly costs ~10 ms; building a boto3 Session to ask costs ~150 ms, and
importing botocore to find the file 5-20 ms (validate and render never import it otherwise).
"""

from __future__ import annotations

import importlib.util
import json
from functools import cache
from pathlib import Path


def endpoints_file() -> Path:
    """botocore's bundled endpoints.json, found without importing botocore."""
    spec = importlib.util.find_spec("botocore")
    if spec is None or not spec.origin:
        raise RuntimeError("botocore is not installed; tfgen needs its Region data")
    return Path(spec.origin).parent / "data" / "endpoints.json"


@cache
def _partitions() -> dict[str, frozenset[str]]:
    data = json.loads(endpoints_file().read_text())
    out: dict[str, frozenset[str]] = {}
    for partition in data["partitions"]:
        known = set(partition.get("regions", {}))
        service = partition.get("services", {}).get("api.ecr", {})
        out[partition["partition"]] = frozenset(
            r for r in service.get("endpoints", {}) if r in known
        )
    return out


def partitions() -> tuple[str, ...]:
    return tuple(sorted(_partitions()))


def ecr_regions(partition: str) -> frozenset[str]:
    return _partitions().get(partition, frozenset())


def partition_of(region: str) -> str | None:
    for name, regions in _partitions().items():
        if region in regions:
            return name
    return None
