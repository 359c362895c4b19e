"""Reading a template, its environments and every file they pull in, as python-heatclient does.

The template and each environment file become ``file://`` URLs (their real paths, symbolic
links resolved; a ``file://`` or ``http(s)://`` URL argument is taken as it is). In the
template, every ``get_file`` with a string argument and every ``type`` (or CloudFormation
``Type``) ending in ``.yaml`` or ``.template`` is a reference; in an
environment's ``resource_registry`` (its top level and each ``resources.<name>`` mapping) every
string value without ``::`` is one, resolved against the registry's ``base_url`` when it gives
one. A reference is joined to the URL of the file that contains it, so relative paths (``..``
included), absolute paths, ``file://`` and ``http(s)://`` URLs all work; the file is read once,
and the reference is rewritten to that URL, which also keys the file in the files map. A file
that is a template itself (it parses and has a version key) is followed the same way, and its
files-map text is then the JSON of the rewritten template, as heatclient sends it. A file that
is not UTF-8 is sent base64-encoded (heatclient does the same).

Bounds heatclient does not have: everything read together (the template included) must fit in
``max_total_bytes`` (Heat's default ``max_json_body_size``), templates nest at most
``limits.max_nested_depth`` levels, a download must end within ``timeout`` seconds, and only
regular files and ``file``/``http``/``https`` URLs are read (see :mod:`kubeheat.cli.fetch`).
This is the CLI's only template file I/O: the operator reads only the Stack's files map.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any, NamedTuple
from urllib.parse import urljoin, urlsplit

from kubeheat.cli.fetch import (
    DEFAULT_FETCH_TIMEOUT,
    DEFAULT_MAX_TOTAL_BYTES,
    READ_SCHEMES,
    Fetcher,
    FetchError,
    describe,
)
from kubeheat.template import (
    DEFAULT_LIMITS,
    Limits,
    PathPart,
    TemplateError,
    load_mapping,
    parse_environment,
)

VERSION_KEYS = ("heat_template_version", "HeatTemplateFormatVersion", "AWSTemplateFormatVersion")
TEMPLATE_SUFFIXES = (".yaml", ".template")
_TYPE_KEYS = ("type", "Type")
_BASE_URL = "base_url"
_NOT_FILES = (_BASE_URL, "hooks", "restricted_actions")

TemplatePath = tuple[PathPart, ...]


class FileCollectionError(TemplateError):
    """A referenced file is missing, unreadable or too big.

    ``path`` is where the reference sits in the referencing document; the message names the
    reference, the referencing file and why it could not be read.
    """


@dataclass
class FileBundle:
    """Everything the template layer needs, read from disk (or the web).

    ``template_document`` is the template as loaded (and structure-checked) from
    ``template_text``, with its references rewritten to URLs; ``environment_texts`` are the
    environment files (as JSON when a registry reference was rewritten); ``files`` maps each
    URL to the file's text.
    """

    template_text: str
    template_document: dict[str, Any]
    environment_texts: list[str] = field(default_factory=list)
    files: dict[str, str] = field(default_factory=dict)


class _Source(NamedTuple):
    """A document whose references are being followed: its URL, how deep it is nested and
    the URL its references are relative to."""

    url: str
    depth: int
    base: str


def file_url(path: Path | str) -> str:
    """The URL of a template or environment argument: a URL as it is, a path as the
    ``file://`` URL of its real path, symbolic links resolved (heatclient's rule)."""
    if isinstance(path, str) and urlsplit(path).scheme.lower() in READ_SCHEMES:
        return path
    return Path(path).resolve().as_uri()


def source_stem(source: Path | str) -> str:
    """The file name of a template argument without its suffix (the default stack name)."""
    name = PurePosixPath(urlsplit(source).path) if isinstance(source, str) else Path(source)
    return name.stem


def base_url_of(url: str) -> str:
    """The directory URL references in the document at ``url`` are relative to."""
    directory = urlsplit(url).path.rsplit("/", 1)[0]
    return urljoin(url, directory + "/")


