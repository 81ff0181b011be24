#!/usr/bin/env bash
# Builds Release and runs the SSE streams memory benchmark (docs/performance.md "Memory after load: the GC settings"):
# 2,000 streams open, events, close, idle, once per GC configuration, each a fresh server process. Extra arguments go to
# the driver (e.g. --configs as-built,server --streams 1000 --idle 60). Prints a Markdown table.
set -euo pipefail
cd "$(dirname "$0")/.."
dotnet build -c Release src/Apertur.Server -nologo -v q
dotnet build -c Release bench/StreamsBench -nologo -v q
exec bench/StreamsBench/bin/Release/net10.0/StreamsBench --server-dll src/Apertur.Server/bin/Release/net10.0/Apertur.Server.dll "$@"
