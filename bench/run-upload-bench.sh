#!/usr/bin/env bash
# Builds Release and runs the upload throughput benchmark. Extra arguments go to the driver
# (e.g. --clients 32 --seconds 20 --sizes 1,20). Prints a Markdown table for docs/performance.md.
# The tus target (bench/tus) needs Node >= 20.19; its packages are installed from the lock file when it changed.
#   --postgres   Apertur on PostgreSQL instead of SQLite: the benchmarks' own PostgreSQL with its durability settings on
#                (scripts/services.sh start postgres_durable, port 55433), a fresh database per run.
set -euo pipefail
cd "$(dirname "$0")/.."
args=()
for a in "$@"; do
  if [ "$a" = "--postgres" ]; then
    scripts/services.sh start postgres_durable
    args+=(--database-provider postgres --database-connection "Host=127.0.0.1;Port=${APERTUR_PG_DURABLE_PORT:-55433};Username=postgres;Database=postgres")
  else
    args+=("$a")
  fi
done
if [ ! bench/tus/node_modules/.package-lock.json -nt bench/tus/package-lock.json ]; then
  npm ci --prefix bench/tus --no-audit --no-fund --loglevel=error
fi
dotnet build -c Release src/Apertur.Server -nologo -v q
dotnet build -c Release bench/UploadBench -nologo -v q
exec bench/UploadBench/bin/Release/net10.0/UploadBench --server-dll src/Apertur.Server/bin/Release/net10.0/Apertur.Server.dll "${args[@]}"
