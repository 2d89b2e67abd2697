"""The one record format (convmixer.records): dataclasses to plain data and back, and versioned
record files written atomically and read back with one clear error."""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from typing import Literal

import pytest

from convmixer.records import from_record, read_record_file, to_record, write_record_file
from convmixer.train import PROFILES, EpochRecord, TrainProfile


@dataclass(frozen=True)
class Inner:
    side: int
    rows: tuple[tuple[float, ...], ...]


@dataclass(frozen=True)
class Outer:
    name: str
    inner: Inner
    history: tuple[EpochRecord, ...]
    values: list[float]
    pair: tuple[int, str]
    extra: dict[str, int | str] = field(default_factory=dict)
    limit: int | None = None
    mode: Literal["a", "b"] = "a"
    nested: Inner | None = None


def an_outer() -> Outer:
    epoch = EpochRecord(1, 2.0, 1.5, 0.4, "validation", 500, 0.01, 3.0, 100.0)
    return Outer("x", Inner(3, ((0.1, 0.2), (0.3, 0.4))), (epoch,), [1.0, 2.5], (1, "a"), {"k": 5, "act": "relu"},
                 None, "b", Inner(1, ()))


def test_round_trip_through_json_gives_back_equal_records():
    outer = an_outer()
    data = to_record(outer)
    assert data["inner"] == {"side": 3, "rows": [[0.1, 0.2], [0.3, 0.4]]} and data["limit"] is None
    assert data["history"][0]["eval_split"] == "validation"
    back = from_record(Outer, json.loads(json.dumps(data)))
    assert back == outer and isinstance(back.inner.rows, tuple) and isinstance(back.values, list)
    for profile in PROFILES.values():
        assert from_record(TrainProfile, json.loads(json.dumps(to_record(profile)))) == profile
        assert to_record(profile) == profile.to_dict()


def test_a_json_integer_in_a_float_field_becomes_that_float():
    record = from_record(EpochRecord, {**to_record(an_outer().history[0]), "seconds": 3})
    assert record.seconds == 3.0 and isinstance(record.seconds, float)


@pytest.mark.parametrize("change, problem", [
    (lambda d: d.pop("name"), r"Outer: missing field\(s\) name of Outer"),
    (lambda d: d.update(surprise=1), r"Outer: unknown field\(s\) surprise for Outer"),
    (lambda d: d["inner"].update(side="three"), r"Outer.inner.side: expected int, got 'three'"),
    (lambda d: d["history"][0].update(eval_accuracy=None), r"Outer.history\[0\].eval_accuracy: expected float"),
    (lambda d: d.update(mode="c"), r"Outer.mode: 'c' is not one of 'a', 'b'"),
    (lambda d: d.update(pair=[1]), r"Outer.pair: expected 2 items, got 1"),
])
def test_a_record_that_does_not_fit_names_the_field(change, problem):
    data = to_record(an_outer())
    change(data)
    with pytest.raises(ValueError, match=problem):
        from_record(Outer, data)


def test_a_record_file_carries_its_kind_and_version_and_reads_back(tmp_path):
    path = write_record_file(tmp_path / "sub" / "r.json", "test records", 3, {"rows": [[1, 2], [3, 4]], "a": "b"},
                             number_rows_on_one_line=True)
    content = json.loads(path.read_text())
    assert list(content)[:2] == ["format", "version"] and (content["format"], content["version"]) == ("test records", 3)
    assert "[1, 2]" in path.read_text()  # a row of numbers on one line
    assert read_record_file(path, "test records", 3) == {"rows": [[1, 2], [3, 4]], "a": "b"}
    with pytest.raises(ValueError, match="payload cannot have"):
        write_record_file(path, "test records", 3, {"version": 2})


def test_missing_unreadable_other_kind_and_other_version_are_one_clear_sentence(tmp_path):
    with pytest.raises(ValueError, match=r"nothing.json does not exist; run scripts/make.py to make it$"):
        read_record_file(tmp_path / "nothing.json", "test records", 1, made_by="scripts/make.py")
    with pytest.raises(ValueError, match=r"nothing.json does not exist$"):
        read_record_file(tmp_path / "nothing.json", "test records", 1)
    (tmp_path / "cut.json").write_text('{"format": "test records", "vers')
    with pytest.raises(ValueError, match=r"cut.json is not a readable test records file \(JSONDecodeError"):
        read_record_file(tmp_path / "cut.json", "test records", 1)
    write_record_file(tmp_path / "other.json", "other records", 1, {})
    with pytest.raises(ValueError, match=r"other.json is not a test records file \(its format is 'other records'\)"):
        read_record_file(tmp_path / "other.json", "test records", 1)
    (tmp_path / "list.json").write_text("[1, 2]")
    with pytest.raises(ValueError, match=r"list.json is not a test records file \(its format is None\)"):
        read_record_file(tmp_path / "list.json", "test records", 1)
    write_record_file(tmp_path / "old.json", "test records", 1, {})
    with pytest.raises(ValueError, match=r"old.json is version 1 of the test records format; this code reads version 2"):
        read_record_file(tmp_path / "old.json", "test records", 2)


def test_a_failed_write_leaves_the_old_file_intact(tmp_path, monkeypatch):
    path = write_record_file(tmp_path / "r.json", "test records", 1, {"n": 1})
    before = path.read_text()

    def crash(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(os, "replace", crash)
    with pytest.raises(OSError, match="disk full"):
        write_record_file(path, "test records", 1, {"n": 2})
    assert path.read_text() == before and read_record_file(path, "test records", 1) == {"n": 1}
    assert [p.name for p in tmp_path.iterdir()] == ["r.json"]  # no temporary file left
