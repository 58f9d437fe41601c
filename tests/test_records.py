"""Stage 1: files -> Record | Diagnostic (front matter, YAML, line numbers, limits)."""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace

import pytest

from conftest import cli, record_text
from feedloom.diagnostics import Diagnostic, Severity, error, warning
from feedloom.records import Record, discover_files, parse_record, read_record

# --- helpers -----------------------------------------------------------------


def discovered(seeds: Path) -> list[str]:
    """The record files discovery finds below ``seeds``, relative to it, in its order."""
    return [file.display for file in discover_files(seeds, "")]


def read_all(seeds: Path, display_root: str) -> list[Record | Diagnostic]:
    """Every record file below ``seeds`` read, as a build reads them, in discovery's order."""
    return [read_record(Path(f.path), f.display) for f in discover_files(seeds, display_root)]


def write_bytes(folder: Path, name: str, data: bytes) -> Path:
    path = folder / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return path


def read(path: Path, max_bytes: int | None = None) -> Record | Diagnostic:
    if max_bytes is None:
        return read_record(path, "seeds/x.md")
    return read_record(path, "seeds/x.md", max_bytes)


def as_record(result: Record | Diagnostic) -> Record:
    assert isinstance(result, Record), f"expected a record, got: {result}"
    return result


def as_diagnostic(result: Record | Diagnostic) -> Diagnostic:
    assert isinstance(result, Diagnostic), f"expected a diagnostic, got: {result}"
    return result


# --- front matter split ------------------------------------------------------


def test_front_matter_between_dash_fences_is_parsed(seeds: Path) -> None:
    path = write_bytes(seeds, "a.md", b"---\ntitle: Hello\nheat: 3\n---\n")
    record = as_record(read(path))
    assert dict(record.fields) == {"title": "Hello", "heat": 3}
    assert record.path == "seeds/x.md"


def test_front_matter_may_be_closed_by_dots(seeds: Path) -> None:
    path = write_bytes(seeds, "a.md", b"---\ntitle: Hello\n...\nbody text\n")
    assert dict(as_record(read(path)).fields) == {"title": "Hello"}


def test_closing_fence_may_be_the_last_line_without_newline(seeds: Path) -> None:
    path = write_bytes(seeds, "a.md", b"---\ntitle: Hello\n---")
    assert dict(as_record(read(path)).fields) == {"title": "Hello"}


def test_body_after_closing_fence_is_ignored_even_if_not_yaml(seeds: Path) -> None:
    body = b"# Heading\n\nkey: [not closed\n\tbad: indent\n"
    path = write_bytes(seeds, "a.md", b"---\ntitle: Hello\n---\n" + body)
    assert dict(as_record(read(path)).fields) == {"title": "Hello"}


def test_a_dash_line_inside_the_body_is_fine(seeds: Path) -> None:
    text = "---\ntitle: Hello\n---\nIntro\n---\nnot: [yaml\n---\nmore\n"
    path = write_bytes(seeds, "a.md", text.encode())
    assert dict(as_record(read(path)).fields) == {"title": "Hello"}


def test_record_written_by_helper_round_trips(write_record) -> None:
    fields = {"title": "Ünïcode “quotes”", "topics": ["AI", "ML"], "heat": 1.5}
    path = write_record("a.md", text=record_text(fields, body="Body\n---\nmore\n"))
    assert dict(as_record(read(path)).fields) == fields


def test_utf8_bom_is_tolerated(seeds: Path) -> None:
    path = write_bytes(seeds, "a.md", b"\xef\xbb\xbf---\ntitle: Hello\n---\n")
    assert dict(as_record(read(path)).fields) == {"title": "Hello"}


def test_crlf_line_endings_are_tolerated(seeds: Path) -> None:
    path = write_bytes(seeds, "a.md", b"---\r\ntitle: Hello\r\nexcerpt: Text\r\n---\r\nbody\r\n")
    record = as_record(read(path))
    assert dict(record.fields) == {"title": "Hello", "excerpt": "Text"}
    assert dict(record.lines) == {"title": 2, "excerpt": 3}


def test_bom_and_crlf_together_are_tolerated(seeds: Path) -> None:
    data = b"\xef\xbb\xbf---\r\ntitle: Hello\r\n---\r\n"
    path = write_bytes(seeds, "a.md", data)
    assert dict(as_record(read(path)).fields) == {"title": "Hello"}


# --- missing fences and non-mappings -----------------------------------------


