"""Running SQL that must fail, and checking what the error says (and does not say)."""

import psycopg


def sql_error(conn, sql, params=None):
    """The psycopg error that `sql` raises; fails the test if it succeeds."""
    try:
        conn.execute(sql, params)
    except psycopg.Error as e:
        return e
    raise AssertionError(f"expected an error from: {sql}")


def error_text(e):
    """Everything a client sees of an error: message, detail, hint, context."""
    d = e.diag
    return "\n".join(filter(None, [str(e), d.message_primary, d.message_detail, d.message_hint, d.context]))


def assert_no_secret(text, *secrets):
    for s in secrets:
        assert s not in text, "a secret appears in client-visible text"
