"""Everything the extension's SQL defines, as comparable text: two databases whose snapshots are
equal have the same schema object by object. The upgrade tests compare a database updated from
an earlier release with a fresh install of this one.

Covered: the extension's schemas; its members (pg_depend, as pg_describe_object names them);
relations with their kind, options, row security, privileges and comments; columns in order with
type, nullability, default, generation expression, identity and comment; constraints, indexes,
triggers, policies, view definitions, sequences; functions with their full definition (signature,
body, settings, security), privileges and comments; types and array types; pg_dump's
configuration tables and the initial privileges it dumps (pg_init_privs); whether each schema
belongs to the extension's owner. Other owners are left out (both databases are made by the
same role).
"""

SCHEMAS = ("stripe", "stripe_secrets")

QUERIES = {
    "schemas": """
        SELECT n.nspname, n.nspacl::text, obj_description(n.oid, 'pg_namespace')
          FROM pg_namespace n WHERE n.nspname = ANY(%(schemas)s)""",
    "members": """
        SELECT pg_describe_object(d.classid, d.objid, d.objsubid)
          FROM pg_depend d JOIN pg_extension e ON d.refclassid = 'pg_extension'::regclass AND d.refobjid = e.oid
         WHERE e.extname = 'djstripe_pg' AND d.deptype = 'e'""",
    "relations": """
        SELECT c.oid::regclass::text, c.relkind, c.reloptions::text, c.relrowsecurity, c.relforcerowsecurity,
               c.relacl::text, obj_description(c.oid, 'pg_class'), c.relpersistence
          FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
         WHERE n.nspname = ANY(%(schemas)s) AND c.relkind <> 'i'""",
    "columns": """
        SELECT c.oid::regclass::text,
               row_number() OVER (PARTITION BY c.oid ORDER BY a.attnum), a.attname,
               format_type(a.atttypid, a.atttypmod), a.attnotnull, a.attgenerated, a.attidentity,
               pg_get_expr(ad.adbin, ad.adrelid), col_description(c.oid, a.attnum), a.attcollation::regcollation::text
          FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
          JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
          LEFT JOIN pg_attrdef ad ON ad.adrelid = c.oid AND ad.adnum = a.attnum
         WHERE n.nspname = ANY(%(schemas)s) AND c.relkind IN ('r', 'p', 'v', 'm', 'f', 'c')""",
    "constraints": """
        SELECT co.conrelid::regclass::text, co.conname, co.contype, pg_get_constraintdef(co.oid),
               obj_description(co.oid, 'pg_constraint')
          FROM pg_constraint co JOIN pg_namespace n ON n.oid = co.connamespace
         WHERE n.nspname = ANY(%(schemas)s)""",
    "indexes": """
        SELECT pg_get_indexdef(i.indexrelid), obj_description(i.indexrelid, 'pg_class')
          FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid JOIN pg_namespace n ON n.oid = c.relnamespace
         WHERE n.nspname = ANY(%(schemas)s)""",
    "triggers": """
        SELECT t.tgrelid::regclass::text, pg_get_triggerdef(t.oid), t.tgenabled
          FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid JOIN pg_namespace n ON n.oid = c.relnamespace
         WHERE n.nspname = ANY(%(schemas)s) AND NOT t.tgisinternal""",
    "policies": """
        SELECT p.polrelid::regclass::text, p.polname, p.polcmd, p.polpermissive,
               pg_get_expr(p.polqual, p.polrelid), pg_get_expr(p.polwithcheck, p.polrelid)
          FROM pg_policy p JOIN pg_class c ON c.oid = p.polrelid JOIN pg_namespace n ON n.oid = c.relnamespace
         WHERE n.nspname = ANY(%(schemas)s)""",
    "views": """
        SELECT c.oid::regclass::text, pg_get_viewdef(c.oid)
          FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
         WHERE n.nspname = ANY(%(schemas)s) AND c.relkind IN ('v', 'm')""",
    "sequences": """
        SELECT s.seqrelid::regclass::text, format_type(s.seqtypid, NULL), s.seqstart, s.seqincrement,
               s.seqmax, s.seqmin, s.seqcache, s.seqcycle
          FROM pg_sequence s JOIN pg_class c ON c.oid = s.seqrelid JOIN pg_namespace n ON n.oid = c.relnamespace
         WHERE n.nspname = ANY(%(schemas)s)""",
    "functions": """
        SELECT p.oid::regprocedure::text, pg_get_functiondef(p.oid), p.proacl::text,
               obj_description(p.oid, 'pg_proc')
          FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
         WHERE n.nspname = ANY(%(schemas)s) AND p.prokind IN ('f', 'p', 'w')""",
    "aggregates": """
        SELECT p.oid::regprocedure::text, p.proacl::text, obj_description(p.oid, 'pg_proc')
          FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
         WHERE n.nspname = ANY(%(schemas)s) AND p.prokind = 'a'""",
    "types": """
        SELECT t.oid::regtype::text, t.typtype, t.typacl::text, obj_description(t.oid, 'pg_type'),
               (SELECT string_agg(e.enumlabel, ',' ORDER BY e.enumsortorder) FROM pg_enum e WHERE e.enumtypid = t.oid)
          FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace
         WHERE n.nspname = ANY(%(schemas)s) AND t.typtype IN ('c', 'e', 'd', 'r')
           AND NOT EXISTS (SELECT 1 FROM pg_class c WHERE c.oid = t.typrelid AND c.relkind <> 'c')""",
    "arrays": """
        SELECT t.typname, t.typelem::regtype::text, t.typacl::text
          FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace
         WHERE n.nspname = ANY(%(schemas)s) AND t.typcategory = 'A'""",
    "init_privileges": """
        SELECT pg_describe_object(i.classoid, i.objoid, i.objsubid), i.privtype, i.initprivs::text
          FROM pg_init_privs i JOIN pg_depend d ON d.classid = i.classoid AND d.objid = i.objoid AND d.deptype = 'e'
          JOIN pg_extension e ON d.refclassid = 'pg_extension'::regclass AND d.refobjid = e.oid
         WHERE e.extname = 'djstripe_pg'""",
    "owners": """
        SELECT n.nspname, pg_get_userbyid(n.nspowner) = pg_get_userbyid(e.extowner)
          FROM pg_namespace n, pg_extension e
         WHERE n.nspname = ANY(%(schemas)s) AND e.extname = 'djstripe_pg'""",
    "dumped": """
        SELECT c.oid::regclass::text, x.cond
          FROM pg_extension e,
               unnest(e.extconfig, coalesce(e.extcondition, array_fill(NULL::text, ARRAY[cardinality(e.extconfig)])))
                 AS x(rel, cond)
          JOIN pg_class c ON c.oid = x.rel
         WHERE e.extname = 'djstripe_pg'""",
    "extension": """
        SELECT e.extversion, e.extrelocatable, e.extnamespace::regnamespace::text
          FROM pg_extension e WHERE e.extname = 'djstripe_pg'""",
}


def snapshot(conn, schemas=SCHEMAS):
    """{section: sorted list of rows (tuples of text)}; rows as the catalog has them."""
    out = {}
    for name, sql in QUERIES.items():
        rows = conn.execute(sql, {"schemas": list(schemas)}).fetchall()
        out[name] = sorted(tuple("" if v is None else str(v) for v in r) for r in rows)
    return out


def differences(a, b, limit=40):
    """Human-readable lines for what differs between two snapshots (a: expected, b: actual)."""
    lines = []
    for section in QUERIES:
        only_a = sorted(set(a[section]) - set(b[section]))
        only_b = sorted(set(b[section]) - set(a[section]))
        for row in only_a:
            lines.append(f"{section}: only in the fresh install: {short(row)}")
        for row in only_b:
            lines.append(f"{section}: only in the updated one:   {short(row)}")
    return lines[:limit] + ([f"… and {len(lines) - limit} more"] if len(lines) > limit else [])


def short(row, n=300):
    text = " | ".join(row)
    return text if len(text) <= n else text[:n] + "…"
