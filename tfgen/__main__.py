from __future__ import annotations

from tfgen.cli import main

main()
