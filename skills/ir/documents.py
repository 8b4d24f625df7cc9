"""Read a skill document (YAML or JSON, `skill-ir.md`) into plain JSON values, bounded whatever
the bytes (ARCHITECTURE.md, "Bounded by construction").

A document is at most 1 MB, 32 levels deep and 20,000 values, and the documents of one import
share a budget of bytes and values (what their parsed values take in memory). The bounds are
checked while the document is composed, not after, so nothing walks a document before it is
known to be small. YAML anchors and aliases are refused: a 600-byte chain of aliases is a
gigabyte once anything walks it, and a skill has no use for them. YAML is read as JSON's types:
timestamps stay the text they were written as, and binary, set and ordered-map values are
refused.
"""

import json
import re
from dataclasses import dataclass
from typing import Any

import yaml
from yaml.composer import Composer
from yaml.constructor import ConstructorError, SafeConstructor
from yaml.events import AliasEvent
from yaml.parser import Parser
from yaml.reader import Reader
from yaml.resolver import Resolver
from yaml.scanner import Scanner

MAX_DOCUMENT_BYTES = 1024 * 1024
MAX_DEPTH = 32
MAX_VALUES = 20_000
JSON_TYPES = "text, numbers, true/false, null, lists and mappings"
# Outside a string, a JSON document nests only with brackets: these tokens are all a depth check
# has to look at. A string is matched whole (brackets inside it do not count), possessively and
# with its closing quote optional, so that no input makes the scan start over inside a string.
_JSON_NESTING = re.compile(r'[\[\]{}]|"(?:[^"\\]++|\\.)*+"?', re.DOTALL)


class DocumentError(ValueError):
    """A document refused while it is read; the message says why and, for YAML, the line."""


class InvalidSyntax(DocumentError):
    """Not YAML or JSON at all (as opposed to well-formed but over a bound)."""


class BudgetExceeded(Exception):
    """The documents of one import together are over the import's budget: the import is too big
    as a whole, not one of its skills."""


@dataclass
class ReadBudget:
    """What the skill documents of one import may still take: bytes (reading time, text in
    memory) and values (the objects they become). The caller sets the import's limits (the
    settings are read by `skills.ir.importers.import_budget`, so that this module and the pure
    ones that parse with it import without Django)."""

    bytes: int
    values: int

    def __post_init__(self) -> None:
        self.max_bytes, self.max_values = self.bytes, self.values

    def take_bytes(self, size: int) -> None:
        self.bytes -= size
        if self.bytes < 0:
            raise BudgetExceeded(
                "its skill documents are more than "
                f"{_size(self.max_bytes)} together; import them in batches"
            )

    def take_values(self, count: int) -> None:
        self.values -= count
        if self.values < 0:
            raise BudgetExceeded(
                f"its skill documents hold more than {self.max_values:,} "
                "values together; import them in batches"
            )


def _size(size: int) -> str:
    megabytes = f"{size / (1024 * 1024):.1f} MB"
    # Just over the bound, "1.0 MB" would read as within it: give the bytes instead.
    return f"{size:,} bytes" if megabytes in ("1.0 MB", "0.0 MB") else megabytes


def document_size_problem(name: str, size: int) -> str | None:
    """`name is 100.0 MB; …` when a document of `size` bytes is over the bound, else None."""
    if size <= MAX_DOCUMENT_BYTES:
        return None
    return f"{name} is {_size(size)}; a skill document may be at most 1 MB"


def _line(mark, offset: int) -> str:
    return f"line {mark.line + 1 + offset}"


class _BoundedComposer(Composer):
    """Composes nodes as PyYAML does, refusing anchors and aliases and counting depth and values
    as each node starts, so that a bomb stops at its first anchor and a flood at its bound."""

    line_offset = 0
    budget: ReadBudget | None = None

    def __init__(self):
        Composer.__init__(self)
        self._values = 0
        self._depth = 0

    def compose_node(self, parent, index):
        event = self.peek_event()
        if event.anchor is not None:
            sign = "*" if isinstance(event, AliasEvent) else "&"
            raise DocumentError(
                f"{_line(event.start_mark, self.line_offset)}: YAML anchors and aliases "
                f"({sign}{event.anchor}) are not accepted in a skill document; write the value out"
            )
        self._values += 1
        if self._values > MAX_VALUES:
            raise DocumentError(
                f"{_line(event.start_mark, self.line_offset)}: more than {MAX_VALUES:,} values; "
                f"a skill document may hold at most {MAX_VALUES:,}"
            )
        if self.budget is not None:
            self.budget.take_values(1)
        self._depth += 1
        try:
            if self._depth > MAX_DEPTH:
                raise DocumentError(
                    f"{_line(event.start_mark, self.line_offset)}: nested deeper than "
                    f"{MAX_DEPTH} levels"
                )
            return super().compose_node(parent, index)
        finally:
            self._depth -= 1


