#!/usr/bin/env python3
"""Checks the crate's module dependencies: no cycle between top-level modules (and between the
modules of `domain`), and nothing outside `src/api` imports it except `app.rs`, which wires the
routes, and `web`, the browser front end, which renders what the API's functions return. Test-only files (tests*.rs, proptests.rs, fixtures.rs and `mod tests` blocks) are skipped.
Prints the graph and exits non-zero on a violation."""
import os
import re
import sys

TEST_FILE = re.compile(r"^(tests.*|proptests|fixtures)\.rs$")


def module_of(path):
    parts = path[len("src/"):].removesuffix(".rs").split("/")
    if parts[0] == "domain" and len(parts) > 1 and parts[1] != "mod":
        return "domain::" + parts[1]
    return parts[0]


def main():
    edges = {}
    for root, _, files in os.walk("src"):
        for name in files:
            if not name.endswith(".rs") or TEST_FILE.match(name):
                continue
            path = os.path.join(root, name)
            source = module_of(path)
            if source in ("lib", "main"):
                continue
            text = re.split(r"#\[cfg\(test\)\]\s*mod tests", open(path).read())[0]
            for top, sub in re.findall(r"crate::(\w+)(?:::(\w+))?", text):
                target = f"domain::{sub}" if top == "domain" and sub else top
                if target != source and not (target == "domain" and source.startswith("domain")):
                    edges.setdefault(source, set()).add(target)
    for node in sorted(edges):
        print(f"{node} -> {', '.join(sorted(edges[node]))}")
    failed = False
    for start in sorted(edges):
        stack, seen = [(start, [start])], set()
        while stack:
            node, path = stack.pop()
            for nxt in sorted(edges.get(node, ())):
                if nxt == start:
                    print("cycle: " + " -> ".join(path + [start]), file=sys.stderr)
                    failed = True
                elif nxt not in seen:
                    seen.add(nxt)
                    stack.append((nxt, path + [nxt]))
    for node, targets in sorted(edges.items()):
        if "api" in targets and node not in ("api", "app", "web"):
            print(f"{node} imports crate::api: only app.rs may (it wires the routes)", file=sys.stderr)
            failed = True
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