def test_missing_opening_fence_is_a_diagnostic_on_line_1(seeds: Path) -> None:
    path = write_bytes(seeds, "a.md", b"title: Hello\n---\n")
    diagnostic = as_diagnostic(read(path))
    assert diagnostic.line == 1
    assert diagnostic.severity is Severity.ERROR
    assert "---" in diagnostic.message


def test_empty_file_has_no_front_matter(seeds: Path) -> None:
    path = write_bytes(seeds, "a.md", b"")
    assert as_diagnostic(read(path)).line == 1


def test_missing_closing_fence_is_a_diagnostic(seeds: Path) -> None:
    path = write_bytes(seeds, "a.md", b"---\ntitle: Hello\nexcerpt: Text\n")
    diagnostic = as_diagnostic(read(path))
    assert diagnostic.line == 1
    assert "closed" in diagnostic.message


def test_front_matter_that_is_a_list_is_rejected(seeds: Path) -> None:
    path = write_bytes(seeds, "a.md", b"---\n- title\n- Hello\n---\n")
    diagnostic = as_diagnostic(read(path))
    assert diagnostic.line == 2
    assert "mapping" in diagnostic.message


def test_front_matter_that_is_a_scalar_is_rejected(seeds: Path) -> None:
    path = write_bytes(seeds, "a.md", b"---\njust some words\n---\n")
    diagnostic = as_diagnostic(read(path))
    assert diagnostic.line == 2
    assert "mapping" in diagnostic.message


@pytest.mark.parametrize("front", ["!!set {a, b}", "!!set\n? title\n? heat"])
def test_front_matter_tagged_as_a_set_is_one_diagnostic_naming_the_file(
    seeds: Path, front: str
) -> None:
    write_bytes(seeds, "set.md", f"---\n{front}\n---\n".encode())
    results = list(read_all(seeds, "my-seeds"))
    assert [str(r) for r in results] == ["my-seeds/set.md:2: not a mapping of fields"]


def test_empty_front_matter_is_rejected(seeds: Path) -> None:
    path = write_bytes(seeds, "a.md", b"---\n---\nbody\n")
    diagnostic = as_diagnostic(read(path))
    assert diagnostic.line == 2
    assert "empty" in diagnostic.message


def test_front_matter_of_only_comments_is_rejected_as_empty(seeds: Path) -> None:
    path = write_bytes(seeds, "a.md", b"---\n# a comment\n\n---\n")
    assert "empty" in as_diagnostic(read(path)).message


# --- YAML errors name the real line ------------------------------------------


def test_yaml_syntax_error_names_the_line_in_the_file(seeds: Path) -> None:
    # line 1 '---', line 2 title, line 3 excerpt, line 4 the bad line
    text = "---\ntitle: Hello\nexcerpt: fine\nkey: : :\nheat: 1\n---\n"
    path = write_bytes(seeds, "a.md", text.encode())
    diagnostic = as_diagnostic(read(path))
    assert diagnostic.line == 4
    assert diagnostic.message.startswith("YAML syntax error")


def test_yaml_error_on_first_yaml_line_is_line_2(seeds: Path) -> None:
    path = write_bytes(seeds, "a.md", b"---\n\tkey: value\n---\n")
    assert as_diagnostic(read(path)).line == 2


def test_yaml_error_line_counts_crlf_lines_once(seeds: Path) -> None:
    data = b"\xef\xbb\xbf---\r\na: 1\r\nb: 2\r\n\tc: 3\r\n---\r\n"
    path = write_bytes(seeds, "a.md", data)
    assert as_diagnostic(read(path)).line == 4


# --- invalid UTF-8 and size limit --------------------------------------------


def test_invalid_utf8_names_the_line_of_the_bad_byte(seeds: Path) -> None:
    data = b"---\ntitle: Hello\nexcerpt: caf\xe9\n---\n"
    path = write_bytes(seeds, "a.md", data)
    diagnostic = as_diagnostic(read(path))
    assert diagnostic.line == 3
    assert "UTF-8" in diagnostic.message


def test_invalid_utf8_in_body_is_still_reported_with_its_line(seeds: Path) -> None:
    data = b"---\ntitle: Hello\n---\nline 4\nline 5 \xff\n"
    path = write_bytes(seeds, "a.md", data)
    assert as_diagnostic(read(path)).line == 5


