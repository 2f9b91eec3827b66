#!/usr/bin/env bash
# SQL statements per request of the mirror's hot endpoints, counted by
# PostgreSQL itself: `routeloop serve` runs on a fresh database with
# log_statement = 'all' (scheduled jobs off), each endpoint is called N
# times after a first call (which resolves the API key; the key is then
# cached for auth_cache_ttl), and the server log's statements of that
# database between two markers are counted. BEGIN and COMMIT count as
# statements. Needs read access to the PostgreSQL server log (LOG below).
#   bash docs/load/statements.sh
set -euo pipefail
cd "$(dirname "$0")/../.."
N=${N:-20}
ADDR=${ADDR:-127.0.0.1:18097}
LOG=${LOG:-$(ls -t /var/log/postgresql/postgresql-*.log | head -1)}
DB=rl_statements_$$
work=$(mktemp -d)
go build -o "$work/routeloop" ./cmd/routeloop
psql -q -h 127.0.0.1 -U postgres -d postgres -c "CREATE DATABASE $DB"
export ROUTELOOP_DATABASE_URL="postgres://postgres@127.0.0.1:5432/$DB?sslmode=disable" ROUTELOOP_JOBS=false ROUTELOOP_LOG_LEVEL=warn
KEY=$("$work/routeloop" tenant create --name "Statements" --timezone America/Los_Angeles --currency USD --json |
  sed -E 's/.*"api_key":"([^"]+)".*/\1/')
psql -q -h 127.0.0.1 -U postgres -d postgres -c "ALTER DATABASE $DB SET log_statement = 'all'"
"$work/routeloop" serve --addr "$ADDR" >"$work/serve.log" 2>&1 &
server=$!
trap 'kill $server 2>/dev/null; wait $server 2>/dev/null; rm -rf "$work";
  psql -q -h 127.0.0.1 -U postgres -d postgres -c "DROP DATABASE IF EXISTS $DB WITH (FORCE)"' EXIT
for _ in $(seq 1 50); do curl -sf "http://$ADDR/readyz" >/dev/null && break; sleep 0.2; done

call() { curl -sf -o /dev/null -X "$1" -H 'Content-Type: application/json' -H "Authorization: Bearer $KEY" "http://$ADDR/api/v1/$2" ${3:+-d "$3"}; }
call PUT crews/north '{"name":"North","depot_lat":45.55,"depot_lon":-122.66}'
for i in 1 2; do call PUT "customers/c$i" "{\"name\":\"Customer $i\",\"phone\":\"503 555 010$i\",\"lat\":45.5,\"lon\":-122.6,\"consent_same_day\":true}"; done
call PUT visits/seed '{"customer_id":"c1","crew_id":"north","service_date":"2026-05-05","status":"completed","price_cents":4500}'
call PUT invoices/inv-1 '{"customer_id":"c1","status":"draft","lines":[{"visit_id":"seed","description":"Mowing","amount_cents":4500}]}'

mark() { psql -q -h 127.0.0.1 -U postgres -d "$DB" -c "SELECT 'mark:$1'" >/dev/null; sleep 0.3; }
count() { # statements of the database between mark:$1 and mark:end-$1, per request
  awk -v db="@$DB " -v a="mark:$1'" -v b="mark:end-$1'" -v n="$N" '
    index($0, a) { on = 1; next } index($0, b) { on = 0 }
    on && index($0, db) && ($0 ~ /LOG:  (statement|execute)/) { k++ }
    END { printf "%.1f\n", k / n }' "$LOG"
}
measure() { # NAME METHOD PATH-PREFIX BODY: PATH-PREFIX gets a counter appended when it ends in -
  local name=$1 method=$2 path=$3 body=${4:-}
  call "$method" "${path/%-/-warm}" "$body"
  mark "$name"
  for i in $(seq 1 "$N"); do call "$method" "${path/%-/-$i}" "$body"; done
  mark "end-$name"
  echo "$name: $(count "$name") statements per request"
}
measure "GET /invoices/{id}" GET invoices/inv-1
measure "PUT /visits/{new id}" PUT visits/new- '{"customer_id":"c2","crew_id":"north","service_date":"2026-05-06","price_cents":4500}'
measure "PUT /visits/{same id}" PUT visits/seed '{"customer_id":"c1","crew_id":"north","service_date":"2026-05-05","status":"completed","price_cents":4600}'
measure "PUT /customers/{id}" PUT customers/c2 '{"name":"Customer 2 again","phone":"503 555 0102","lat":45.5,"lon":-122.6,"consent_same_day":true}'
measure "GET /visits?from&to&crew_id" GET 'visits?from=2026-05-01&to=2026-05-07&crew_id=north&limit=50'
mark referrals
for i in $(seq 1 "$N"); do
  call POST referrals "{\"channel\":\"card\",\"referrer_id\":\"c1\",\"referee\":{\"name\":\"Friend $i\",\"phone\":\"971 555 $((1000 + i))\"}}"
done
mark end-referrals
echo "POST /referrals: $(count referrals) statements per request"
