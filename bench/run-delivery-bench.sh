#!/usr/bin/env bash
# Builds Release and runs the delivery benchmark (latency at a steady upload rate, then throughput on a backlog), on
# SQLite and on the PostgreSQL test server (started by scripts/services.sh). Extra arguments go to the driver
# (e.g. --rate 50 --seconds 20 --backlog 6000 --databases sqlite). Prints Markdown tables for docs/performance.md.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/services.sh start postgres
dotnet build -c Release src/Apertur.Server -nologo -v q
dotnet build -c Release bench/DeliveryBench -nologo -v q
exec bench/DeliveryBench/bin/Release/net10.0/DeliveryBench --server-dll src/Apertur.Server/bin/Release/net10.0/Apertur.Server.dll "$@"