class _JSONTypesConstructor(SafeConstructor):
    """SafeConstructor limited to JSON's types: what a skill holds and a JSON column stores."""

    def construct_text(self, node):
        # `date: 2026-01-31` means the text: a date object would be neither valid IR nor JSON.
        return self.construct_scalar(node)

    def construct_yaml_int(self, node):
        try:
            return super().construct_yaml_int(node)
        except ValueError as exc:  # e.g. more digits than Python converts
            raise ConstructorError(None, None, str(exc), node.start_mark) from None

    def refuse(self, node):
        tag = node.tag.rsplit(":", 1)[-1]
        raise DocumentError(
            f"{_line(node.start_mark, self.line_offset)}: !!{tag} values are not "
            f"accepted; a skill document holds {JSON_TYPES}"
        )


_JSONTypesConstructor.add_constructor(
    "tag:yaml.org,2002:timestamp", _JSONTypesConstructor.construct_text
)
_JSONTypesConstructor.add_constructor(
    "tag:yaml.org,2002:int", _JSONTypesConstructor.construct_yaml_int
)
for _tag in ("binary", "set", "omap", "pairs"):
    _JSONTypesConstructor.add_constructor(f"tag:yaml.org,2002:{_tag}", _JSONTypesConstructor.refuse)


class PythonLoader(Reader, Scanner, Parser, _BoundedComposer, _JSONTypesConstructor, Resolver):
    """The pure-Python parser (PyYAML without libyaml)."""

    def __init__(self, stream):
        Reader.__init__(self, stream)
        Scanner.__init__(self)
        Parser.__init__(self)
        _BoundedComposer.__init__(self)
        _JSONTypesConstructor.__init__(self)
        Resolver.__init__(self)


if yaml.__with_libyaml__:
    from yaml._yaml import CParser

    class CLoader(_BoundedComposer, CParser, _JSONTypesConstructor, Resolver):
        """libyaml's parser (ten times faster) under the same Python composer: the composer is
        listed first so that its bounds, not libyaml's own composer, build the nodes."""

        def __init__(self, stream):
            CParser.__init__(self, stream)
            _BoundedComposer.__init__(self)
            _JSONTypesConstructor.__init__(self)
            Resolver.__init__(self)

    Loader = CLoader
else:  # pragma: no cover - libyaml is in the wheels we install
    Loader = PythonLoader


def load_yaml(text: str, *, budget: ReadBudget | None = None, line_offset: int = 0) -> Any:
    """The YAML document in `text` as JSON values; DocumentError (InvalidSyntax when it is not
    YAML) says why it cannot be read. `line_offset` is where `text` starts in its file."""
    reader = Loader(text)
    reader.line_offset, reader.budget = line_offset, budget
    try:
        return reader.get_single_data()
    except yaml.YAMLError as exc:
        mark, problem = getattr(exc, "problem_mark", None), getattr(exc, "problem", None) or ""
        if mark is None:
            raise InvalidSyntax("not valid YAML") from None
        if "nesting depth" in problem:
            # libyaml's own bound (1,000 levels), met while it looks ahead past ours.
            raise DocumentError(
                f"{_line(mark, line_offset)}: nested deeper than {MAX_DEPTH} levels"
            ) from None
        detail = f": {problem}" if problem else ""
        raise InvalidSyntax(f"not valid YAML ({_line(mark, line_offset)}{detail})") from None
    finally:
        reader.dispose()


def _json_depth_problem(text: str) -> str | None:
    depth = 0
    for token in _JSON_NESTING.finditer(text):
        bracket = token.group()
        if bracket in "[{":
            depth += 1
            if depth > MAX_DEPTH:
                line = text.count("\n", 0, token.start()) + 1
                return f"line {line}: nested deeper than {MAX_DEPTH} levels"
        elif bracket in "]}":
            depth -= 1
    return None


def _json_values(value: Any, limit: int) -> int:
    """How many values `value` holds, counting no further than `limit + 1`."""
    count, pending = 0, [value]
    while pending and count <= limit:
        item = pending.pop()
        count += 1
        if isinstance(item, dict):
            pending.extend(item.keys())
            pending.extend(item.values())
        elif isinstance(item, list):
            pending.extend(item)
    return count


def load_json(text: str, *, budget: ReadBudget | None = None) -> Any:
    """The JSON document in `text`, under the same bounds as YAML. The depth is checked before
    the standard parser runs, as that parser recurses once per level."""
    if problem := _json_depth_problem(text):
        raise DocumentError(problem)
    try:
        value = json.loads(text)
    except json.JSONDecodeError as exc:
        raise InvalidSyntax(f"not valid JSON (line {exc.lineno})") from None
    except ValueError as exc:  # e.g. an integer of more digits than Python converts
        raise InvalidSyntax(f"not valid JSON ({exc})") from None
    count = _json_values(value, MAX_VALUES)
    if count > MAX_VALUES:
        raise DocumentError(
            f"more than {MAX_VALUES:,} values; a skill document may hold at most {MAX_VALUES:,}"
        )
    if budget is not None:
        budget.take_values(count)
    return value
