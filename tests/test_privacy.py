"""Personal data masked at any length; the files that hold it readable by their owner only
(issue #11)."""

from __future__ import annotations

import logging
import os
import stat

import pytest

from wangge.privacy import mask_name, mask_phone, private_file, private_log_handler


@pytest.mark.parametrize(
    ("phone", "masked"),
    [
        ("1", "*"),
        ("12", "**"),
        ("110", "***"),
        ("8012", "****"),
        ("12345", "***45"),
        ("123456", "****56"),
        ("8881234", "*****34"),
        ("88812345", "****2345"),
        ("0712888123", "******8123"),
        ("13800138000", "138****8000"),
        ("+86 138-0013-8000", "861******8000"),
        ("", ""),
        (None, ""),
        ("无", ""),
    ],
)
def test_phone_numbers_are_masked_at_any_length(phone, masked):
    assert mask_phone(phone) == masked
    digits = "".join(c for c in phone or "" if c.isdigit())
    hidden = mask_phone(phone).count("*")
    # never shown whole: a short number all hidden, a longer one at least 3 of its digits
    assert hidden == len(digits) if len(digits) <= 4 else hidden >= 3


def test_a_one_character_name_is_masked_too():
    assert (mask_name("王"), mask_name("张三"), mask_name(" "), mask_name(None)) == (
        "*",
        "张*",
        "",
        "",
    )


@pytest.fixture
def open_umask():
    old = os.umask(0o022)  # the usual default: new files readable by everyone
    yield
    os.umask(old)


def test_private_files_are_created_and_tightened_to_0600(tmp_path, open_umask):
    path = private_file(tmp_path / "var" / "secret")
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    loose = tmp_path / "loose"
    loose.write_text("x")
    assert stat.S_IMODE(loose.stat().st_mode) == 0o644
    assert stat.S_IMODE(private_file(loose).stat().st_mode) == 0o600
    assert loose.read_text() == "x"  # kept


def test_the_log_file_is_private(tmp_path, open_umask):
    handler = private_log_handler(tmp_path / "wangge.log")
    log = logging.getLogger("wangge.test_privacy")
    log.addHandler(handler)
    try:
        log.warning("served")
    finally:
        log.removeHandler(handler)
        handler.close()
    path = tmp_path / "wangge.log"
    assert "served" in path.read_text() and stat.S_IMODE(path.stat().st_mode) == 0o600


def test_the_secret_key_file_is_private(tmp_path, open_umask, monkeypatch):
    from dashboard.app import create_app
    from wangge.settings import Settings

    monkeypatch.delenv("WANGGE_SECRET_KEY", raising=False)
    create_app(Settings(data_dir=tmp_path))
    assert stat.S_IMODE((tmp_path / "secret_key").stat().st_mode) == 0o600
