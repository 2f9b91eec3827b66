#!/usr/bin/env bash
# Load run of the scheduler mirror: PUT /api/v1/visits/{id} and
# GET /api/v1/invoices/{id} against `routeloop serve` on PostgreSQL (or SQLite
# with DB=sqlite). Everything runs on this machine over loopback; each wrk run
# is bounded by DURATION.
#   bash docs/load/run.sh            # Postgres, 20 s per run, 8 connections
#   DB=sqlite bash docs/load/run.sh
set -euo pipefail
cd "$(dirname "$0")/../.."
DURATION=${DURATION:-20s}
CONNS=${CONNS:-8}
ADDR=127.0.0.1:18089
command -v wrk >/dev/null || { apt-get update -qq && apt-get install -y -qq wrk; }

work=$(mktemp -d)
go build -o "$work/routeloop" ./cmd/routeloop
if [ "${DB:-postgres}" = "sqlite" ]; then
  export ROUTELOOP_DATABASE_URL=""
  export ROUTELOOP_DATA_DIR="$work/data"
else
  psql -q -h 127.0.0.1 -U postgres -d postgres -c "DROP DATABASE IF EXISTS routeloop_load" -c "CREATE DATABASE routeloop_load"
  export ROUTELOOP_DATABASE_URL="postgres://postgres@127.0.0.1:5432/routeloop_load?sslmode=disable"
  export ROUTELOOP_DB_MAX_CONNS=${ROUTELOOP_DB_MAX_CONNS:-16}
fi
export ROUTELOOP_LOG_LEVEL=warn
KEY=$("$work/routeloop" tenant create --name "Load test" --timezone America/Los_Angeles --currency USD --json |
  sed -E 's/.*"api_key":"([^"]+)".*/\1/')
export KEY
"$work/routeloop" serve --addr "$ADDR" >"$work/serve.log" 2>&1 &
server=$!
trap 'kill $server 2>/dev/null; wait $server 2>/dev/null; rm -rf "$work"' EXIT
for _ in $(seq 1 50); do curl -sf "http://$ADDR/readyz" >/dev/null && break; sleep 0.2; done

put() { curl -sf -X PUT -H 'Content-Type: application/json' -H "Authorization: Bearer $KEY" "http://$ADDR/api/v1/$1" -d "$2" >/dev/null; }
put crews/north '{"name":"North","depot_lat":45.55,"depot_lon":-122.66}'
for i in $(seq 0 99); do put "customers/c$i" "{\"name\":\"Customer $i\",\"lat\":45.5,\"lon\":-122.6}"; done
put visits/seed-1 '{"customer_id":"c1","crew_id":"north","service_date":"2026-05-05","price_cents":4500}'
put visits/seed-2 '{"customer_id":"c1","crew_id":"north","service_date":"2026-05-12","price_cents":4500}'
put invoices/inv-1 '{"customer_id":"c1","status":"issued","lines":[{"visit_id":"seed-1","description":"Mowing","amount_cents":4500},{"visit_id":"seed-2","description":"Mowing","amount_cents":4500}]}'

echo "== PUT /api/v1/visits/{id} (${DB:-postgres}, $CONNS connections, $DURATION)"
wrk -t2 -c"$CONNS" -d"$DURATION" --latency -s docs/load/put_visit.lua "http://$ADDR"
echo "== GET /api/v1/invoices/inv-1 (${DB:-postgres}, $CONNS connections, $DURATION)"
wrk -t2 -c"$CONNS" -d"$DURATION" --latency -H "Authorization: Bearer $KEY" "http://$ADDR/api/v1/invoices/inv-1"
