#!/usr/bin/env python3
"""Checks the engine's layering (engine/src/README.md): every #include of another
engine folder must be allowed by the `layers` block there, and the allowed
graph itself must have no cycle. Exits 1 listing every violation."""

import re
import sys
from pathlib import Path

INCLUDE = re.compile(r'^\s*#\s*include\s+"([a-z_]+)/', re.MULTILINE)


def read_layers(readme):
    block = re.search(r"```layers\n(.*?)```", readme.read_text(), re.DOTALL)
    if not block:
        sys.exit(f"{readme}: no ```layers block")
    allowed = {}
    for line in block.group(1).splitlines():
        name, _, below = line.partition(":")
        allowed[name.strip()] = set(below.split())
    return allowed


def cycles(allowed):
    """Folders that can reach themselves through allowed edges."""
    def reaches(start):
        seen, todo = set(), list(allowed.get(start, ()))
        while todo:
            f = todo.pop()
            if f not in seen:
                seen.add(f)
                todo.extend(allowed.get(f, ()))
        return seen
    return sorted(f for f in allowed if f in reaches(f))


def main(src):
    allowed = read_layers(src / "README.md")
    problems = [f"cycle through '{f}' in the layers block" for f in cycles(allowed)]
    for path in sorted(src.rglob("*.[ch]pp")):
        folder = path.relative_to(src).parts[0]
        if path.parent == src:
            continue  # main.cpp wires everything
        if folder not in allowed:
            problems.append(f"{path.relative_to(src)}: folder '{folder}' is not in the layers block")
            continue
        for target in INCLUDE.findall(path.read_text()):
            if target not in (folder, "shared") and target not in allowed[folder]:
                problems.append(f"{path.relative_to(src)}: {folder}/ may not include {target}/")
    for p in problems:
        print(p)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(Path(sys.argv[1]) if len(sys.argv) > 1 else Path(__file__).parent.parent / "src"))
