"""Structure limits of ``harness/``: no import cycles, no module over 400 lines, no function over 60.

Why: a module that does one job fits on a few screens, and a package whose imports form no cycle can be
read (and replaced) bottom-up.  ``nox -s lint`` runs this; it exits 1 naming every violation as
``path:line: what``.

Imports are read with ``ast``, not executed, and every import counts: module level, inside functions
(lazy imports only hide a cycle) and under ``TYPE_CHECKING`` (a type-only cycle is still two modules
that cannot be understood apart).  ``from pkg import name`` is an edge to ``pkg.name`` when that is a
module, else to ``pkg``.  Importing ``pkg.mod`` is not counted as importing ``pkg/__init__``.

``python tools/check_structure.py --stats`` prints the numbers (modules, largest module, long
functions, cycles) without failing.
"""

from __future__ import annotations

import argparse
import ast
import sys
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

MAX_MODULE_LINES = 400
MAX_FUNCTION_LINES = 60

#: Paths exempt from the size limits, each with the reason.  Empty: every module is held to the limits.
#: An entry is only for a module someone is rewriting right now; it is to be split and its entry removed
#: (this list is meant to stay empty).  An entry that exempts nothing is reported so that it gets removed.
SIZE_ALLOWED: dict[str, str] = {}

#: Import cycles tolerated for now, as the exact set of modules in the cycle, with the reason.  Same
#: rule: empty, and an entry is to be removed again.
CYCLE_ALLOWED: dict[frozenset[str], str] = {}


@dataclass(frozen=True)
class Violation:
    path: str
    line: int
    message: str

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: {self.message}"


@dataclass
class Module:
    name: str
    path: Path
    tree: ast.Module
    lines: int


def load_modules(root: Path, package: str) -> dict[str, Module]:
    """Every ``.py`` file under ``root/package``, by dotted module name."""
    modules: dict[str, Module] = {}
    for path in sorted((root / package).rglob("*.py")):
        rel = path.relative_to(root).with_suffix("")
        parts = list(rel.parts)
        if parts[-1] == "__init__":
            parts.pop()
        text = path.read_text(encoding="utf-8")
        modules[".".join(parts)] = Module(
            ".".join(parts), path, ast.parse(text, str(path)), len(text.splitlines())
        )
    return modules


def _base(module: Module, node: ast.ImportFrom) -> str:
    """The absolute package a (possibly relative) ``from X import`` names."""
    if node.level == 0:
        return node.module or ""
    package = module.name.split(".")
    if module.path.name != "__init__.py":
        package.pop()
    if node.level > 1:
        package = package[: len(package) - (node.level - 1)]
    return ".".join([*package, node.module] if node.module else package)


def imports_of(module: Module, known: Iterable[str]) -> set[str]:
    """Modules of the checked package that ``module`` imports (anywhere in its body)."""
    names = set(known)
    out: set[str] = set()
    for node in ast.walk(module.tree):
        if isinstance(node, ast.Import):
            out.update(a.name for a in node.names if a.name in names)
        elif isinstance(node, ast.ImportFrom):
            base = _base(module, node)
            for alias in node.names:
                sub = f"{base}.{alias.name}"
                if sub in names:
                    out.add(sub)
                elif base in names:
                    out.add(base)
    out.discard(module.name)
    return out


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan), each sorted, in name order."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in sorted(graph.get(v, ())):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return sorted(found)


def functions(tree: ast.Module) -> Iterator[tuple[str, ast.FunctionDef | ast.AsyncFunctionDef]]:
    """Every function and method (nested ones too), with its qualified name."""

    def walk(node: ast.AST, prefix: str) -> Iterator[tuple[str, ast.FunctionDef | ast.AsyncFunctionDef]]:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef)):
                yield prefix + child.name, child
                yield from walk(child, f"{prefix}{child.name}.")
            elif isinstance(child, ast.ClassDef):
                yield from walk(child, f"{prefix}{child.name}.")
            else:
                yield from walk(child, prefix)

    yield from walk(tree, "")