def _with_slash(url: str) -> str:
    return url if url.endswith("/") else url + "/"


class _Collector:
    """State of one :func:`collect_files` call."""

    def __init__(self, limits: Limits, fetcher: Fetcher) -> None:
        self.files: dict[str, str] = {}
        self._limits = limits
        self._fetcher = fetcher
        #: templates being followed (a reference back to one is only rewritten)
        self._pending: dict[str, dict[str, Any]] = {}
        #: every URL a reference named (the top template's own is kept only when named)
        self._referred: set[str] = set()

    # -- top-level files -------------------------------------------------------------------
    def add_template(self, path: Path | str) -> tuple[str, dict[str, Any]]:
        url = file_url(path)
        text = self._read_top(url, path, "template")
        doc = load_mapping(text, limits=self._limits, what=f"Template {path}")
        self._follow_template(doc, url, 0)
        return text, doc

    def add_environment(self, path: Path | str) -> str:
        url = file_url(path)
        text = self._read_top(url, path, "environment")
        try:
            doc = load_mapping(text, limits=self._limits, what=f"Environment {path}")
        except TemplateError:
            doc = None
        registry = doc.get("resource_registry") if isinstance(doc, dict) else None
        if (
            isinstance(doc, dict)
            and isinstance(registry, dict)
            and self._registry(registry, _Source(url, 0, base_url_of(url)), path)
        ):
            text = json.dumps(doc)
        # the environment's own errors, naming the file
        parse_environment(text, name=str(path), limits=self._limits)
        return text

    def _read_top(self, url: str, path: Path | str, kind: str) -> str:
        try:
            data = self._fetcher.read(url)
        except FetchError as exc:
            raise FileCollectionError(f"cannot read {kind} file {path}: {exc}") from None
        try:
            return data.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise FileCollectionError(
                f"cannot read {kind} file {path}: {describe(url)} is not UTF-8 text "
                f"({exc.reason} at byte {exc.start})"
            ) from None

    # -- templates -------------------------------------------------------------------------
    def _follow_template(self, doc: dict[str, Any], url: str, depth: int) -> None:
        """Rewrite every reference of ``doc`` (the template at ``url``) to its URL, reading
        each file; then, if ``doc`` was referred to on the way, record its JSON text."""
        self._pending[url] = doc
        try:
            self._scan(doc, _Source(url, depth, base_url_of(url)))
        finally:
            del self._pending[url]
        if url in self._referred:
            self.files[url] = json.dumps(doc)

    def _scan(self, doc: dict[str, Any], source: _Source) -> None:
        """Follow every ``get_file`` and template ``type`` of ``doc``, in document order."""
        stack: list[tuple[TemplatePath, Any]] = [((), doc)]
        while stack:
            path, node = stack.pop()
            children: list[tuple[TemplatePath, Any]] = []
            if isinstance(node, dict):
                for key, value in node.items():
                    here = (*path, str(key))
                    if isinstance(value, str) and (
                        key == "get_file"
                        or (key in _TYPE_KEYS and value.endswith(TEMPLATE_SUFFIXES))
                    ):
                        node[key] = self._reference(value, source, here, provider=key != "get_file")
                    children.append((here, value))
            elif isinstance(node, list):
                children = [((*path, i), item) for i, item in enumerate(node)]
            stack.extend(c for c in reversed(children) if isinstance(c[1], dict | list))

    # -- environments ----------------------------------------------------------------------
    def _registry(self, registry: dict[str, Any], source: _Source, path: Path | str) -> bool:
        """Rewrite the file references of an environment's ``resource_registry`` (its top
        level and each ``resources.<name>``); ``base_url`` is applied and removed. Returns
        whether anything changed."""
        where: TemplatePath = ("resource_registry",)
        base = self._base_url(registry, source.base, source, path, where)
        changed = self._registry_level(registry, source._replace(base=base), where)
        resources = registry.get("resources")
        if isinstance(resources, dict):
            for name, overrides in resources.items():
                if isinstance(overrides, dict):
                    here = (*where, "resources", str(name))
                    own = self._base_url(overrides, base, source, path, here)
                    changed |= self._registry_level(overrides, source._replace(base=own), here)
        return changed

    def _base_url(
        self,
        mapping: dict[str, Any],
        default: str,
        source: _Source,
        path: Path | str,
        where: TemplatePath,
    ) -> str:
        if _BASE_URL not in mapping:
            return default
        value = mapping.pop(_BASE_URL)
        if not isinstance(value, str) or not value.strip():
            raise FileCollectionError(
                f"{path}: base_url must be a URL or a directory, not {value!r}", (*where, _BASE_URL)
            )
        # not a URL: a directory, relative to the environment file's
        return _with_slash(urljoin(source.base, value))

    def _registry_level(
        self, mapping: dict[str, Any], source: _Source, where: TemplatePath
    ) -> bool:
        changed = False
        for key, value in mapping.items():
            if key in _NOT_FILES or not isinstance(value, str) or "::" in value:
                continue
            mapping[key] = self._reference(value, source, (*where, str(key)), provider=True)
            changed = True
        return changed

    # -- references ------------------------------------------------------------------------
    def _reference(self, ref: str, source: _Source, where: TemplatePath, *, provider: bool) -> str:
        """Read what ``ref`` (in ``source``) names, once; return its URL."""
        origin = describe(source.url)
        if not ref.strip():
            raise FileCollectionError(
                f'cannot read "{ref}" in {origin}: the file name is empty', where
            )
        url = urljoin(_with_slash(source.base), ref)
        self._referred.add(url)
        if url in self.files or url in self._pending:
            return url
        try:
            data = self._fetcher.read(url)
        except FetchError as exc:
            raise FileCollectionError(f'cannot read "{ref}" in {origin}: {exc}', where) from None
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError:
            self.files[url] = base64.encodebytes(data).decode("ascii")
            return url
        doc = self._as_template(text, ref, origin, where, provider=provider)
        if doc is None:
            self.files[url] = text
            return url
        if source.depth + 1 > self._limits.max_nested_depth:
            raise FileCollectionError(
                f'"{ref}" in {origin}: templates nest more than '
                f"{self._limits.max_nested_depth} levels deep",
                where,
            )
        self._follow_template(doc, url, source.depth + 1)
        return url

    def _as_template(
        self, text: str, ref: str, origin: str, where: TemplatePath, *, provider: bool
    ) -> dict[str, Any] | None:
        """``text`` loaded when it is a template (it parses and has a version key), else
        None; a provider template that has a version key but does not parse is an error."""
        if not any(key in text for key in VERSION_KEYS):
            return None
        try:
            doc = load_mapping(text, limits=self._limits, what=f'Template "{ref}"')
        except TemplateError as exc:
            if not provider:
                return None
            raise FileCollectionError(
                f'provider template "{ref}" in {origin}: {exc}', where
            ) from None
        return doc if any(key in doc for key in VERSION_KEYS) else None


def collect_files(
    template_path: Path | str,
    environment_paths: Sequence[Path | str] = (),
    *,
    limits: Limits = DEFAULT_LIMITS,
    max_total_bytes: int = DEFAULT_MAX_TOTAL_BYTES,
    timeout: float = DEFAULT_FETCH_TIMEOUT,
) -> FileBundle:
    """Read ``template_path``, the environments, and every file they reference (see the
    module). Raises :class:`FileCollectionError` (or a template/environment parsing error)
    on the first problem."""
    collector = _Collector(limits, Fetcher(max_total_bytes, timeout))
    template_text, document = collector.add_template(template_path)
    environment_texts = [collector.add_environment(p) for p in environment_paths]
    return FileBundle(template_text, document, environment_texts, collector.files)


__all__ = [
    "DEFAULT_FETCH_TIMEOUT",
    "DEFAULT_MAX_TOTAL_BYTES",
    "FileBundle",
    "FileCollectionError",
    "base_url_of",
    "collect_files",
    "file_url",
    "source_stem",
]
