#!/usr/bin/env bash
# Load run of the scheduler mirror against `routeloop serve` on PostgreSQL (or
# SQLite with DB=sqlite). Everything runs on this machine over loopback; each
# wrk run is bounded by DURATION.
#
# PROFILE=mirror (the default): PUT /api/v1/visits/{id}, then
# GET /api/v1/invoices/{id}, one after the other.
#
# PROFILE=mixed: one run of docs/load/mixed.lua — 40% GET invoice, 30% PUT
# visit (new ids), 10% PUT customer, 10% GET /api/v1/visits (a week, mostly
# of one crew, first pages and deeper ones), 10% POST /api/v1/referrals —
# over 1,000 customers, 4 crews, 200 invoices, REFERRALS earlier referrals
# (default 1,000: the program's history) and VISITS visits (default 30,000)
# written straight into the table in one statement, the way an import lands
# them. Before the import every table is analysed, as autovacuum does within
# a minute of a table's first rows (a referral program that has run has
# statistics of its referrals). The visits table is then left as the import
# leaves it: its statistics are those of the 200 visits before it
# (autovacuum off for visits; none on SQLite), so a list whose plan depends
# on the statistics shows it. The run itself grows the referrals and visits
# well past what their statistics say.
#
#   bash docs/load/run.sh                           # Postgres, 20 s per run, 8 connections
#   DB=sqlite bash docs/load/run.sh
#   PROFILE=mixed CONNS=16 bash docs/load/run.sh    # the mixed profile, 16 connections
set -euo pipefail
cd "$(dirname "$0")/../.."
DURATION=${DURATION:-20s}
CONNS=${CONNS:-8}
PROFILE=${PROFILE:-mirror}
VISITS=${VISITS:-30000}
REFERRALS=${REFERRALS:-1000}
ADDR=${ADDR:-127.0.0.1:18089}
DBNAME=${DBNAME:-routeloop_load}
command -v wrk >/dev/null || { apt-get update -qq && apt-get install -y -qq wrk; }

work=$(mktemp -d)
go build -o "$work/routeloop" ./cmd/routeloop
if [ "${DB:-postgres}" = "sqlite" ]; then
  export ROUTELOOP_DATABASE_URL=""
  export ROUTELOOP_DATA_DIR="$work/data"
else
  psql -q -h 127.0.0.1 -U postgres -d postgres -c "DROP DATABASE IF EXISTS $DBNAME" -c "CREATE DATABASE $DBNAME"
  export ROUTELOOP_DATABASE_URL="postgres://postgres@127.0.0.1:5432/$DBNAME?sslmode=disable"
  export ROUTELOOP_DB_MAX_CONNS=${ROUTELOOP_DB_MAX_CONNS:-16}
fi
export ROUTELOOP_LOG_LEVEL=warn
tenant_json=$("$work/routeloop" tenant create --name "Load test" --timezone America/Los_Angeles --currency USD --json)
KEY=$(echo "$tenant_json" | sed -E 's/.*"api_key":"([^"]+)".*/\1/')
TENANT=$(echo "$tenant_json" | sed -E 's/.*"tenant_id":"([^"]+)".*/\1/')
export KEY
"$work/routeloop" serve --addr "$ADDR" >"$work/serve.log" 2>&1 &
server=$!
trap 'kill $server 2>/dev/null; wait $server 2>/dev/null; rm -rf "$work"' EXIT
for _ in $(seq 1 50); do curl -sf "http://$ADDR/readyz" >/dev/null && break; sleep 0.2; done

put() { curl -sf -X PUT -H 'Content-Type: application/json' -H "Authorization: Bearer $KEY" "http://$ADDR/api/v1/$1" -d "$2" >/dev/null; }

