"""Reply stripping is bounded (issue 17): mail-parser-reply's header pattern backtracks
exponentially on runs of header-like lines; the fuzz suite found a 13 KB body that took 27 s."""

from services.ingest import reply_stripping


def test_header_like_line_runs_fall_back_to_linear_stripping():
    lines = "".join(f"Content-Type: part {i}; charset=\"bogus\"\nContent-Disposition: 999\n\n\u00a0\n--b{i}\n" for i in range(300))
    text = "Where is my parcel?\n\n" + lines + "> quoted line\n"
    stripped = reply_stripping.strip_reply(text)
    assert stripped.startswith("Where is my parcel?")
    assert "> quoted line" not in stripped


def test_ordinary_replies_are_still_stripped_by_the_library():
    text = "Danke, das hilft.\n\nAm 3. März 2025 um 10:00 schrieb Support <support@example.com>:\n> Ihre Bestellung ist unterwegs."
    assert reply_stripping.strip_reply(text) == "Danke, das hilft."
