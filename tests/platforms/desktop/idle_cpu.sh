#!/usr/bin/env bash
# The desktop app, unlocked and left alone for 10 s under Xvfb, uses under 2% of one core
# (utime + stime from /proc/PID/stat). A screenshot before and after: $CK_ARTIFACTS/idle-*.png.
# usage: idle_cpu.sh CLUSTERKIT TEMPLATES_DIR ARTIFACTS_DIR [SECONDS] [LIMIT_PERCENT]
set -uo pipefail
CK_APP="$1"; TEMPLATES="$2"; CK_ARTIFACTS="$3"; SECONDS_IDLE="${4:-10}"; LIMIT="${5:-2}"
source "$(dirname "$0")/xvfb_lib.sh"
ck_require_tools

mkdir -p "$CK_ARTIFACTS"
WORK=$(mktemp -d "${TMPDIR:-/tmp}/ck-desktop-idle.XXXXXX")
export CK_TEST_LAYOUT_FILE="$WORK/layout.txt"
export CK_TEST_LAYOUT_NAMES="new_passphrase,confirm_passphrase,create,start_field-mini,lock"
PASS='Brass lamps 7 Moradabad!'

ck_start_xvfb
ck_start_app "$CK_ARTIFACTS/idle-app.log" --data "$WORK/data" --templates "$TEMPLATES" --test-kdf
ck_click new_passphrase 20
ck_type "$PASS"
ck_click confirm_passphrase
ck_type "$PASS"
ck_click create
ck_wait_item lock 30   # unlocked: the top bar shows Lock
sleep 1                 # let the last input frames settle
ck_shot idle-before

HZ=$(getconf CLK_TCK)
T0=$(ck_cpu_ticks "$CK_APP_PID")
S0=$(date +%s.%N)
sleep "$SECONDS_IDLE"
T1=$(ck_cpu_ticks "$CK_APP_PID")
S1=$(date +%s.%N)
ck_shot idle-after
[ -n "$(ck_item_rect lock)" ] || ck_fail "the app locked itself during the idle window; the test needs it unlocked"

read -r PCT OK <<<"$(awk -v t0="$T0" -v t1="$T1" -v s0="$S0" -v s1="$S1" -v hz="$HZ" -v lim="$LIMIT" \
    'BEGIN { p = 100 * (t1 - t0) / hz / (s1 - s0); printf "%.2f %d\n", p, (p < lim) }')"
ck_log "idle CPU over $(awk -v a="$S0" -v b="$S1" 'BEGIN{printf "%.1f", b-a}') s: ${PCT}% of one core (limit ${LIMIT}%), $((T1 - T0)) ticks"
[ "$OK" = 1 ] || ck_fail "idle CPU ${PCT}% >= ${LIMIT}%"
rm -rf "$WORK"
ck_log "PASS"
