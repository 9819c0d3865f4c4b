"""One YAML document as plain data plus where every value and key started, so problems get ``file:line:col``.

PyYAML's composer keeps a start mark on every node; ``compose`` turns the node tree into plain data
while recording the mark of every value and every mapping key by field path. The scenario loader uses
it for the scenario file, and again for a z2jh ``values_file`` the scenario points at, so a mistake in
an admin's production values is reported at *that* file's line and column.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import yaml

from harness.scenario.errors import ScenarioProblem, SourceLocation, format_path

Path_ = tuple[str | int, ...]


@dataclass
class MarkedDocument:
    """Plain data of one YAML document plus where each value and key started."""

    file: str
    data: Any = None
    values: dict[Path_, yaml.Mark] = field(default_factory=dict)
    keys: dict[Path_, yaml.Mark] = field(default_factory=dict)
    problems: list[ScenarioProblem] = field(default_factory=list)

    def location(self, path: Path_, *, key: bool = False) -> SourceLocation:
        """Where ``path`` is; the nearest enclosing node when ``path`` itself has no node."""
        marks = self.keys if key else self.values
        probe = tuple(path)
        while probe not in marks and probe:
            probe = probe[:-1]
            marks = self.values
        mark = marks.get(probe)
        if mark is None:
            return SourceLocation(self.file, 1, 1)
        return SourceLocation(self.file, mark.line + 1, mark.column + 1)

    def problem(self, path: Path_, message: str, *, key: bool = False, shown: Path_ | None = None) -> None:
        self.problems.append(
            ScenarioProblem(
                self.location(path, key=key), format_path(path if shown is None else shown), message
            )
        )


def compose(text: str, file: str, *, empty: str | None = "empty file; expected a scenario") -> MarkedDocument:
    """``text`` (shown as ``file``) as a marked document; YAML errors become its problems.

    An empty document is a problem with the message ``empty``, or, with ``empty=None``, data None.
    """
    doc = MarkedDocument(file)
    loader = yaml.SafeLoader(text)
    try:
        root = loader.get_single_node()
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        where = _loc(file, mark) if mark else SourceLocation(file, 1, 1)
        what = exc.problem or exc.context or "cannot parse"
        if exc.context and exc.problem:
            started = exc.context_mark
            what += f" ({exc.context}" + (
                f" started at {started.line + 1}:{started.column + 1})" if started else ")"
            )
        doc.problems.append(ScenarioProblem(where, "", f"invalid YAML: {what}"))
        return doc
    finally:
        loader.dispose()
    if root is None:
        if empty is not None:
            doc.problems.append(ScenarioProblem(SourceLocation(file, 1, 1), "", empty))
        return doc
    doc.data = _to_data(loader, root, (), doc)
    return doc


def _to_data(loader: yaml.SafeLoader, node: yaml.Node, path: Path_, doc: MarkedDocument) -> Any:
    doc.values[path] = node.start_mark
    if isinstance(node, yaml.MappingNode):
        loader.flatten_mapping(node)  # resolve `<<: *anchor` merges the way PyYAML would
        result: dict[Any, Any] = {}
        first_seen: dict[Any, yaml.Mark] = {}
        for key_node, value_node in node.value:
            if not isinstance(key_node, yaml.ScalarNode):
                doc.problems.append(
                    ScenarioProblem(
                        _loc(doc.file, key_node.start_mark), format_path(path), "keys must be scalars"
                    )
                )
                continue
            key = loader.construct_object(key_node)
            if key in first_seen:
                doc.problems.append(
                    ScenarioProblem(
                        _loc(doc.file, key_node.start_mark),
                        format_path(path),
                        f"duplicate key {key!r} (first at line {first_seen[key].line + 1})",
                    )
                )
                continue
            first_seen[key] = key_node.start_mark
            child: Path_ = (*path, key)
            doc.keys[child] = key_node.start_mark
            result[key] = _to_data(loader, value_node, child, doc)
        return result
    if isinstance(node, yaml.SequenceNode):
        return [_to_data(loader, item, (*path, index), doc) for index, item in enumerate(node.value)]
    return loader.construct_object(node, deep=True)


def _loc(file: str, mark: yaml.Mark) -> SourceLocation:
    return SourceLocation(file, mark.line + 1, mark.column + 1)
