#!/usr/bin/env bash
# same_charconv.sh NATIVE_CASES WEB_CASES_JS ARTIFACTS: runs tests/platforms/web/charconv_cases.cpp
# built natively (libstdc++) and by the web build (libc++ 13 + platforms/web/compat/charconv,
# under node) and requires identical output. Exit 77 (skipped) when there is no web build.
set -euo pipefail
native="$1" web="$2" artifacts="$3"
if [ ! -f "$web" ]; then
  echo "SKIPPED: no web build of the charconv cases ($web): build it with platforms/web/build"
  exit 77
fi
command -v node >/dev/null || { echo "SKIPPED: node is not installed"; exit 77; }
mkdir -p "$artifacts"
"$native" >"$artifacts/charconv-native.txt"
node "$web" >"$artifacts/charconv-web.txt"
lines=$(wc -l <"$artifacts/charconv-native.txt")
if [ "$lines" -lt 1000 ]; then
  echo "FAILED: the native cases printed only $lines lines"
  exit 1
fi
if ! diff -u "$artifacts/charconv-native.txt" "$artifacts/charconv-web.txt" >"$artifacts/charconv.diff"; then
  echo "FAILED: the web build's <charconv> differs from libstdc++'s ($(grep -c '^-[^-]' "$artifacts/charconv.diff") lines):"
  head -n 40 "$artifacts/charconv.diff"
  exit 1
fi
echo "PASSED: $lines lines identical"