def test_invalid_utf8_after_a_bom_names_the_line_of_the_bad_byte(seeds: Path) -> None:
    # the bad byte opens line 3; the BOM must not shift the count
    data = b"\xef\xbb\xbf---\ntitle: Hello\n\xffexcerpt: x\n---\n"
    path = write_bytes(seeds, "a.md", data)
    assert as_diagnostic(read(path)).line == 3


def test_file_over_max_bytes_is_rejected_naming_the_limit(seeds: Path) -> None:
    data = b"---\ntitle: Hello\nexcerpt: " + b"x" * 200 + b"\n---\n"
    path = write_bytes(seeds, "a.md", data)
    diagnostic = as_diagnostic(read(path, max_bytes=100))
    assert diagnostic.line == 1
    assert "100" in diagnostic.message
    assert str(len(data)) in diagnostic.message


def test_file_of_exactly_max_bytes_is_accepted(seeds: Path) -> None:
    data = b"---\ntitle: Hello\n---\n"
    path = write_bytes(seeds, "a.md", data)
    assert dict(as_record(read(path, max_bytes=len(data))).fields) == {"title": "Hello"}


def test_file_one_byte_over_max_bytes_is_rejected(seeds: Path) -> None:
    data = b"---\ntitle: Hello\n---\n"
    path = write_bytes(seeds, "a.md", data)
    assert isinstance(read(path, max_bytes=len(data) - 1), Diagnostic)


