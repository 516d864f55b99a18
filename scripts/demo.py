"""The demo's steps after the cluster is up (see demo.sh). Standard library only.

The API key arrives on stdin so it never shows in a process list.
"""
import argparse, hashlib, hmac, json, subprocess, sys, time, urllib.parse, urllib.request

WEBHOOK_SECRET = "whsec_demo_signing_secret"


def api(base, key, method, path, form=None):
    data = urllib.parse.urlencode(form).encode() if form else None
    req = urllib.request.Request(base + path, data=data, method=method,
                                 headers={"Authorization": "Bearer " + key})
    with urllib.request.urlopen(req, timeout=30) as r:
        return json.load(r)


def psql(cmd, sql, **variables):
    """Runs SQL through psql; variables are passed with -v and used as :'name' (quoted)."""
    args = cmd.split()
    for k, v in variables.items():
        args += ["-v", f"{k}={v}"]
    subprocess.run(args, input=sql, text=True, check=True)


def sql_literal(s):
    """The key goes inside the SQL text on psql's stdin, never on a command line."""
    return "'" + s.replace("'", "''") + "'"


def seed(base, key):
    for name, email in [("Ada Lovelace", "ada@example.com"), ("Grace Hopper", "grace@example.com"),
                        ("Alan Turing", "alan@example.com")]:
        api(base, key, "POST", "/v1/customers", {"name": name, "email": email})
    for name, amount in [("Pro", 2000), ("Team", 9900)]:
        prod = api(base, key, "POST", "/v1/products", {"name": name})
        # localstripe predates Prices; a plan is the same thing under its older name.
        api(base, key, "POST", "/v1/plans", {"product": prod["id"], "amount": amount,
                                              "currency": "usd", "interval": "month"})


def newest_event(base, key):
    """The most recent customer event. localstripe lists oldest-first, Stripe newest-first."""
    events = api(base, key, "GET", "/v1/events?limit=100")["data"]
    events = [e for e in events if e["type"].startswith("customer.")] or events
    return max(events, key=lambda e: (e["created"], events.index(e))) if events else None


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--api-base", required=True)
    p.add_argument("--psql", required=True)
    p.add_argument("--seed", default="no")
    a = p.parse_args()
    key = sys.stdin.readline().strip()

    if a.seed == "yes":
        seed(a.api_base, key)
    print("\n-- CREATE EXTENSION, configure, sync customers and products")
    psql(a.psql, """
        CREATE EXTENSION djstripe_pg;
        SELECT stripe.set_api_key(%s);
        SELECT stripe.add_webhook_secret(:'secret');
        ALTER DATABASE postgres SET stripe.api_base = :'base';
        SET stripe.api_base = :'base';
        SELECT stripe.sync('customer') AS customers_synced;
        SELECT stripe.sync('product') AS products_synced;
        SELECT object_type, objects, status FROM stripe.sync_all()
         WHERE object_type IN ('price', 'plan', 'subscription', 'invoice');
    """ % sql_literal(key), secret=WEBHOOK_SECRET, base=a.api_base)

    if a.seed == "yes":  # a change after the sync, so the webhook has something to bring
        cus = api(a.api_base, key, "GET", "/v1/customers?limit=1")["data"][0]
        api(a.api_base, key, "POST", f"/v1/customers/{cus['id']}", {"email": "ada.lovelace@example.com"})
    event = newest_event(a.api_base, key)
    if event:
        payload = json.dumps(event)
        t = int(time.time())
        sig = hmac.new(WEBHOOK_SECRET.encode(), f"{t}.{payload}".encode(), hashlib.sha256).hexdigest()
        print(f"\n-- one signed webhook: {event['type']} {event['id']}")
        psql(a.psql, "SELECT stripe.ingest_webhook(:'payload', :'sig') AS result;",
             payload=payload, sig=f"t={t},v1={sig}")

    query = """
SELECT c.id, c.email, c.name, c.synced_from, e.type AS last_event, e.status
FROM stripe.customers c
LEFT JOIN LATERAL (SELECT type, status FROM stripe.events ev
                   WHERE ev.object_id = c.id ORDER BY created DESC LIMIT 1) e ON true
ORDER BY c.created, c.id;

SELECT p.name AS product, coalesce(pr.id, pl.id) AS price,
       coalesce(pr.unit_amount, pl.amount) AS unit_amount, coalesce(pr.currency, pl.currency) AS currency,
       coalesce(pr.recurring_interval, pl.interval) AS "interval"
FROM stripe.products p
LEFT JOIN stripe.prices pr ON pr.product = p.id
LEFT JOIN stripe.plans pl ON pl.product = p.id AND pr.id IS NULL
WHERE NOT p.deleted ORDER BY p.name;
"""
    print("\n-- the mirror, joined:" + query)
    psql(a.psql, query)


if __name__ == "__main__":
    main()
