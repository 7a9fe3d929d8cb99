#!/usr/bin/env bash
# The web field app's autosave in Chromium: from each answer change (one keystroke, one
# autosave) to its copy in IndexedDB being complete ("saved"), median and p99, and memory with
# a visit open. Runs tests/platforms/web/web_storage.py (the CTest's flow, all its checks) with
# SAVES more keystrokes (default 300) typed and taken back in the visit. Not pass/fail.
#   tests/bench/bench_web_storage.sh [SAVES]    (needs platforms/web/build first)
set -euo pipefail
cd "$(dirname "$0")/../.."
saves="${1:-300}"
site="${CK_WEB_BUILD:-build-web}/web"
out="${TMPDIR:-/tmp}/ck-bench-web-storage.$$"
echo "load average: $(cut -d' ' -f1-3 /proc/loadavg)"
/usr/bin/python3 tests/platforms/web/web_storage.py "$site" "$out" --saves "$saves" | grep -E "autosave|memory|IndexedDB after|PASSED|FAILED|SKIPPED"
rm -rf "$out"