def test_file_over_max_bytes_is_not_read_at_all(
    seeds: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = write_bytes(seeds, "a.md", b"---\ntitle: Hello\n---\n" + b"x" * 1000)
    reads: list[int] = []
    real_read = os.read
    monkeypatch.setattr(os, "read", lambda fd, n: reads.append(n) or real_read(fd, n))
    assert "over the limit of 100" in as_diagnostic(read(path, max_bytes=100)).message
    assert reads == []


def test_file_that_grows_past_max_bytes_while_read_is_rejected(
    seeds: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = write_bytes(seeds, "a.md", b"---\ntitle: Hello\n---\n" + b"x" * 1000)
    monkeypatch.setattr(os, "fstat", lambda fd: SimpleNamespace(st_size=20))  # as first seen
    assert "bytes, over the limit of 100" in as_diagnostic(read(path, max_bytes=100)).message


# --- line of every top-level key ---------------------------------------------


def test_record_lines_give_the_file_line_of_each_top_level_key(seeds: Path) -> None:
    text = (
        "---\n"  # 1
        "title: Hello\n"  # 2
        "\n"  # 3
        "# a comment\n"  # 4
        "provider:\n"  # 5
        "  name: Example\n"  # 6
        "  domain: example.com\n"  # 7
        "topics:\n"  # 8
        "  - AI\n"  # 9
        "excerpt: >\n"  # 10
        "  folded\n"  # 11
        "  text\n"  # 12
        "heat: 4\n"  # 13
        "---\n"
    )
    path = write_bytes(seeds, "a.md", text.encode())
    record = as_record(read(path))
    assert dict(record.lines) == {
        "title": 2,
        "provider": 5,
        "topics": 8,
        "excerpt": 10,
        "heat": 13,
    }


def test_record_line_of_missing_key_is_line_1(seeds: Path) -> None:
    path = write_bytes(seeds, "a.md", b"---\n\ntitle: Hello\n---\n")
    record = as_record(read(path))
    assert record.line_of("title") == 3
    assert record.line_of("webUrl") == 1


def test_parse_record_counts_lines_after_a_bom(seeds: Path) -> None:
    record = as_record(parse_record(b"\xef\xbb\xbf---\na: 1\nb: 2\n---\n", "x.md"))
    assert dict(record.lines) == {"a": 2, "b": 3}


# --- discovery ---------------------------------------------------------------


def test_discover_finds_any_extension_recursively(seeds: Path) -> None:
    for name in ("a.md", "b.txt", "noext", "sub/c.md", "sub/deeper/d.yaml"):
        write_bytes(seeds, name, b"---\ntitle: x\n---\n")
    found = set(discovered(seeds))
    assert found == {"a.md", "b.txt", "noext", "sub/c.md", "sub/deeper/d.yaml"}


def test_discover_skips_hidden_files_and_hidden_folders(seeds: Path) -> None:
    for name in (
        "kept.md",
        ".hidden.md",
        ".git/config",
        "sub/.DS_Store",
        "sub/kept2.md",
        "sub/.cache/inner.md",
    ):
        write_bytes(seeds, name, b"---\ntitle: x\n---\n")
    found = discovered(seeds)
    assert found == ["kept.md", "sub/kept2.md"]


def test_discover_still_reads_a_seeds_folder_below_a_hidden_folder(tmp_path: Path) -> None:
    root = tmp_path / ".config" / "seeds"
    write_bytes(root, "a.md", b"---\ntitle: x\n---\n")
    assert discovered(root) == ["a.md"]


def test_discover_skips_links_that_loop_or_lead_nowhere(seeds: Path) -> None:
    write_bytes(seeds, "a.md", b"---\ntitle: x\n---\n")
    (seeds / "loop").symlink_to("loop")
    (seeds / "broken").symlink_to("nowhere")
    (seeds / "sub").mkdir()
    (seeds / "sub" / "loop").symlink_to("loop")
    assert discovered(seeds) == ["a.md"]


def test_discover_skips_a_folder_that_cannot_be_listed(
    seeds: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    write_bytes(seeds, "a.md", b"---\ntitle: x\n---\n")
    write_bytes(seeds, "locked/b.md", b"---\ntitle: x\n---\n")
    real_scandir = os.scandir

    def scandir(folder: str) -> Iterator[os.DirEntry]:
        if Path(folder).name == "locked":
            raise PermissionError(13, "Permission denied", folder)
        return real_scandir(folder)

    monkeypatch.setattr(os, "scandir", scandir)
    assert discovered(seeds) == ["a.md"]


def test_a_file_that_cannot_be_read_is_still_reported(
    seeds: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    write_bytes(seeds, "a.md", b"---\ntitle: x\n---\n")
    real_open = os.open

    def refuse(path: str, flags: int) -> int:
        if Path(path).name == "a.md":
            raise PermissionError(13, "Permission denied", path)
        return real_open(path, flags)

    monkeypatch.setattr(os, "open", refuse)
    results = [str(r) for r in read_all(seeds, "seeds")]
    assert results == ["seeds/a.md:1: cannot read file: Permission denied"]


def test_build_and_check_pass_over_a_link_that_loops(write_record, seeds, feeds_dir) -> None:
    write_record("a.md")
    (seeds / "loop").symlink_to("loop")
    for command in ("check", "build"):
        result = cli(command)
        assert result.exit_code == 0, result.output
        assert "loop" not in result.output


def test_discover_order_is_sorted_by_relative_path(seeds: Path) -> None:
    # written in an order unlike the sorted one
    for name in ("b/z.md", "c.md", "a.md", "b.md", "a/y.md", "B.md"):
        write_bytes(seeds, name, b"---\ntitle: x\n---\n")
    found = discovered(seeds)
    assert found == ["B.md", "a.md", "a/y.md", "b.md", "b/z.md", "c.md"]


def test_discover_order_is_stable_across_calls(seeds: Path) -> None:
    for name in ("m/2.md", "m/10.md", "k.md", "z/a.md"):
        write_bytes(seeds, name, b"---\ntitle: x\n---\n")
    first = discovered(seeds)
    assert first == discovered(seeds)
    assert first == sorted(first)


def test_records_and_diagnostics_come_in_file_order_with_display_paths(seeds: Path) -> None:
    write_bytes(seeds, "b.md", b"no front matter\n")
    write_bytes(seeds, "a.md", b"---\ntitle: A\n---\n")
    write_bytes(seeds, "c/d.txt", b"---\ntitle: D\n---\n")
    results = list(read_all(seeds, "seeds"))
    assert [r.path for r in results] == ["seeds/a.md", "seeds/b.md", "seeds/c/d.txt"]
    assert [type(r) for r in results] == [Record, Diagnostic, Record]


# --- diagnostic text ---------------------------------------------------------


def test_error_diagnostic_str_is_path_line_message() -> None:
    assert str(error("seeds/a.md", 7, "missing title")) == "seeds/a.md:7: missing title"


def test_warning_diagnostic_str_has_warning_prefix() -> None:
    text = str(warning("seeds/a.md", 12, "topic 2 ignored"))
    assert text == "seeds/a.md:12: warning: topic 2 ignored"


def test_diagnostic_from_a_bad_file_prints_as_path_line_message(seeds: Path) -> None:
    write_bytes(seeds, "bad.md", b"---\ntitle: ok\nkey: : :\n---\n")
    result = next(iter(read_all(seeds, "my-seeds")))
    text = str(as_diagnostic(result))
    assert re.fullmatch(r"my-seeds/bad\.md:3: YAML syntax error: .+", text), text
