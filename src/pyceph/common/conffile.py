"""ceph.conf parsing with upstream's grammar (Ceph 16.2 `ConfUtils.cc`).

Upstream parses ceph.conf with a Boost.Spirit grammar whose quirks are visible
to users (which lines are errors, where the error is reported, how comments,
quotes, escapes and `\\` continuations behave).  This module re-implements that
grammar, including its skipper and expectation points, so the same files are
accepted, yield the same values, and fail with the same messages, e.g.
``parse error: expected '<eoi>' in line 3 at position 1``.
"""

from __future__ import annotations

import errno

from pyceph.common.errors import CephError
from pyceph.common.options import normalize_key

__all__ = ["ConfParseError", "parse_conf", "read_conf_file", "MAX_CONFIG_FILE_SIZE"]

MAX_CONFIG_FILE_SIZE = 0x40000000

_BLANK = " \t"
_COMMENT_START = "#;"


class ConfParseError(CephError, ValueError):
    """A ceph.conf that does not follow the grammar (errno EINVAL).

    `line`/`column` are 1-based (column counts tabs to the next multiple of 4,
    like Spirit's `get_column`); `expected` is what the grammar wanted there.
    """

    def __init__(self, message: str, line: int = 0, column: int = 0, expected: str = "") -> None:
        super().__init__(errno.EINVAL, message)
        self.line = line
        self.column = column
        self.expected = expected


class _Expectation(Exception):
    def __init__(self, pos: int, what: str) -> None:
        super().__init__(pos, what)
        self.pos = pos
        self.what = what


class _Parser:
    """Recursive-descent mirror of upstream's IniGrammer.

    Rules that upstream declares with a skipper (continuation markers and
    comments) skip them before every token; `_skip` is that skipper.
    """

    def __init__(self, text: str) -> None:
        self.s = text
        self.n = len(text)

    # -- primitives -------------------------------------------------------
    def _eol(self, i: int) -> int:
        """Length of the end-of-line at i (CRLF, CR or LF), 0 if none."""
        s = self.s
        if i < self.n:
            if s[i] == "\r":
                return 2 if i + 1 < self.n and s[i + 1] == "\n" else 1
            if s[i] == "\n":
                return 1
        return 0

    def _skip(self, i: int) -> int:
        s, n = self.s, self.n
        while i < n:
            if s[i] == "\\" and self._eol(i + 1):
                i += 1 + self._eol(i + 1)
                continue
            j = i
            while j < n and s[j] in _BLANK:
                j += 1
            if j < n and s[j] in _COMMENT_START:
                while j < n and not self._eol(j):
                    j += 1
                i = j
                continue
            break
        return i

    def _text_char(self, i: int) -> tuple[str, int] | None:
        s, n = self.s, self.n
        if i >= n:
            return None
        if s[i] == "\\" and i + 1 < n and not self._eol(i + 1):
            return s[i + 1], i + 2
        if s[i] not in _COMMENT_START and not self._eol(i):
            return s[i], i + 1
        return None

    def _blanks(self, i: int) -> int:
        i = self._skip(i)
        while i < self.n and self.s[i] in _BLANK:
            i += 1
        return i

    def _empty_lines(self, i: int) -> int | None:
        """`+empty_line` in a skipping context; None when not even one matches."""
        count = 0
        while True:
            j = self._skip(i)
            while j < self.n and self.s[j] in _BLANK:
                j += 1
            e = self._eol(j)
            if not e:
                break
            i = j + e
            count += 1
        return i if count else None

    def _eols(self, i: int) -> int:
        while True:
            j = self._skip(i)
            e = self._eol(j)
            if not e:
                return i
            i = j + e

    # -- rules --------------------------------------------------------------
    def _key(self, i: int) -> tuple[str, int] | None:
        i = self._skip(i)
        start = i

        def word(i: int) -> int | None:
            count = 0
            while True:
                j = self._skip(i)
                if j < self.n and self.s[j] in "=[ ":
                    break
                tc = self._text_char(j)
                if tc is None:
                    break
                i = tc[1]
                count += 1
            return i if count else None

        end = word(i)
        if end is None:
            return None
        while True:
            j = end
            seps = 0
            while True:
                k = self._skip(j)
                if k < self.n and self.s[k] in _BLANK:
                    j = k + 1
                    seps += 1
                else:
                    break
            if not seps:
                break
            nxt = word(j)
            if nxt is None:
                break
            end = nxt
        return self.s[start:end], end

    def _quoted(self, i: int) -> tuple[str, int] | None:
        i = self._skip(i)
        if i >= self.n or self.s[i] not in "\"'":
            return None
        quote = self.s[i]
        i += 1
        out = []
        while i < self.n and self.s[i] != quote:
            tc = self._text_char(i)
            if tc is None:
                break
            out.append(tc[0])
            i = tc[1]
        if i >= self.n or self.s[i] != quote:
            raise _Expectation(i, f'"{quote}"')
        return "".join(out), i + 1

    def _unquoted(self, i: int) -> tuple[str, int]:
        out = []
        while True:
            j = self._skip(i)
            tc = self._text_char(j)
            if tc is None:
                return "".join(out), j
            out.append(tc[0])
            i = tc[1]

    def _key_val(self, i: int) -> tuple[str, str, int] | None:
        i = self._blanks(i)
        k = self._key(i)
        if k is None:
            return None
        key, i = k
        i = self._blanks(i)
        j = self._skip(i)
        if j >= self.n or self.s[j] != "=":
            return None
        i = self._blanks(j + 1)
        q = self._quoted(i)
        value, i = q if q is not None else self._unquoted(i)
        e = self._empty_lines(i)
        if e is None:
            raise _Expectation(i, "<empty_line>")
        return key, value, e

    def _heading(self, i: int) -> tuple[str, int] | None:
        i = self._skip(i)
        if i >= self.n or self.s[i] != "[":
            return None
        i += 1
        out = []
        while True:
            j = self._skip(i)
            if j < self.n and self.s[j] == "]":
                break
            tc = self._text_char(j)
            if tc is None:
                break
            out.append(tc[0])
            i = tc[1]
        if not out:
            raise _Expectation(i, '<difference><unnamed-rule>"]"')
        j = self._skip(i)
        if j >= self.n or self.s[j] != "]":
            raise _Expectation(j, '"]"')
        e = self._empty_lines(j + 1)
        if e is None:
            raise _Expectation(j + 1, "<empty_line>")
        return "".join(out), e

    def parse(self) -> list[tuple[str, list[tuple[str, str]]]]:
        sections: list[tuple[str, list[tuple[str, str]]]] = []
        kv = self._key_val(0)
        if kv is not None:
            sections.append(("global", [(kv[0], kv[1])]))
            i = kv[2]
        else:
            i = self._eols(0)
            while True:
                h = self._heading(i)
                if h is None:
                    break
                name, i = h
                lines: list[tuple[str, str]] = []
                while self._heading(i) is None:
                    kv = self._key_val(i)
                    if kv is None:
                        break
                    lines.append((kv[0], kv[1]))
                    i = kv[2]
                i = self._eols(i)
                sections.append((name, lines))
        j = self._skip(i)
        if j != self.n:
            raise _Expectation(j, "<eoi>")
        return sections

    def position(self, pos: int) -> tuple[int, int]:
        """1-based (line, column) of `pos`, counting lines and tabs like Spirit."""
        s = self.s
        line = 1
        line_start = 0
        prev = ""
        for i in range(pos):
            c = s[i]
            if (c == "\r" and prev != "\n") or (c == "\n" and prev != "\r"):
                line += 1
            if c in "\r\n":
                line_start = i + 1
            prev = c
        column = 1
        for c in s[line_start:pos]:
            column += 4 - (column - 1) % 4 if c == "\t" else 1
        return line, column


