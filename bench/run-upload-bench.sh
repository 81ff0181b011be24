#!/usr/bin/env bash
# Builds Release and runs the upload throughput benchmark. Extra arguments go to the driver
# (e.g. --clients 32 --seconds 20 --sizes 1,20). Prints a Markdown table for docs/performance.md.
# The tus target (bench/tus) needs Node >= 20.19; its packages are installed from the lock file when it changed.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ ! bench/tus/node_modules/.package-lock.json -nt bench/tus/package-lock.json ]; then
  npm ci --prefix bench/tus --no-audit --no-fund --loglevel=error
fi
dotnet build -c Release src/Apertur.Server -nologo -v q
dotnet build -c Release bench/UploadBench -nologo -v q
exec bench/UploadBench/bin/Release/net10.0/UploadBench --server-dll src/Apertur.Server/bin/Release/net10.0/Apertur.Server.dll "$@"