if [ "$PROFILE" = "mirror" ]; then
  put crews/north '{"name":"North","depot_lat":45.55,"depot_lon":-122.66}'
  for i in $(seq 0 99); do put "customers/c$i" "{\"name\":\"Customer $i\",\"lat\":45.5,\"lon\":-122.6}"; done
  put visits/seed-1 '{"customer_id":"c1","crew_id":"north","service_date":"2026-05-05","price_cents":4500}'
  put visits/seed-2 '{"customer_id":"c1","crew_id":"north","service_date":"2026-05-12","price_cents":4500}'
  put invoices/inv-1 '{"customer_id":"c1","status":"issued","lines":[{"visit_id":"seed-1","description":"Mowing","amount_cents":4500},{"visit_id":"seed-2","description":"Mowing","amount_cents":4500}]}'

  echo "== PUT /api/v1/visits/{id} (${DB:-postgres}, $CONNS connections, $DURATION)"
  wrk -t2 -c"$CONNS" -d"$DURATION" --latency -s docs/load/put_visit.lua "http://$ADDR"
  echo "== GET /api/v1/invoices/inv-1 (${DB:-postgres}, $CONNS connections, $DURATION)"
  wrk -t2 -c"$CONNS" -d"$DURATION" --latency -H "Authorization: Bearer $KEY" "http://$ADDR/api/v1/invoices/inv-1"
  exit 0
fi

[ "$PROFILE" = "mixed" ] || { echo "PROFILE must be mirror or mixed" >&2; exit 2; }

# The API's own writes: crews, customers (normalised phones, codes, cells)
# and invoices, through HTTP from one process with a few threads.
echo "== seeding: 4 crews, 1,000 customers, 200 invoices, $REFERRALS referrals through the API"
python3 - "http://$ADDR" "$KEY" "$REFERRALS" <<'PY'
import json, sys, urllib.request
from concurrent.futures import ThreadPoolExecutor
base, key, REFERRALS = sys.argv[1], sys.argv[2], int(sys.argv[3])
def put(path, body):
    req = urllib.request.Request(base + "/api/v1/" + path, data=json.dumps(body).encode(), method="PUT",
        headers={"Authorization": "Bearer " + key, "Content-Type": "application/json"})
    with urllib.request.urlopen(req) as r:
        assert r.status in (200, 201), (path, r.status)
for i, crew in enumerate(["north", "south", "east", "west"]):
    put("crews/" + crew, {"name": crew.title(), "depot_lat": 45.5 + i * 0.02, "depot_lon": -122.6})
