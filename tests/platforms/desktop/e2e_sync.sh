#!/usr/bin/env bash
# Real-window end-to-end test of enrolment and sync under Xvfb, with real key presses and
# clicks (xdotool) against a real `ck-aggregator serve` process on loopback: the aggregator is
# initialised, publishes the test template and issues an enrolment slip; a visit is finished
# with the headless field client before enrolment (it waits, encrypted); in the app the
# officer unlocks, types the slip on the Enrolment screen, presses Enrol, then Sync now.
# At the end the aggregator holds the visit and the outbox says it is acknowledged.
# Screenshots of every step: $CK_ARTIFACTS/sync-*.png.
#
# usage: e2e_sync.sh CLUSTERKIT CK_FIELD CK_AGGREGATOR TEMPLATES_DIR ARTIFACTS_DIR
set -uo pipefail
CK_APP="$1"; CK_FIELD="$2"; CK_AGG="$3"; TEMPLATES="$4"; CK_ARTIFACTS="$5"
source "$(dirname "$0")/xvfb_lib.sh"
ck_require_tools

AGG_PID=""
ck_stop_aggregator() {
    if [ -n "$AGG_PID" ] && kill -0 "$AGG_PID" 2>/dev/null; then
        kill "$AGG_PID" 2>/dev/null
        for _ in $(seq 1 50); do kill -0 "$AGG_PID" 2>/dev/null || break; sleep 0.1; done
        kill -9 "$AGG_PID" 2>/dev/null
        wait "$AGG_PID" 2>/dev/null
    fi
    AGG_PID=""
}
trap 'ck_stop_aggregator; ck_cleanup' EXIT

mkdir -p "$CK_ARTIFACTS"
rm -f "$CK_ARTIFACTS"/sync-*.png
WORK=$(mktemp -d "${TMPDIR:-/tmp}/ck-desktop-sync.XXXXXX")
DATA="$WORK/data"
AGG="$WORK/aggregator"
LOG="$CK_ARTIFACTS/sync-app.log"
AGG_LOG="$CK_ARTIFACTS/sync-aggregator.log"
: >"$LOG"; : >"$AGG_LOG"
export CK_TEST_LAYOUT_FILE="$WORK/layout.txt"
export CK_TEST_LAYOUT_NAMES="unlock_passphrase,unlock,lock,tab_Sync,tab_Enrolment,enrol_string,enrol_string_target,enrol_address,enrol_pin,enrol_code,enrol_label,enrol,data_key_fingerprint,sync_now,cancel_sync"
PASS='Brass lamps 7 Moradabad!'
export CK_PASSPHRASE="$PASS"
export CK_ADMIN_PASSPHRASE='Moradabad aggregator 2026!'

# 1. The aggregator: init, publish the template, serve on a free port, an enrolment slip
#    whose enrolment string names that port.
"$CK_AGG" init --data "$AGG" --host 127.0.0.1 --name "Moradabad test" --test-kdf >>"$AGG_LOG" 2>&1 \
    || ck_fail "ck-aggregator init failed: $(tail -5 "$AGG_LOG")"
"$CK_AGG" templates publish "$TEMPLATES/field-mini.json" --data "$AGG" >>"$AGG_LOG" 2>&1 \
    || ck_fail "ck-aggregator templates publish failed: $(tail -5 "$AGG_LOG")"
"$CK_AGG" serve --data "$AGG" --listen 127.0.0.1:0 >"$WORK/serve.out" 2>>"$AGG_LOG" &
AGG_PID=$!
for _ in $(seq 1 200); do
    grep -q '^ready' "$WORK/serve.out" 2>/dev/null && break
    kill -0 "$AGG_PID" 2>/dev/null || ck_fail "ck-aggregator serve exited: $(tail -5 "$AGG_LOG")"
    sleep 0.1