def function_length(node: ast.FunctionDef | ast.AsyncFunctionDef) -> int:
    """Lines from ``def`` to the last line of the body (decorators not counted)."""
    return (node.end_lineno or node.lineno) - node.lineno + 1


def _rel(path: Path, root: Path) -> str:
    return path.relative_to(root).as_posix()


def _allowed(rel: str, allowed: dict[str, str]) -> str | None:
    return next((key for key in allowed if rel == key or (key.endswith("/") and rel.startswith(key))), None)


def check(
    root: Path,
    package: str = "harness",
    allowed: dict[str, str] | None = None,
    allowed_cycles: dict[frozenset[str], str] | None = None,
    notes: list[str] | None = None,
) -> list[Violation]:
    """All violations under ``root/package``, sorted by path and line; stale allow-list entries go to
    ``notes``."""
    allowed = SIZE_ALLOWED if allowed is None else allowed
    allowed_cycles = CYCLE_ALLOWED if allowed_cycles is None else allowed_cycles
    modules = load_modules(root, package)
    out: list[Violation] = []
    used: set[str] = set()
    for module in modules.values():
        rel = _rel(module.path, root)
        sizes: list[Violation] = []
        if module.lines > MAX_MODULE_LINES:
            sizes.append(Violation(rel, 1, f"module has {module.lines} lines (max {MAX_MODULE_LINES})"))
        for qualname, node in functions(module.tree):
            length = function_length(node)
            if length > MAX_FUNCTION_LINES:
                sizes.append(
                    Violation(
                        rel, node.lineno, f"function {qualname} has {length} lines (max {MAX_FUNCTION_LINES})"
                    )
                )
        key = _allowed(rel, allowed)
        if key is not None and sizes:
            used.add(key)
            continue
        out += sizes
    graph = {name: imports_of(module, modules) for name, module in modules.items()}
    found = cycles(graph)
    for component in found:
        if frozenset(component) in allowed_cycles:
            continue
        first = modules[component[0]]
        out.append(Violation(_rel(first.path, root), 1, "import cycle: " + " <-> ".join(component)))
    if notes is not None:
        notes += [
            f"SIZE_ALLOWED entry {key!r} exempts nothing: remove it" for key in sorted(set(allowed) - used)
        ]
        current = {frozenset(c) for c in found}
        notes += [
            f"CYCLE_ALLOWED entry {sorted(key)} is no longer a cycle: remove it"
            for key in allowed_cycles
            if key not in current
        ]
    return sorted(out, key=lambda v: (v.path, v.line, v.message))


def stats(root: Path, package: str = "harness") -> dict[str, object]:
    """The numbers behind the limits, ignoring the allow-list."""
    modules = load_modules(root, package)
    graph = {name: imports_of(module, modules) for name, module in modules.items()}
    largest = max(modules.values(), key=lambda m: m.lines)
    long_functions = sum(
        1
        for module in modules.values()
        for _, node in functions(module.tree)
        if function_length(node) > MAX_FUNCTION_LINES
    )
    return {
        "modules": len(modules),
        "largest_module": f"{_rel(largest.path, root)} ({largest.lines} lines)",
        f"modules_over_{MAX_MODULE_LINES}": sum(1 for m in modules.values() if m.lines > MAX_MODULE_LINES),
        f"functions_over_{MAX_FUNCTION_LINES}": long_functions,
        "cycles": [" <-> ".join(c) for c in cycles(graph)],
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--root", type=Path, default=Path(__file__).resolve().parent.parent)
    parser.add_argument("--stats", action="store_true", help="print the numbers, do not fail")
    args = parser.parse_args(argv)
    if args.stats:
        for key, value in stats(args.root).items():
            if isinstance(value, list):
                print(f"{key}: {len(value)}")
                for item in value:
                    print(f"  {item}")
            else:
                print(f"{key}: {value}")
        return 0
    notes: list[str] = []
    violations = check(args.root, notes=notes)
    for note in notes:
        print(f"note: {note}", file=sys.stderr)
    for v in violations:
        print(v)
    if violations:
        print(f"{len(violations)} structure violation(s); see tools/check_structure.py for the limits")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
