"""Reading one ``file://``, ``http://`` or ``https://`` URL for the CLI, within bounds.

python-heatclient opens every template, environment and referenced file with ``urlopen``: a
local path becomes a ``file://`` URL, and a reference that resolves to an ``http(s)`` URL is
downloaded, with neither a timeout nor a size limit. :class:`Fetcher` reads the same URLs, but
every byte counts against one budget shared by everything a command reads (Heat's request
body limit), a download must finish within ``timeout`` seconds, only regular files are opened
(never a FIFO, a device or a directory) and no other URL scheme is read.
"""

from __future__ import annotations

import os
import stat
import time
import urllib.error
import urllib.request
from http.client import HTTPException
from urllib.parse import unquote, urlsplit

DEFAULT_MAX_TOTAL_BYTES = 1_048_576
"""Heat's ``max_json_body_size``: the whole create request must fit in it."""

DEFAULT_FETCH_TIMEOUT = 30.0
"""Seconds an ``http(s)`` download may take, from connecting to the last byte."""

READ_SCHEMES = ("file", "http", "https")
_CHUNK = 65_536


class FetchError(Exception):
    """Why a URL could not be read (its text names the file or URL)."""


def local_path(url: str) -> str | None:
    """The local file a ``file://`` URL names, or None for any other URL."""
    parts = urlsplit(url)
    if parts.scheme.lower() != "file" or parts.netloc not in ("", "localhost"):
        return None
    return unquote(parts.path)


def describe(url: str) -> str:
    """How messages name ``url``: a local file by its path, anything else by its URL."""
    return local_path(url) or url


class Fetcher:
    """Reads URLs for one command, all of them within ``max_total_bytes`` together."""

    def __init__(
        self, max_total_bytes: int = DEFAULT_MAX_TOTAL_BYTES, timeout: float = DEFAULT_FETCH_TIMEOUT
    ) -> None:
        self.max_total = max_total_bytes
        self.budget = max_total_bytes
        self.timeout = timeout

    def read(self, url: str) -> bytes:
        """The bytes at ``url``; raises :class:`FetchError`."""
        scheme = urlsplit(url).scheme.lower()
        if scheme == "file":
            path = local_path(url)
            if path is None:
                raise FetchError(f"{url}: only local file:// URLs can be read")
            data = self._read_file(path)
        elif scheme in ("http", "https"):
            data = self._download(url)
        elif not scheme:
            raise FetchError(f'"{url}" is not a URL (no file://, http:// or https://)')
        else:
            raise FetchError(
                f'{url}: the URL scheme "{scheme}" is not supported; kubeheat '
                "reads only file://, http:// and https:// URLs"
            )
        self.budget -= len(data)
        return data

    def _over(self) -> FetchError:
        return FetchError(f"the template and its files exceed {self.max_total} bytes in total")

    def _read_file(self, path: str) -> bytes:
        flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0)
        try:
            fd = os.open(path, flags)
        except FileNotFoundError:
            raise FetchError(f"no such file {path}") from None
        except OSError as exc:
            raise FetchError(f"{path}: {exc.strerror}") from None
        try:
            if not stat.S_ISREG(os.fstat(fd).st_mode):
                raise FetchError(f"{path} is not a regular file")
            with os.fdopen(fd, "rb") as handle:
                fd = -1
                data = handle.read(self.budget + 1)
        finally:
            if fd >= 0:
                os.close(fd)
        if len(data) > self.budget:
            raise self._over()
        return data

    def _download(self, url: str) -> bytes:
        # read1: one receive per call, so the deadline is checked between receives
        deadline = time.monotonic() + self.timeout
        request = urllib.request.Request(url, headers={"User-Agent": "kubeheat"})
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:
                length = response.headers.get("Content-Length")
                if length is not None and length.isdigit() and int(length) > self.budget:
                    raise self._over()
                chunks: list[bytes] = []
                size = 0
                while size <= self.budget:
                    if time.monotonic() > deadline:
                        raise TimeoutError
                    chunk = response.read1(min(_CHUNK, self.budget + 1 - size))
                    if not chunk:
                        break
                    chunks.append(chunk)
                    size += len(chunk)
        except urllib.error.HTTPError as exc:
            raise FetchError(f"could not fetch {url}: HTTP {exc.code} {exc.reason}") from None
        except urllib.error.URLError as exc:
            if isinstance(exc.reason, TimeoutError):
                raise self._timed_out(url) from None
            raise FetchError(f"could not fetch {url}: {exc.reason}") from None
        except TimeoutError:
            raise self._timed_out(url) from None
        except (OSError, HTTPException, ValueError) as exc:
            raise FetchError(f"could not fetch {url}: {exc}") from None
        if size > self.budget:
            raise self._over()
        return b"".join(chunks)

    def _timed_out(self, url: str) -> FetchError:
        return FetchError(f"could not fetch {url}: timed out after {self.timeout:g} seconds")


__all__ = [
    "DEFAULT_FETCH_TIMEOUT",
    "DEFAULT_MAX_TOTAL_BYTES",
    "READ_SCHEMES",
    "FetchError",
    "Fetcher",
    "describe",
    "local_path",
]
