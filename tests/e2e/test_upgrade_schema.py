"""Upgrades in place, checked in every e2e run (both PostgreSQL versions): a database created at
each earlier release (its frozen install script, releases/) and updated with ALTER EXTENSION …
UPDATE has exactly the schema of a fresh install, object by object (schema_snapshot.py), and keeps
its rows — the secrets included, which 0.2.0 moved to schema stripe_secrets. The rows written by
an earlier release's own library, a running worker and a job half done across the update are
tests/upgrade.sh's (it builds that release)."""

import glob
import os
import re
from pathlib import Path

import psycopg
import pytest
from psycopg.conninfo import make_conninfo

from conftest import ADMIN_DSN, admin
from schema_snapshot import differences, snapshot

REPO = Path(__file__).resolve().parents[2]
RELEASES = sorted(re.match(r"djstripe_pg--([0-9.]+)\.sql$", os.path.basename(p)).group(1)
                  for p in glob.glob(str(REPO / "releases" / "djstripe_pg--*.sql")))
CURRENT = re.search(r'^version = "(.+)"$', (REPO / "Cargo.toml").read_text(), re.M).group(1)


@pytest.fixture
def databases():
    names = []

    def make(name, version=None):
        with admin() as c:
            c.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
            c.execute(f"CREATE DATABASE {name}")
        names.append(name)
        conn = psycopg.connect(make_conninfo(ADMIN_DSN, dbname=name), autocommit=True)
        conn.execute("CREATE EXTENSION djstripe_pg" + (f" VERSION '{version}'" if version else ""))
        return conn

    yield make
    with admin() as c:
        for name in names:
            c.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


def test_the_library_and_the_control_file_agree(databases):
    c = databases("djstripe_e2e_fresh")
    assert c.execute("SELECT stripe.version(), extversion FROM pg_extension WHERE extname = 'djstripe_pg'"
                     ).fetchone() == (CURRENT, CURRENT)
    available = {r[0] for r in c.execute(
        "SELECT version FROM pg_available_extension_versions WHERE name = 'djstripe_pg'").fetchall()}
    assert available == set(RELEASES) | {CURRENT}


@pytest.mark.parametrize("release", [r for r in RELEASES if r != CURRENT])
def test_an_updated_database_equals_a_fresh_install(databases, release):
    fresh = snapshot(databases("djstripe_e2e_fresh"))
    old = databases("djstripe_e2e_updated", release)
    assert old.execute("SELECT extversion FROM pg_extension WHERE extname = 'djstripe_pg'").fetchone()[0] == release
    old.execute("ALTER EXTENSION djstripe_pg UPDATE")
    updated = snapshot(old)
    assert updated["extension"] == fresh["extension"]
    assert updated == fresh, "\n".join(differences(fresh, updated))


def test_the_secrets_move_with_their_values(databases):
    if "0.1.0" not in RELEASES:
        pytest.skip("no 0.1.0 release here")
    c = databases("djstripe_e2e_updated", "0.1.0")
    # 0.1.0 kept them in schema stripe (written here directly: 0.1.0's functions need its library).
    c.execute("INSERT INTO stripe._api_key (api_key) VALUES ('sk_test_upgrade_kept_123')")
    c.execute("INSERT INTO stripe._webhook_secrets (secret) VALUES ('whsec_kept_1'), ('whsec_kept_2')")
    set_at = c.execute("SELECT set_at FROM stripe._api_key").fetchone()[0]
    c.execute("ALTER EXTENSION djstripe_pg UPDATE")
    assert c.execute("SELECT api_key, set_at FROM stripe_secrets.api_key").fetchall() == [
        ("sk_test_upgrade_kept_123", set_at)]
    assert [r[0] for r in c.execute("SELECT secret FROM stripe_secrets.webhook_secrets ORDER BY 1")] == [
        "whsec_kept_1", "whsec_kept_2"]
    assert c.execute("SELECT to_regclass('stripe._api_key'), to_regclass('stripe._webhook_secrets')"
                     ).fetchone() == (None, None)
    config = dict(c.execute("SELECT * FROM stripe.config()").fetchall())
    assert config["api_key"].startswith("sk_test") and "kept" not in config["api_key"]
    assert config["webhook_secrets"] == "2 configured"