def customer(i):
    put("customers/c%d" % i, {"name": "Customer %d" % i, "email": "c%d@example.com" % i, "phone": "503 %03d %04d" % (200 + i // 10000, i % 10000),
        "address": "%d Elm St" % i, "lat": 45.45 + (i % 40) * 0.003, "lon": -122.65 + (i // 40) * 0.003, "consent_same_day": True})
def post(path, body):
    req = urllib.request.Request(base + "/api/v1/" + path, data=json.dumps(body).encode(), method="POST",
        headers={"Authorization": "Bearer " + key, "Content-Type": "application/json"})
    with urllib.request.urlopen(req) as r:
        assert r.status in (200, 201), (path, r.status)
def referral(i):
    # The program's history: a friend a referrer named before, by phone
    # (every other one with an e-mail too), on a card or through a link.
    friend = {"name": "Earlier friend %d" % i, "phone": "360 %03d %04d" % (200 + i // 10000, i % 10000)}
    if i % 2:
        friend["email"] = "friend%d@example.net" % i
    post("referrals", {"channel": "card" if i % 3 else "link", "referrer_id": "c%d" % ((i * 7) % 1000), "referee": friend})
def invoice(i):
    put("visits/inv-visit-%d" % i, {"customer_id": "c%d" % i, "crew_id": "north", "service_date": "2026-05-05", "status": "completed", "price_cents": 6000})
    put("invoices/inv-%d" % i, {"customer_id": "c%d" % i, "status": "draft",
        "lines": [{"visit_id": "inv-visit-%d" % i, "description": "Mowing", "amount_cents": 6000}]})
with ThreadPoolExecutor(4) as ex:
    list(ex.map(customer, range(1000)))
    list(ex.map(invoice, range(1, 201)))
    list(ex.map(referral, range(REFERRALS)))
PY

# The visits, as an import lands them: one statement, no ANALYZE after it
# (the tables before it are analysed).
echo "== seeding: $VISITS visits in one statement, over 120 days from 2026-03-01"
bulk="INSERT INTO visits (tenant_id, external_id, customer_id, crew_id, service_date, route_position, status,
        price_cents, source, created_at, updated_at)
      SELECT '$TENANT', 'bulk-' || g, c.id, cr.id, DATE_ARG, g % 20,
             CASE WHEN g % 3 = 0 THEN 'completed' ELSE 'scheduled' END, 4500, 'scheduler', NOW_ARG, NOW_ARG
      FROM SERIES
      JOIN customers c ON c.tenant_id = '$TENANT' AND c.external_id = 'c' || (g % 1000)
      JOIN crews cr ON cr.tenant_id = '$TENANT' AND cr.external_id = (CASE g % 4 WHEN 0 THEN 'north' WHEN 1 THEN 'south' WHEN 2 THEN 'east' ELSE 'west' END)"
if [ "${DB:-postgres}" = "sqlite" ]; then
  day="date('2026-03-01', '+' || (g % 120) || ' days')" now="strftime('%Y-%m-%d %H:%M:%f+00:00', 'now')"
  series="(WITH RECURSIVE s(g) AS (SELECT 1 UNION ALL SELECT g + 1 FROM s WHERE g < $VISITS) SELECT g FROM s) s"
else
  day="DATE '2026-03-01' + (g % 120)" now="now()" series="generate_series(1, $VISITS) g"
fi
q=${bulk//DATE_ARG/"$day"}; q=${q//NOW_ARG/"$now"}; q=${q//SERIES/"$series"}
if [ "${DB:-postgres}" = "sqlite" ]; then
  sqlite3 -cmd ".timeout 10000" "$ROUTELOOP_DATA_DIR/routeloop.db" "$q; DROP TABLE IF EXISTS sqlite_stat1;"
else
  psql -q -h 127.0.0.1 -U postgres -d "$DBNAME" -c "ANALYZE" -c "ALTER TABLE visits SET (autovacuum_enabled = false)" -c "$q"
fi

echo "== mixed profile (${DB:-postgres}, $CONNS connections, $DURATION)"
wrk -t2 -c"$CONNS" -d"$DURATION" --latency -s docs/load/mixed.lua "http://$ADDR"

# Where the time went, by route, as the server measured it (its /metrics):
# requests, mean, and the share answered in more than 50 ms.
echo "== server-side, by route (mixed run only)"
curl -sf "http://$ADDR/metrics" | python3 -c '
import re, sys, collections
cnt, tot, le50 = collections.Counter(), collections.Counter(), collections.Counter()
for line in sys.stdin:
    m = re.match(r"routeloop_http_request_duration_seconds_(count|sum|bucket)\{(.*)\} (\S+)", line)
    if not m: continue
    kind, labels, v = m.group(1), dict(re.findall(r"(\w+)=\"([^\"]*)\"", m.group(2))), float(m.group(3))
    k = labels["method"] + " " + labels["route"]
    if kind == "count": cnt[k] = v
    elif kind == "sum": tot[k] = v
    elif labels.get("le") == "0.05": le50[k] = v
for k in sorted(cnt, key=lambda k: -cnt[k]):
    if cnt[k] >= 100:
        print("%-45s %7d  mean %6.1f ms  over 50 ms %5.1f%%" % (k, cnt[k], 1000 * tot[k] / cnt[k], 100 * (1 - le50[k] / cnt[k])))
'
