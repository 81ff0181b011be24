#!/usr/bin/env bash
# Builds Release and runs the history benchmark (docs/performance.md "History"): the stats API, the dashboard overview, the
# dashboard delivery log and the sessions list's last page at 1,000, 50,000 and 200,000 images, on SQLite and on the
# PostgreSQL test server (started by scripts/services.sh). Extra arguments go to the driver
# (e.g. --databases sqlite --sizes 1000,50000 --requests 200 --warmup 20). Prints a Markdown table.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/services.sh start postgres
dotnet build -c Release src/Apertur.Server -nologo -v q
dotnet build -c Release bench/HistoryBench -nologo -v q
exec bench/HistoryBench/bin/Release/net10.0/HistoryBench --server-dll src/Apertur.Server/bin/Release/net10.0/Apertur.Server.dll "$@"
