#!/usr/bin/env bash
# The one test command: installs and starts the servers the tests need, runs every test project, and prints a
# final plain "N passed, N failed" line. Extra arguments go to `dotnet test` (e.g. --filter Name~Upload).
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"

scripts/services.sh start

# The deployment tests run the server as operators do: the self-contained published build (docs/deploy.md).
published="$root/artifacts/published"
dotnet publish src/Apertur.Server -c Release -r linux-x64 --self-contained -o "$published" --nologo -v q
export APERTUR_PUBLISHED_SERVER="$published/Apertur.Server"

export APERTUR_TEST_POSTGRES="${APERTUR_TEST_POSTGRES:-Host=127.0.0.1;Port=55432;Username=postgres;Database=postgres;Pooling=true}"
results="$root/TestResults"
rm -rf "$results"

status=0
dotnet test Apertur.slnx --nologo --logger "trx" --results-directory "$results" "$@" || status=$?

# Sum the counters of every TRX file: CI reads the last line.
python3 - "$results" <<'PY'
import glob, sys, xml.etree.ElementTree as ET
passed = failed = skipped = 0
for f in glob.glob(sys.argv[1] + "/*.trx"):
    c = ET.parse(f).getroot().find(".//{*}ResultSummary/{*}Counters")
    if c is None: continue
    passed += int(c.get("passed", 0)); failed += int(c.get("failed", 0)) + int(c.get("error", 0)) + int(c.get("timeout", 0))
    skipped += int(c.get("notExecuted", 0))
line = f"{passed} passed, {failed} failed"
if skipped: line += f", {skipped} skipped"
print(line)
PY
exit $status
