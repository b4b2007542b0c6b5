"""Load the example operations in mobile_api_docs/operations so tests execute them."""

from pathlib import Path

OPERATIONS_DIR = Path(__file__).resolve().parent.parent / "mobile_api_docs" / "operations"


def operation(name: str) -> str:
    """operation("community/Login") -> the document text."""
    return (OPERATIONS_DIR / f"{name}.graphql").read_text()


def all_operations() -> list[Path]:
    return sorted(OPERATIONS_DIR.rglob("*.graphql"))