def parse_conf(text: str | bytes) -> dict[str, dict[str, str]]:
    """Parse ceph.conf text into {section: {key: value}}.

    Keys are normalised like upstream (trimmed, whitespace runs -> "_"; dashes
    are kept); values are unquoted, unescaped and trimmed.  A repeated key or
    section merges, the last value winning.  A file that is a single `key = value`
    line without any section puts it in [global], as upstream does.  Raises
    ConfParseError with upstream's message on malformed input.
    """
    if isinstance(text, bytes | bytearray):
        try:
            text = bytes(text).decode("utf-8")
        except UnicodeDecodeError as e:
            line = bytes(text).count(b"\n", 0, e.start) + 1
            raise ConfParseError(
                f"parse error: invalid UTF-8 found at line {line}", line=line
            ) from None
    parser = _Parser(text)
    try:
        raw_sections = parser.parse()
    except _Expectation as e:
        line, column = parser.position(e.pos)
        raise ConfParseError(
            f"parse error: expected '{e.what}' in line {line} at position {column}",
            line=line,
            column=column,
            expected=e.what,
        ) from None
    result: dict[str, dict[str, str]] = {}
    for name, lines in raw_sections:
        section = result.setdefault(name, {})
        for key, value in lines:
            key = normalize_key(key)
            section.pop(key, None)
            section[key] = value.strip()
    return result


def read_conf_file(path: str) -> dict[str, dict[str, str]]:
    """Read and parse one conf file (FileNotFoundError/PermissionError pass through).

    A character device such as /dev/null reads as an empty configuration.
    """
    with open(path, "rb") as f:
        data = f.read(MAX_CONFIG_FILE_SIZE + 1)
    if len(data) > MAX_CONFIG_FILE_SIZE:
        raise ConfParseError(
            f"parse_file: config file '{path}' is {len(data)} bytes, "
            f"but the maximum is {MAX_CONFIG_FILE_SIZE}"
        )
    return parse_conf(data)
