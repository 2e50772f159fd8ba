"""ceph.conf grammar: results and error messages as upstream's ConfUtils (checked with ceph-conf 16.2.15)."""

from __future__ import annotations

import errno

import pytest

from pyceph.common.conffile import ConfParseError, parse_conf


def test_basic_sections_and_spaces():
    text = "[global]\n  mon   host\t=   1.2.3.4   \n[client.admin]\nkeyring = /k\n"
    assert parse_conf(text) == {
        "global": {"mon_host": "1.2.3.4"},
        "client.admin": {"keyring": "/k"},
    }


@pytest.mark.parametrize(
    "body, expected",
    [
        ("foo = bar # c\n", "bar"),
        ("foo = bar ; c\n", "bar"),
        ('foo = "  a b  "\n', "a b"),
        ("foo = 'x y'\n", "x y"),
        ("foo = a\\#b\n", "a#b"),
        ('foo = "a\\"b"\n', 'a"b'),
        ("foo = a\\\\b\n", "a\\b"),
        ("foo = abc \\\n   def\n", "abc    def"),
        ("foo = a=b\n", "a=b"),
        ("foo = [a]\n", "[a]"),
        ("foo =\n", ""),
        ('foo = ""\n', ""),
        ('foo = "x"   \n', "x"),
        ("foo = 1\r\n", "1"),
    ],
)
def test_values(body, expected):
    assert parse_conf("[global]\n" + body)["global"]["foo"] == expected


def test_comments_blank_lines_and_trailing_comment_line():
    text = "# hello\n; hi\n\n[global]\n# c\nfoo = 1\n\n\n[client] ; x\n\nbar = 2\n# end"
    assert parse_conf(text) == {"global": {"foo": "1"}, "client": {"bar": "2"}}


def test_duplicates_last_wins_and_sections_merge():
    text = "[global]\nfoo = 1\nfoo = 2\n[client]\na = 1\n[global]\nbar = 3\nfoo = 4\n"
    assert parse_conf(text) == {"global": {"foo": "4", "bar": "3"}, "client": {"a": "1"}}


def test_key_normalisation_keeps_dashes():
    # upstream only folds whitespace; "mon-host" stays a different key in ceph.conf
    conf = parse_conf("[global]\nmon-host = a\n  a  b   c  = x\n")
    assert conf["global"] == {"mon-host": "a", "a_b_c": "x"}


def test_single_sectionless_line_goes_to_global():
    assert parse_conf("foo = 1\n") == {"global": {"foo": "1"}}


def test_section_names_are_verbatim():
    assert parse_conf("[ global ]\nfoo = 1\n") == {" global ": {"foo": "1"}}
    assert parse_conf("[glo\\]bal]\nfoo = 1\n") == {"glo]bal": {"foo": "1"}}


def test_empty_and_comment_only():
    assert parse_conf("") == {}
    assert parse_conf("# a\n; b\n") == {}


@pytest.mark.parametrize(
    "text, message",
    [
        ("[global]\nfoo = bar", "expected '<empty_line>' in line 2 at position 10"),
        ('[global]\nfoo = "a#b"\n', 'expected \'"""\' in line 2 at position 9'),
        ('[global]\nfoo = "abc\n', 'expected \'"""\' in line 2 at position 11'),
        ('[global]\nfoo = "a" b\n', "expected '<empty_line>' in line 2 at position 10"),
        ("foo = 1\n[global]\nbar = 2\n", "expected '<eoi>' in line 2 at position 1"),
        ("  [global]\nfoo = 1\n", "expected '<eoi>' in line 1 at position 1"),
        ("[global]\nfoo bar\n", "expected '<eoi>' in line 2 at position 1"),
        (
            "[global]\nfoo = 1\njunk line here\nbaz = 2\n",
            "expected '<eoi>' in line 3 at position 1",
        ),
        ("[global\nfoo = 1\n", "expected '\"]\"' in line 1 at position 8"),
        ("[global] foo = 1\n", "expected '<empty_line>' in line 1 at position 9"),
        ("   \n\n", "expected '<eoi>' in line 1 at position 1"),
        ("\nfoo = 1\n", "expected '<eoi>' in line 2 at position 1"),
        ("[global]", "expected '<empty_line>' in line 1 at position 9"),
        ("[]\nfoo = 1\n", "expected '<difference><unnamed-rule>\"]\"' in line 1 at position 2"),
        ("[global]\nfo#o = 1\n", "expected '<eoi>' in line 2 at position 1"),
        ('[global]\nfoo = "a \\\nb"\n', 'expected \'"""\' in line 2 at position 11'),
        ("[global]\n[global]\\\n k = v\n", "expected '<empty_line>' in line 2 at position 9"),
        ("[global]\n\r\n\r\n=val", "expected '<eoi>' in line 2 at position 1"),
    ],
)
def test_errors_match_upstream(text, message):
    with pytest.raises(ConfParseError) as ei:
        parse_conf(text)
    assert str(ei.value) == "parse error: " + message
    assert ei.value.errno == errno.EINVAL
    assert isinstance(ei.value, ValueError)
    assert ei.value.line == int(message.split(" in line ")[1].split()[0])


def test_invalid_utf8_reports_line():
    with pytest.raises(ConfParseError, match="invalid UTF-8 found at line 3"):
        parse_conf(b"[global]\nfoo = 1\n\xff\n")
