#!/usr/bin/env bash
# same_argon2id.sh NATIVE_CASES WEB_CASES_JS ARTIFACTS: runs tests/platforms/web/argon2id_cases.cpp
# built natively (Debian's libsodium) and by the web build (libsodium in WebAssembly, under
# node) and requires the same Argon2id keys; then a vault made natively must open in
# the web build with the same keys, and one made in the web build natively; a wrong passphrase
# must be refused on both. Exit 77 (skipped) when there is no web build.
set -euo pipefail
native="$1" web="$2" artifacts="$3"
if [ ! -f "$web" ]; then
  echo "SKIPPED: no web build of the Argon2id cases ($web): build it with platforms/web/build"
  exit 77
fi
command -v node >/dev/null || { echo "SKIPPED: node is not installed"; exit 77; }
mkdir -p "$artifacts"
web_run() { node "$web" "$@"; }
"$native" >"$artifacts/argon2id-native.txt"
web_run >"$artifacts/argon2id-web.txt"
lines=$(wc -l <"$artifacts/argon2id-native.txt")
if [ "$lines" -lt 6 ]; then
  echo "FAILED: the native cases printed only $lines lines"
  exit 1
fi
if ! diff -u "$artifacts/argon2id-native.txt" "$artifacts/argon2id-web.txt"; then
  echo "FAILED: the web build's Argon2id differs from Debian libsodium's"
  exit 1
fi
pass="Field officer 2026 passphrase"
check_cross() {  # maker opener label
  local made record digest opened
  made="$("$1" make-vault "$pass")"
  record="$(sed -n 1p <<<"$made")" digest="$(sed -n 2p <<<"$made")"
  opened="$("$2" open-vault "$record" "$pass")"
  if [ "$opened" != "$digest" ]; then
    echo "FAILED: a vault made $3 does not open with the same keys ($opened, made with $digest)"
    exit 1
  fi
  if "$2" open-vault "$record" "$pass!" >"$artifacts/argon2id-wrong.txt"; then
    echo "FAILED: a vault made $3 opened with a wrong passphrase"
    exit 1
  fi
  grep -q "^refused: The passphrase is not right" "$artifacts/argon2id-wrong.txt" ||
    { echo "FAILED: a wrong passphrase was not refused as wrong: $(cat "$artifacts/argon2id-wrong.txt")"; exit 1; }
  echo "a vault made $3 opens there with the same data key and signer ($digest)"
}
check_cross "$native" web_run "natively, in the web build"
check_cross web_run "$native" "in the web build, natively"
echo "PASSED: $lines Argon2id cases identical"
