"""The house rules, read from the source with ``ast``: dependencies point inward (nothing
below ``api/`` imports ``api``), the domain is pure (only itself and the standard library,
without I/O, the clock or chance), and no module reaches into another module's
underscore names. Tests may look inside what they test, so only the code is checked."""

from __future__ import annotations

import ast
import sys
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CODE = ("domain", "eventstore", "projections", "policies", "service", "api", "bench")
BELOW_API = ("domain", "eventstore", "projections", "policies", "service")
OURS = {*CODE, "migrations", "tests"}
# Standard-library modules the domain must not use: I/O, processes, the wall clock, chance.
IMPURE = {
    "asyncio", "io", "os", "pathlib", "shutil", "tempfile", "glob", "socket", "ssl", "select", "selectors",
    "http", "urllib", "ftplib", "smtplib", "sqlite3", "dbm", "shelve", "pickle", "logging", "subprocess",
    "multiprocessing", "threading", "concurrent", "signal", "time", "random", "secrets", "uuid", "sys",
}


def modules(*packages: str) -> Iterator[tuple[str, ast.Module]]:
    for package in packages:
        for path in sorted((ROOT / package).rglob("*.py")):
            parts = path.relative_to(ROOT).with_suffix("").parts
            name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
            yield name, ast.parse(path.read_text(), str(path))


def is_package(name: str) -> bool:
    return (ROOT / name.replace(".", "/") / "__init__.py").exists()


def is_module(name: str) -> bool:
    return is_package(name) or (ROOT / (name.replace(".", "/") + ".py")).exists()


def imports(name: str, tree: ast.Module) -> Iterator[tuple[int, str, list[ast.alias]]]:
    """(line, imported module, the names taken from it), relative imports resolved."""
    package = name if is_package(name) else name.rpartition(".")[0]
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield node.lineno, alias.name, []
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parts = package.split(".")
                base = ".".join(parts[: len(parts) - node.level + 1] + ([base] if base else []))
            yield node.lineno, base, node.names


def private(name: str) -> bool:
    return name.startswith("_") and not name.startswith("__")


def test_nothing_below_api_imports_api() -> None:
    found = [
        f"{name}:{line} imports {target}"
        for name, tree in modules(*BELOW_API)
        for line, target, _ in imports(name, tree)
        if target.split(".")[0] == "api"
    ]
    assert not found, "a lower layer imports the API:\n" + "\n".join(found)


def test_domain_imports_only_domain_and_pure_standard_library() -> None:
    found = []
    for name, tree in modules("domain"):
        for line, target, _ in imports(name, tree):
            top = target.split(".")[0]
            pure_stdlib = top in sys.stdlib_module_names and top not in IMPURE
            if top not in ("domain", "__future__") and not pure_stdlib:
                found.append(f"{name}:{line} imports {target}")
    assert not found, "the domain imports outside itself or does I/O:\n" + "\n".join(found)


def test_no_module_uses_another_modules_underscore_names() -> None:
    found = []
    for name, tree in modules(*CODE):
        bound: dict[str, str] = {}  # a local name -> the module of ours it stands for
        for line, target, names in imports(name, tree):
            if target.split(".")[0] not in OURS:
                continue
            found += [f"{name}:{line} imports {target}.{a.name}" for a in names if private(a.name)]
            for a in names:
                if is_module(f"{target}.{a.name}"):
                    bound[a.asname or a.name] = f"{target}.{a.name}"
        for node in ast.walk(tree):  # `import a.b as m` binds m to a.b; `import a.b` binds a
            if isinstance(node, ast.Import):
                for a in node.names:
                    top = a.name.split(".")[0]
                    if top in OURS:
                        bound[a.asname or top] = a.name if a.asname else top
        for node in ast.walk(tree):
            if (isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name)
                    and node.value.id in bound and private(node.attr)):
                found.append(f"{name}:{node.lineno} uses {bound[node.value.id]}.{node.attr}")
    assert not found, "a module uses another module's underscore names:\n" + "\n".join(found)
