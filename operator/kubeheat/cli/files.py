"""Reading a template, its environments and every file they pull in: the CLI's only file I/O.

Like python-heatclient, :func:`collect_files` walks the loaded template for ``get_file`` with a
literal string argument and for resource types naming a template (``type``/``Type`` ending in
``.yaml`` or ``.template``), and each environment's ``resource_registry`` for provider template
values; it reads them relative to the referencing file and recurses into provider templates
(and into ``get_file``'d files that are templates themselves). Unlike heatclient it never
rewrites references into absolute URLs: the files map is keyed by each reference exactly as
written, which is what the engine's ``get_file`` and provider-template lookups use.

It is deliberately strict: a reference must stay inside the directory tree of the top-level
file that led to it (the template's directory, or the environment file's), so absolute paths,
``..`` escapes and symbolic links leading out are refused, as is every URL (kubeheat never
fetches anything). The same reference text naming two different files is refused as ambiguous.
Nesting is bounded by ``limits.max_nested_depth`` and the total size of everything read by
``max_total_bytes`` (Heat's default ``max_json_body_size``).
"""

from __future__ import annotations

import os
import re
import stat
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path, PureWindowsPath
from typing import Any, NamedTuple

from kubeheat.template import (
    DEFAULT_LIMITS,
    EntryKind,
    Limits,
    PathPart,
    TemplateError,
    is_template_reference,
    load_mapping,
    parse_environment,
)

DEFAULT_MAX_TOTAL_BYTES = 1_048_576
"""Heat's ``max_json_body_size``: the whole create request must fit in it."""

VERSION_KEYS = ("heat_template_version", "HeatTemplateFormatVersion", "AWSTemplateFormatVersion")
_URL = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*://")
_TYPE_KEYS = ("type", "Type")

TemplatePath = tuple[PathPart, ...]


class FileCollectionError(TemplateError):
    """A referenced file is refused, missing or unreadable.

    ``path`` is where the reference sits in the referencing document; the message names the
    reference and the referencing file.
    """


@dataclass
class FileBundle:
    """Everything the template layer needs, read from disk.

    ``template_document`` is the template as loaded (and structure-checked) from
    ``template_text``, so that callers need not parse it again; ``files`` maps each ``get_file``
    / provider template reference, exactly as written, to the file's text.
    """

    template_text: str
    template_document: dict[str, Any]
    environment_texts: list[str] = field(default_factory=list)
    files: dict[str, str] = field(default_factory=dict)


# _Root and _Source are NamedTuples: immutable like frozen dataclasses, and cheaper to create
# at import (every validate and run imports this module).
class _Root(NamedTuple):
    """The directory tree references must stay in: as given, and with symlinks resolved."""

    lexical: Path
    real: Path
    kind: str

    @classmethod
    def of(cls, directory: Path, kind: str) -> _Root:
        lexical = Path(os.path.abspath(directory))
        return cls(lexical, lexical.resolve(), kind)

    def describe(self) -> str:
        return f"the {self.kind} directory {self.lexical}"


class _Source(NamedTuple):
    """A file whose references are being followed."""

    file: Path
    root: _Root
    depth: int


def _absolute(path: Path) -> Path:
    return Path(os.path.abspath(path))


def _is_absolute(reference: str) -> bool:
    return (reference.startswith(("/", "\\")) or os.path.isabs(reference)
            or bool(PureWindowsPath(reference).drive))


def _looks_like_template(text: str) -> bool:
    return any(key in text for key in VERSION_KEYS)


