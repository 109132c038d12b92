#!/usr/bin/env bash
# Render the leadership report as HTML from a fresh demo database and screenshot it in
# headless Chromium, to look at the inline SVG burn-down charts in a real browser.
#
#   scripts/check_report_in_browser.sh [QUARTER] [OUT_DIR]
#
# QUARTER defaults to the current one (UTC); OUT_DIR to a new temporary directory.
# Needs chromium (Debian: apt-get update && apt-get install -y chromium).
# Prints the paths of report.html and report.png; open the PNG and check that each
# objective with budget data has a chart: a blue line of budget remaining, axes with
# percent and time labels, and a dashed red line at 0 (budget exhausted).
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
python="${PYTHON:-$here/.venv/bin/python}"
quarter="${1:-$("$python" -c 'from datetime import datetime, timezone; from domain.quarters import quarter_of; print(quarter_of(datetime.now(timezone.utc)))')}"
out="${2:-$(mktemp -d)}"
browser="$(command -v chromium || command -v chromium-browser || command -v google-chrome || true)"
if [[ -z "$browser" ]]; then
  echo "no chromium found: apt-get update && apt-get install -y chromium" >&2
  exit 2
fi

mkdir -p "$out"
export SLOGOV_DATABASE_URL="sqlite+aiosqlite:///$out/demo.db"
cd "$here"
"$python" -m api.cli demo
"$python" -m api.cli report --quarter "$quarter" --format html --output "$out/report.html"
"$browser" --headless --no-sandbox --disable-gpu --disable-quic --no-first-run \
  --disable-background-networking --disable-component-update --disable-sync \
  --user-data-dir="$(mktemp -d)" --screenshot="$out/report.png" --window-size=1200,1600 \
  "file://$out/report.html" 2>/dev/null
test -s "$out/report.png"
echo "$out/report.html"
echo "$out/report.png"