@pytest.mark.parametrize("release", [None] + [r for r in RELEASES if r != CURRENT])
def test_every_table_and_column_says_what_it_holds(databases, release):
    """A COMMENT on every table, view and column of both schemas — in a fresh install and in one
    updated from each release (an upgrade step that adds a column must document it too)."""
    c = databases("djstripe_e2e_docs", release)
    if release:
        c.execute("ALTER EXTENSION djstripe_pg UPDATE")
    missing = c.execute("""
        SELECT c.oid::regclass::text || coalesce('.' || a.attname, '')
          FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
          LEFT JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
         WHERE n.nspname IN ('stripe', 'stripe_secrets') AND c.relkind IN ('r', 'p', 'v', 'm')
           AND coalesce(nullif(btrim(CASE WHEN a.attname IS NULL THEN obj_description(c.oid, 'pg_class')
                                          ELSE col_description(c.oid, a.attnum) END), ''), '') = ''
        UNION ALL
        SELECT c.oid::regclass::text FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
         WHERE n.nspname IN ('stripe', 'stripe_secrets') AND c.relkind IN ('r', 'p', 'v', 'm')
           AND coalesce(btrim(obj_description(c.oid, 'pg_class')), '') = ''
        UNION ALL
        SELECT n.nspname FROM pg_namespace n
         WHERE n.nspname IN ('stripe', 'stripe_secrets') AND coalesce(obj_description(n.oid, 'pg_namespace'), '') = ''
         ORDER BY 1""").fetchall()
    assert not missing, "without a COMMENT:\n" + "\n".join(m[0] for m in missing)


@pytest.mark.parametrize("release", [None] + [r for r in RELEASES if r != CURRENT])
def test_no_grant_or_default_privilege_reaches_the_secrets(databases, release):
    """A DBA's habits before the install or the update: default privileges on new schemas and
    tables for a role, and (before 0.2.0, when the secrets were in schema stripe) a grant on
    every table of schema stripe. None of it may reach stripe_secrets, fresh or updated."""
    role = "e2e_habit"
    with admin() as a:
        a.execute(f"DROP ROLE IF EXISTS {role}")
        a.execute(f"CREATE ROLE {role}")
    name = "djstripe_e2e_habit"
    with admin() as a:
        a.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
        a.execute(f"CREATE DATABASE {name}")
    try:
        with psycopg.connect(make_conninfo(ADMIN_DSN, dbname=name), autocommit=True) as c:
            c.execute(f"ALTER DEFAULT PRIVILEGES GRANT USAGE, CREATE ON SCHEMAS TO {role}")
            c.execute(f"ALTER DEFAULT PRIVILEGES GRANT ALL ON TABLES TO {role}")
            c.execute("CREATE EXTENSION djstripe_pg" + (f" VERSION '{release}'" if release else ""))
            c.execute(f"GRANT USAGE ON SCHEMA stripe TO {role}")
            c.execute(f"GRANT SELECT ON ALL TABLES IN SCHEMA stripe TO {role}")
            if release:
                c.execute("ALTER EXTENSION djstripe_pg UPDATE")
            reach = [r for r in c.execute("SELECT object, kind, privileges FROM stripe.access_report(%s)",
                                          (role,)).fetchall() if r[0].startswith("stripe_secrets")]
            assert reach == []
            for t in ("stripe_secrets.api_key", "stripe_secrets.webhook_secrets"):
                assert c.execute("SELECT has_any_column_privilege(%s, %s, 'SELECT')", (role, t)).fetchone()[0] is False
            assert c.execute("SELECT has_schema_privilege(%s, 'stripe_secrets', 'USAGE')", (role,)).fetchone()[0] is False
            c.execute(f"DROP OWNED BY {role}")
    finally:
        with admin() as a:
            a.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
            a.execute(f"DROP ROLE IF EXISTS {role}")