class _Collector:
    """State of one :func:`collect_files` call."""

    def __init__(self, limits: Limits, max_total_bytes: int) -> None:
        self.files: dict[str, str] = {}
        self._limits = limits
        self._budget = max_total_bytes
        self._max_total = max_total_bytes
        self._real_of: dict[str, Path] = {}
        self._scanned: set[tuple[Path, Path]] = set()

    # -- top-level files -------------------------------------------------------------------
    def add_template(self, path: Path, root: Path | None) -> tuple[str, dict[str, Any]]:
        file = _absolute(path)
        text = self._read_top(file, "template")
        doc = load_mapping(text, limits=self._limits, what=f"Template {file}")
        source = _Source(file, _Root.of(root or file.parent, "template"), 0)
        self._scanned.add((file.resolve(), source.root.real))
        self._scan(doc, source)
        return text, doc

    def add_environment(self, path: Path, root: Path | None) -> str:
        file = _absolute(path)
        text = self._read_top(file, "environment")
        env = parse_environment(text, name=str(file), limits=self._limits)
        source = _Source(file, _Root.of(root or file.parent, "environment"), 0)
        for entry in env.resource_registry.entries():
            if entry.kind is EntryKind.TEMPLATE and not is_template_reference(entry.key):
                self._reference(entry.value, source, entry.location, provider=True)
        return text

    def _read_top(self, file: Path, kind: str) -> str:
        try:
            return self._read(file.resolve())
        except _ReadError as exc:
            raise FileCollectionError(f"cannot read {kind} file {file}: {exc}") from None

    # -- references ------------------------------------------------------------------------
    def _scan(self, doc: Any, source: _Source) -> None:
        """Follow every ``get_file`` and provider-template type in ``doc``, in document order."""
        stack: list[tuple[TemplatePath, Any]] = [((), doc)]
        while stack:
            path, node = stack.pop()
            children: list[tuple[TemplatePath, Any]] = []
            if isinstance(node, dict):
                for key, value in node.items():
                    here = (*path, str(key))
                    self._check_item(key, value, here, source)
                    children.append((here, value))
            elif isinstance(node, list):
                children = [((*path, i), item) for i, item in enumerate(node)]
            stack.extend(c for c in reversed(children) if isinstance(c[1], dict | list))

    def _check_item(self, key: Any, value: Any, where: TemplatePath, source: _Source) -> None:
        if not isinstance(value, str):
            return
        if key == "get_file":
            self._reference(value, source, where, provider=False)
        elif key in _TYPE_KEYS and is_template_reference(value):
            self._reference(value, source, where, provider=True)

    def _reference(self, ref: str, source: _Source, where: TemplatePath, *,
                   provider: bool) -> None:
        lexical, real = self._locate(ref, source, where)
        known = self._real_of.get(ref)
        if known is not None and known != real:
            raise self._refuse(ref, source, where,
                               f"ambiguous: the same name already refers to {known}, and the "
                               "files map is keyed by the name as written; rename one of them")
        if known is None:
            try:
                self.files[ref] = self._read(real)
            except _ReadError as exc:
                raise FileCollectionError(
                    f'cannot read "{ref}" in {source.file}: {exc}', where) from None
            self._real_of[ref] = real
        nested = _Source(lexical, source.root, source.depth + 1)
        self._follow(ref, self.files[ref], source, nested, real, where, provider)

    def _locate(self, ref: str, source: _Source, where: TemplatePath) -> tuple[Path, Path]:
        """Where ``ref`` points, as written and with symlinks resolved; refuse escapes."""
        root = source.root
        if _URL.match(ref):
            raise self._refuse(ref, source, where,
                               "kubeheat never fetches URLs; save the file inside "
                               f"{root.describe()} and reference it by a relative path")
        if not ref.strip():
            raise self._refuse(ref, source, where, "the file name is empty")
        if _is_absolute(ref):
            raise self._refuse(ref, source, where, "absolute paths are not allowed; use a "
                               f"path relative to the referencing file inside {root.describe()}")
        lexical = Path(os.path.normpath(source.file.parent / ref))
        if not lexical.is_relative_to(root.lexical):
            raise self._refuse(ref, source, where, f"outside {root.describe()}")
        real = lexical.resolve()
        if not real.is_relative_to(root.real):
            raise self._refuse(ref, source, where, f"it leads through a symbolic link to "
                               f"{real}, outside {root.describe()}")
        return lexical, real

    def _follow(self, ref: str, text: str, source: _Source, nested: _Source, real: Path,
                where: TemplatePath, provider: bool) -> None:
        """Recurse into a provider template, or a ``get_file``'d file that is a template."""
        if (real, nested.root.real) in self._scanned:
            return
        if not provider and not _looks_like_template(text):
            return
        try:
            doc = load_mapping(text, limits=self._limits, what=f'Template "{ref}"')
        except TemplateError as exc:
            if not provider:
                return
            raise FileCollectionError(
                f'provider template "{ref}" in {source.file}: {exc}', where) from None
        if not provider and not any(key in doc for key in VERSION_KEYS):
            return
        if nested.depth > self._limits.max_nested_depth:
            raise FileCollectionError(
                f'"{ref}" in {source.file}: templates nest more than '
                f"{self._limits.max_nested_depth} levels deep", where)
        self._scanned.add((real, nested.root.real))
        self._scan(doc, nested)

    def _refuse(self, ref: str, source: _Source, where: TemplatePath,
                reason: str) -> FileCollectionError:
        return FileCollectionError(f'refusing "{ref}" in {source.file}: {reason}', where)

    # -- reading ---------------------------------------------------------------------------
    def _read(self, real: Path) -> str:
        """Read a regular file as UTF-8 within the remaining size budget."""
        flags = (os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0)
                 | getattr(os, "O_CLOEXEC", 0))
        try:
            fd = os.open(real, flags)
        except FileNotFoundError:
            raise _ReadError(f"no such file {real}") from None
        except OSError as exc:
            raise _ReadError(f"{real}: {exc.strerror}") from None
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            os.close(fd)
            raise _ReadError(f"{real} is not a regular file")
        with os.fdopen(fd, "rb") as handle:
            data = handle.read(self._budget + 1)
        if len(data) > self._budget:
            raise _ReadError(f"the template and its files exceed {self._max_total} bytes in "
                             "total")
        self._budget -= len(data)
        try:
            return data.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise _ReadError(f"{real} is not UTF-8 text ({exc.reason} at byte "
                             f"{exc.start})") from None


class _ReadError(Exception):
    """Internal: why a file could not be read; wrapped with its context by the caller."""


def collect_files(template_path: Path, environment_paths: Sequence[Path] = (), *,
                  root: Path | None = None, limits: Limits = DEFAULT_LIMITS,
                  max_total_bytes: int = DEFAULT_MAX_TOTAL_BYTES) -> FileBundle:
    """Read ``template_path``, the environments, and every file they reference.

    References resolve relative to the file that contains them and must stay inside ``root``
    when given, else inside the directory of the top-level template (for the template's
    references) or of each environment file (for that environment's). Raises
    :class:`FileCollectionError` (or a template/environment parsing error) on the first problem.
    """
    collector = _Collector(limits, max_total_bytes)
    template_text, document = collector.add_template(Path(template_path), root)
    environment_texts = [collector.add_environment(Path(p), root) for p in environment_paths]
    return FileBundle(template_text, document, environment_texts, collector.files)


__all__ = ["DEFAULT_MAX_TOTAL_BYTES", "FileBundle", "FileCollectionError", "collect_files"]
