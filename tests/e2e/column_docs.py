"""What a mirror table's typed columns must hold, read from the schema's own documentation: each
generated column's COMMENT names the JSON path(s) it reads ("data.customer, a customer id",
"data.current_period_start or data.items.data[0].current_period_start: ..."). The expected value
is computed here from the object, in Python, from that path and the column's SQL type, never from
the generation expression, so a column reading the wrong place (or casting wrongly) shows up.

    cols = table_columns(conn, "invoices")
    assert_table_matches(conn, "invoices", {id: (object, parent id)}, cols)
"""

import re
from dataclasses import dataclass
from datetime import datetime, timezone
from decimal import Decimal

PATH = r"data(?:\.[A-Za-z0-9_]+|\[\d+\])+"
BOOKKEEPING = {"id", "data", "account_id", "synced_at", "synced_from", "stripe_as_of"}

# stripe.events predates the catalog tables and documents its columns in schema.sql's header
# only; these are the paths that header and Stripe's event object give them.
EVENT_DOCS = {
    "type": "data.type",
    "api_version": "data.api_version",
    "livemode": "data.livemode",
    "created": "data.created",
    "object_type": "data.data.object.object",
    "object_id": "data.data.object.id",
    "request_id": "data.request.id",
    "deleted": "data.deleted, always false",
}
# events columns the extension sets itself (not from data)
EVENT_OWN = {"status", "received_at", "processed_at"}


@dataclass(frozen=True)
class Column:
    name: str
    type: str          # format_type(), e.g. 'timestamp with time zone'
    generated: bool
    comment: str | None


def table_columns(conn, table):
    rows = conn.execute("""
        SELECT a.attname, format_type(a.atttypid, a.atttypmod), a.attgenerated = 's',
               col_description(a.attrelid, a.attnum)
          FROM pg_attribute a
         WHERE a.attrelid = ('stripe.' || quote_ident(%s))::regclass AND a.attnum > 0 AND NOT a.attisdropped
         ORDER BY a.attnum""", (table,)).fetchall()
    return [Column(*r) for r in rows if r[0] not in BOOKKEEPING]


def parent_column(cols):
    """The column holding a child row's parent id (set by the extension, not generated)."""
    found = [c for c in cols if not c.generated and (c.comment or "").startswith("The parent ")]
    return found[0].name if found else None


def _tokens(path):
    """'data.items.data[0].x' -> ['items', 'data', 0, 'x']"""
    out = []
    for part in re.findall(r"\.([A-Za-z0-9_]+)|\[(\d+)\]", path[len("data"):]):
        out.append(part[0] if part[0] else int(part[1]))
    return out


def at(obj, path):
    """The JSON value at a documented path, None where any step is missing."""
    v = obj
    for t in _tokens(path):
        if isinstance(t, int):
            v = v[t] if isinstance(v, list) and len(v) > t else None
        else:
            v = v.get(t) if isinstance(v, dict) else None
        if v is None:
            return None
    return v


def documented(col, table):
    """A function object -> expected value, from the column's comment; raises if the comment
    does not document a JSON path."""
    comment = col.comment
    if table == "events" and comment is None:
        comment = EVENT_DOCS.get(col.name)
    if comment is None:
        raise AssertionError(f"stripe.{table}.{col.name} is generated but has no COMMENT documenting its path")
    if col.name == "deleted":
        # "true once Stripe deleted ..." / "data.deleted, normally false ...": a deleted flag that
        # is false unless the object says deleted: true.
        return lambda o: bool(o.get("deleted") or False)

    # "data.paid (older API versions), or data.status = 'paid'"
    m = re.match(rf"({PATH}) \([^)]*\), or ({PATH}) = '([^']*)'", comment)
    if m:
        old, new, value = m.groups()
        return lambda o: _convert(col, at(o, old)) if at(o, old) is not None else (
            None if at(o, new) is None else at(o, new) == value)

    # "data.type (older API versions: a or b), or the same values from data.parent.type (x, y)"
    m = re.match(rf"({PATH}) \([^:]*: (\w+) or (\w+)\), or the same values from ({PATH}) \((\w+), (\w+)\)", comment)
    if m:
        old, a, b, new, x, y = m.groups()
        mapping = {x: a, y: b}
        return lambda o: at(o, old) if at(o, old) is not None else mapping.get(at(o, new))

    m = re.match(rf"{PATH}(?: or {PATH})*", comment)
    if not m:
        raise AssertionError(f"stripe.{table}.{col.name}: comment documents no JSON path: {comment!r}")
    paths = re.findall(PATH, m.group(0))

    def expected(o):
        for p in paths:
            v = _convert(col, at(o, p))
            if v is not None:
                return v
        return None
    return expected


