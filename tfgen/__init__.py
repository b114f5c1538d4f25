"""tfgen: one description of Amazon ECR replication, compiled into Terraform for every registry."""

from __future__ import annotations

__version__ = "0.1.0"
