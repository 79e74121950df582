"""Product code (seedcore/, deploy/, lab/, bench/) never imports the tests."""

import ast
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def imported_modules(path: Path) -> set[str]:
    modules = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            modules.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            modules.add(node.module)
    return modules


def test_product_code_never_imports_tests():
    offenders = [
        f"{path.relative_to(REPO)} imports {module}"
        for package in ("seedcore", "deploy", "lab", "bench")
        for path in sorted((REPO / package).rglob("*.py"))
        # The project's own files: not a virtual environment the bench makes (bench/.venv-rayup).
        if not any(part.startswith(".") for part in path.relative_to(REPO).parts)
        for module in sorted(imported_modules(path))
        if module == "tests" or module.startswith("tests.")
    ]
    assert offenders == []


def test_the_layering_check_sees_an_import_of_tests(tmp_path):
    planted = tmp_path / "planted.py"
    planted.write_text("from tests.e2e import labctl\nimport tests.harness\n")
    assert imported_modules(planted) >= {"tests.e2e", "tests.harness"}
