#!/usr/bin/env bash
# Builds Release and runs the delivery benchmark (latency at a steady upload rate, then throughput on a backlog), on
# SQLite and on the PostgreSQL test server (started by scripts/services.sh). Extra arguments go to the driver
# (e.g. --rate 50 --seconds 20 --backlog 6000 --databases sqlite). Prints Markdown tables for docs/performance.md.
#   bench/run-delivery-bench.sh --replicas 1,3 --databases postgres
#     the latency run with 1 and with 3 server processes on one PostgreSQL database and one S3 bucket (fauxqs, also
#     started here): 1 server; 3 with uploads round-robin ("spread"); 3 with uploads to A only, delivered by B and C ("split").
set -euo pipefail
cd "$(dirname "$0")/.."
services=(postgres)
for arg in "$@"; do
  if [ "$arg" = --replicas ]; then services+=(fauxqs); fi
done
scripts/services.sh start "${services[@]}"
dotnet build -c Release src/Apertur.Server -nologo -v q
dotnet build -c Release bench/DeliveryBench -nologo -v q
exec bench/DeliveryBench/bin/Release/net10.0/DeliveryBench --server-dll src/Apertur.Server/bin/Release/net10.0/Apertur.Server.dll "$@"
