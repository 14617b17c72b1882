#!/usr/bin/env python3
"""Size limits of app code (migrations aside): no file over 400 lines, no function or
method over 60 lines. Run by `make lint` and `make test`; exits 1 naming each offender."""

import ast
import sys
from pathlib import Path

ROOTS = ("billing_site", "ledger", "wallets", "payments")
MAX_FILE_LINES = 400
MAX_FUNCTION_LINES = 60


def offenders(root: Path):
    for package in ROOTS:
        for path in sorted((root / package).rglob("*.py")):
            if "migrations" in path.parts:
                continue
            text = path.read_text()
            lines = text.count("\n") + (not text.endswith("\n") and bool(text))
            rel = path.relative_to(root)
            if lines > MAX_FILE_LINES:
                yield f"{rel}: {lines} lines (at most {MAX_FILE_LINES})"
            for node in ast.walk(ast.parse(text, filename=str(path))):
                if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                    start = min([node.lineno, *(d.lineno for d in node.decorator_list)])
                    length = node.end_lineno - start + 1
                    if length > MAX_FUNCTION_LINES:
                        yield (
                            f"{rel}:{node.lineno}: {node.name}() is {length} lines "
                            f"(at most {MAX_FUNCTION_LINES})"
                        )


def main() -> int:
    found = list(offenders(Path(__file__).resolve().parent.parent))
    for line in found:
        print(line)
    if found:
        print(f"check_sizes: {len(found)} over the limits", file=sys.stderr)
        return 1
    print("check_sizes: every file and function within the limits")
    return 0


if __name__ == "__main__":
    sys.exit(main())
