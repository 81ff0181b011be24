#!/usr/bin/env bash
# Retakes the upload page, dashboard and status page screenshots shown in the README (docs/screenshots/*.png): real headless Chromium at phone
# size (390×844 CSS pixels, 2× pixels), driven by the browser tests' ScreenshotTests against a real server.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
scripts/services.sh start browser
APERTUR_SCREENSHOTS="$root/docs/screenshots" dotnet test tests/Apertur.BrowserTests --nologo --filter "FullyQualifiedName~ScreenshotTests"
ls -l docs/screenshots
