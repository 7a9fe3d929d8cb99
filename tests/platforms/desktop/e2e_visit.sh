#!/usr/bin/env bash
# Real-window end-to-end test of the desktop field app under Xvfb, driven with real key presses
# and clicks (xdotool): first run (passphrase twice), start a visit, answer two questions,
# close the app mid-visit (Ctrl+Q, the window's close path), restart, unlock, resume and find the
# answers, answer the rest, review, finalise; then read the store with the headless field client.
# Screenshots of every step: $CK_ARTIFACTS/e2e-*.png.
#
# usage: e2e_visit.sh CLUSTERKIT CK_FIELD TEMPLATES_DIR ARTIFACTS_DIR
# Widgets are found by the names the app gives them (FieldApp::itemRect), which the platform
# writes to CK_TEST_LAYOUT_FILE; keys and clicks are real X events.
set -uo pipefail
CK_APP="$1"; CK_FIELD="$2"; TEMPLATES="$3"; CK_ARTIFACTS="$4"
source "$(dirname "$0")/xvfb_lib.sh"
ck_require_tools

mkdir -p "$CK_ARTIFACTS"
rm -f "$CK_ARTIFACTS"/e2e-*.png
WORK=$(mktemp -d "${TMPDIR:-/tmp}/ck-desktop-e2e.XXXXXX")
DATA="$WORK/data"
LOG="$CK_ARTIFACTS/e2e-app.log"
: >"$LOG"
export CK_TEST_LAYOUT_FILE="$WORK/layout.txt"
export CK_TEST_LAYOUT_NAMES="new_passphrase,confirm_passphrase,create,unlock_passphrase,unlock,start_field-mini,answer,next,previous,review,finalise,first_problem,lock,lang_hi,language"
PASS='Brass lamps 7 Moradabad!'
export CK_PASSPHRASE="$PASS"

ck_start_xvfb

# 1. First run: passphrase twice, create the vault.
ck_start_app "$LOG" --data "$DATA" --templates "$TEMPLATES" --test-kdf
ck_wait_item new_passphrase 20
ck_shot e2e-01-first-run
ck_click new_passphrase
ck_type "$PASS"
ck_click confirm_passphrase
ck_type "$PASS"
ck_shot e2e-02-passphrase-typed
ck_click create
ck_wait_item start_field-mini 30
ck_shot e2e-03-visits

# 2. Start a visit, answer two questions by typing.
ck_click start_field-mini
ck_wait_item answer
ck_click answer
ck_type "Shree Ganesh Brass Works"
ck_shot e2e-04-q1-answered
ck_click next
sleep 0.5
ck_click answer
ck_type "37"
ck_shot e2e-05-q2-answered
ck_click next
sleep 0.5
ck_shot e2e-06-q3-before-close

# 3. Close in the middle of the visit.
ck_key ctrl+q
ck_wait_app_exit 20
[ "$CK_APP_STATUS" = 0 ] || ck_fail "clusterkit exited with $CK_APP_STATUS on close"
ck_log "closed mid-visit"

VISITS=$("$CK_FIELD" visits "$DATA") || ck_fail "ck-field visits failed: $VISITS"
ck_log "store after close: $VISITS"
VISIT_ID=$(awk '/field-mini@/ { print $1; exit }' <<<"$VISITS")
[ -n "$VISIT_ID" ] || ck_fail "no field-mini visit in the store after closing"
grep -q "draft" <<<"$VISITS" || ck_fail "the visit is not a draft after closing: $VISITS"
SHOW=$("$CK_FIELD" show "$DATA" "$VISIT_ID") || ck_fail "ck-field show failed"
grep -q "Shree Ganesh Brass Works" <<<"$SHOW" || ck_fail "answer 1 not in the stored draft: $SHOW"
grep -Eq '"workers"[^0-9]*37' <<<"$SHOW" || ck_fail "answer 2 not in the stored draft: $SHOW"

# 4. Restart, unlock, resume where it was left.
export CK_TEST_LAYOUT_NAMES="$CK_TEST_LAYOUT_NAMES,resume_$VISIT_ID"
rm -f "$CK_TEST_LAYOUT_FILE"
ck_start_app "$LOG" --data "$DATA" --templates "$TEMPLATES" --test-kdf
ck_wait_item unlock_passphrase 20
ck_shot e2e-07-unlock
# A wrong passphrase first: refused, still locked.
ck_click unlock_passphrase
ck_type "Brass lamps 7 Moradabad?"
ck_click unlock
sleep 2
ck_shot e2e-07b-wrong-passphrase
[ -n "$(ck_item_rect unlock_passphrase)" ] || ck_fail "a wrong passphrase left the unlock screen"
[ -z "$(ck_item_rect lock)" ] || ck_fail "a wrong passphrase unlocked the app"
ck_click unlock_passphrase
ck_key ctrl+a BackSpace
ck_type "$PASS"
ck_click unlock
ck_wait_item "resume_$VISIT_ID" 30
ck_shot e2e-08-visits-after-restart
ck_click "resume_$VISIT_ID"
ck_wait_item answer
ck_shot e2e-09-resumed
ck_click previous
sleep 0.5
ck_shot e2e-10-q2-still-there
# Switch to Hindi mid-visit: labels change, the answers stay (the rest runs in Hindi).
ck_choose_language hi
sleep 0.5
ck_shot e2e-10b-hindi
ck_click next
sleep 0.5

# 5. Answer the last question, review, finalise.
ck_click answer
ck_type "Power cuts stop the polishing line"
ck_shot e2e-11-q3-answered
ck_click review
ck_wait_item finalise
ck_shot e2e-12-review
ck_click finalise
sleep 2
ck_shot e2e-13-finalised
ck_key ctrl+q
ck_wait_app_exit 20
[ "$CK_APP_STATUS" = 0 ] || ck_fail "clusterkit exited with $CK_APP_STATUS on the second close"

# 6. The store, through the headless field client.
VISITS=$("$CK_FIELD" visits "$DATA") || ck_fail "ck-field visits failed: $VISITS"
ck_log "store at the end: $VISITS"
grep "$VISIT_ID" <<<"$VISITS" | grep -q " finished " || ck_fail "visit $VISIT_ID not finalised: $VISITS"
SHOW=$("$CK_FIELD" show "$DATA" "$VISIT_ID") || ck_fail "ck-field show failed"
for want in "Shree Ganesh Brass Works" "Power cuts stop the polishing line"; do
    grep -q "$want" <<<"$SHOW" || ck_fail "'$want' not in the finalised record"
done
grep -Eq '"workers"[^0-9]*37' <<<"$SHOW" || ck_fail "workers = 37 not in the finalised record"
OUTBOX=$("$CK_FIELD" outbox "$DATA") || ck_fail "ck-field outbox failed"
ck_log "outbox: $OUTBOX"

rm -rf "$WORK"
ck_log "PASS"