done
grep -q '^ready' "$WORK/serve.out" || ck_fail "ck-aggregator serve not ready within 20 s"
URL=$(awk '$1 == "serving" { print $2; exit }' "$WORK/serve.out")
[ -n "$URL" ] || ck_fail "no address in the serve output: $(cat "$WORK/serve.out")"
ck_log "aggregator at $URL"
SLIP=$("$CK_AGG" enrol --data "$AGG" --officer Priya --cluster moradabad-brass --server "$URL" 2>>"$AGG_LOG") \
    || ck_fail "ck-aggregator enrol failed: $(tail -5 "$AGG_LOG")"
ck_log "slip: $(tr '\n' ';' <<<"$SLIP")"
STRING=$(awk '$1 == "enrolment" && $2 == "string:" { print $3; exit }' <<<"$SLIP")
[ -n "$STRING" ] || ck_fail "no enrolment string on the slip: $SLIP"

# 2. A visit finished before enrolment, with the headless field client on the app's folder.
"$CK_FIELD" init "$DATA" --test-kdf >/dev/null || ck_fail "ck-field init failed"
"$CK_FIELD" import-template "$DATA" "$TEMPLATES/field-mini.json" >/dev/null || ck_fail "ck-field import-template failed"
printf '{"unit_name": "Shree Ganesh Brass Works", "workers": 37, "owner_remark": "Power cuts"}\n' >"$WORK/answers.json"
NEW=$("$CK_FIELD" new-visit "$DATA" field-mini "$WORK/answers.json") || ck_fail "ck-field new-visit failed: $NEW"
VISIT_ID=$(head -1 <<<"$NEW" | tr -d '[:space:]')
[ -n "$VISIT_ID" ] || ck_fail "no visit id from ck-field new-visit: $NEW"
"$CK_FIELD" finalise "$DATA" "$VISIT_ID" >/dev/null || ck_fail "ck-field finalise $VISIT_ID failed"
OUTBOX=$("$CK_FIELD" outbox "$DATA")
ck_log "outbox before enrolment: $OUTBOX"

# 3. The app: unlock, Enrolment, type the slip's enrolment string, Enrol.
ck_start_xvfb
ck_start_app "$LOG" --data "$DATA" --templates "$TEMPLATES" --test-kdf
ck_wait_item unlock_passphrase 20
ck_click unlock_passphrase
ck_type "$PASS"
ck_click unlock
ck_wait_item tab_Enrolment 30
ck_click tab_Enrolment
ck_wait_item enrol_string
ck_shot sync-01-enrolment
ck_click enrol_string
ck_type "$STRING"
ck_wait_item enrol_string_target 10  # the screen decoded it and says where it enrols
ck_click enrol_label
ck_type "Desktop test"
ck_shot sync-02-slip-typed
ck_click enrol
ck_wait_item data_key_fingerprint 30
ck_shot sync-03-enrolled

# 4. Sync now; wait until the button is back (the sync finished).
ck_click tab_Sync
ck_wait_item sync_now
ck_shot sync-04-sync-screen
ck_click sync_now
sleep 1
ck_wait_item sync_now 60
sleep 0.5
ck_shot sync-05-synced
ck_key ctrl+q
ck_wait_app_exit 20
[ "$CK_APP_STATUS" = 0 ] || ck_fail "clusterkit exited with $CK_APP_STATUS on close"

# 5. The outbox says acknowledged; the aggregator has the visit.
OUTBOX=$("$CK_FIELD" outbox "$DATA") || ck_fail "ck-field outbox failed"
ck_log "outbox after sync: $OUTBOX"
grep "$VISIT_ID" <<<"$OUTBOX" | grep -qi "acknowledged" || ck_fail "visit $VISIT_ID not acknowledged: $OUTBOX"
ck_stop_aggregator
"$CK_AGG" export --data "$AGG" --out "$WORK/export" >>"$AGG_LOG" 2>&1 || ck_log "export failed (see $AGG_LOG)"
grep -rqs "Shree Ganesh Brass Works" "$WORK/export" || ck_fail "the aggregator's export lacks the visit (see $AGG_LOG)"

rm -rf "$WORK"
ck_log "PASS"