def _convert(col, v):
    """A JSON value as the column's SQL type would hold it."""
    if v is None:
        return None
    t = col.type
    if t == "jsonb":
        return v
    if t == "text":
        if isinstance(v, dict):
            return v.get("id")  # an expanded reference: its id
        if isinstance(v, bool):
            return "true" if v else "false"
        return v if isinstance(v, str) else str(v)
    if t == "boolean":
        return v if isinstance(v, bool) else {"true": True, "false": False}[v]
    if t in ("bigint", "integer", "smallint"):
        return int(v)
    if t == "numeric":
        return Decimal(v) if isinstance(v, str) else Decimal(str(v))
    if t == "timestamp with time zone":
        return datetime.fromtimestamp(v, timezone.utc)
    if t in ("double precision", "real"):
        return float(v)
    raise AssertionError(f"{col.name}: no rule for SQL type {t}")


def assert_table_matches(conn, table, expected, cols=None, what="", subset=False):
    """stripe.<table> holds exactly `expected` ({id: (object, parent id)}): the same ids, each
    row's data the object, each generated column what its comment documents, and the parent
    column the parent's id. With subset, other rows may exist too. Reports every difference,
    not just the first."""
    cols = cols if cols is not None else table_columns(conn, table)
    generated = [c for c in cols if c.generated]
    pcol = parent_column(cols)
    rules = {c.name: documented(c, table) for c in generated}
    names = ["id", "data"] + [c.name for c in generated] + ([pcol] if pcol else [])
    select = ", ".join('"' + n.replace('"', '""') + '"' for n in names)
    rows = conn.execute(f"SELECT {select} FROM stripe.{table}").fetchall()
    actual = {r[0]: dict(zip(names, r)) for r in rows}

    problems = []
    missing = sorted(set(expected) - set(actual))
    extra = sorted(set(actual) - set(expected))
    if missing:
        problems.append(f"{len(missing)} rows missing, e.g. {missing[:5]}")
    if extra and not subset:
        problems.append(f"{len(extra)} unexpected rows, e.g. {extra[:5]}")
    for id_, (obj, parent) in sorted(expected.items()):
        row = actual.get(id_)
        if row is None:
            continue
        if row["data"] != obj:
            diff = sorted(k for k in set(obj) | set(row["data"]) if obj.get(k) != row["data"].get(k))
            problems.append(f"{id_}: data differs from the API object in keys {diff[:8]}")
        for c in generated:
            want = rules[c.name](obj)
            if row[c.name] != want:
                problems.append(f"{id_}.{c.name} ({c.type}, documented {c.comment!r}): "
                                f"row has {row[c.name]!r}, the JSON says {want!r}")
        if pcol and row[pcol] != parent:
            problems.append(f"{id_}.{pcol} (parent): row has {row[pcol]!r}, expected {parent!r}")
    assert not problems, f"stripe.{table}{what}: " + "\n  ".join(problems[:40]) + (
        f"\n  ... {len(problems) - 40} more" if len(problems) > 40 else "")
    return len(actual)
