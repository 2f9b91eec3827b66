#!/usr/bin/env bash
# Signed inbound visit.upserted webhooks (BenchmarkInboundWebhook and
# BenchmarkInboundWebhookManyCustomers, eight deliveries at a time, each
# verified, decoded and applied with its inbox claim and result in one
# transaction) side by side with pgbench simple-update (-N, 8 clients) on the
# same PostgreSQL server in the same run; prints each rate and its ratio.
#   bash docs/load/webhook-vs-pgbench.sh [SECONDS=10]
set -euo pipefail
cd "$(dirname "$0")/../.."
S=${1:-10}
DB=anchor_webhook_$$
psql -q -h 127.0.0.1 -U postgres -d postgres -c "CREATE DATABASE $DB"
trap 'psql -q -h 127.0.0.1 -U postgres -d postgres -c "DROP DATABASE IF EXISTS $DB WITH (FORCE)"' EXIT
pgbench -h 127.0.0.1 -U postgres -i -s 10 -q "$DB" >/dev/null 2>&1
upd=$(pgbench -h 127.0.0.1 -U postgres -n -M prepared -N -c 8 -j 2 -T "$S" "$DB" 2>/dev/null | awk '/^tps/ {print int($3)}')
out=$(go test ./internal/webhook -run x -bench 'InboundWebhook' -benchtime "${S}s" 2>&1)
echo "$out" | grep Benchmark
echo "$out" | awk -v upd="$upd" '/^BenchmarkInboundWebhook/ {
  for (i = 1; i <= NF; i++) if ($(i+1) == "webhooks/s") r = $i
  name = $1; sub(/-[0-9]+$/, "", name)
  printf "%s: %d/s vs pgbench simple-update %d/s (ratio %.2f)\n", name, r, upd, r / upd }'
