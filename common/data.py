"""Reading the project's data files."""

from __future__ import annotations

__all__ = ["load_yaml"]


def load_yaml(text: str):
    """YAML as Python data through libyaml when PyYAML was built with it (about 10x faster than the pure-Python
    parser: the safety and reader data files took 1.2 s of every start), the same safe subset either way."""
    import yaml

    return yaml.load(text, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))  # noqa: S506 - a safe loader
