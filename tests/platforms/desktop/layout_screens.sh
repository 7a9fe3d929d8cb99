#!/usr/bin/env bash
# Every screen of the real app at phone and tablet sizes under Xvfb: 720x1280 and 800x1280
# portrait, and the largest text size on a 1366x768 laptop (in English, and in Hindi at the
# largest text; the headless test_layout covers Hindi at every size). On a fresh X screen of that size the window fits it (first start); the
# app is driven with real clicks and key presses (xdotool) through unlock, the visits list,
# the form (a flagship draft on its product table), review, sync, enrolment, settings and lock,
# and the rects of the controls an officer needs (language switch, Lock, Previous, Next,
# Close, each screen's main action) must lie inside the window. A screenshot per screen and
# size: $CK_ARTIFACTS/layout-SIZE-LANG-SCREEN.png.
# usage: layout_screens.sh CLUSTERKIT CK_FIELD ARTIFACTS_DIR
set -uo pipefail
CK_APP="$1"; CK_FIELD="$2"; CK_ARTIFACTS="$3"
SRC="$(cd "$(dirname "$0")/../../.." && pwd)"
source "$(dirname "$0")/xvfb_lib.sh"
ck_require_tools

mkdir -p "$CK_ARTIFACTS"
rm -f "$CK_ARTIFACTS"/layout-*.png
WORK=$(mktemp -d "${TMPDIR:-/tmp}/ck-desktop-layout.XXXXXX")
trap 'ck_cleanup; rm -rf "$WORK"' EXIT
DATA="$WORK/data"
LOG="$CK_ARTIFACTS/layout-app.log"
: >"$LOG"
PASS='Brass lamps 7 Moradabad!'
export CK_PASSPHRASE="$PASS"
export CK_TEST_LAYOUT_FILE="$WORK/layout.txt"

# A store with a finished visit (in the outbox) and a flagship draft holding every answer.
"$CK_FIELD" init "$DATA" --test-kdf >/dev/null || ck_fail "ck-field init"
"$CK_FIELD" import-template "$DATA" "$SRC/survey-templates/cluster-diagnostic.json" >/dev/null || ck_fail "import-template"
ANSWERS="$SRC/tests/data/answers/knitwear-complete.json"
DONE=$("$CK_FIELD" new-visit "$DATA" cluster-diagnostic "$ANSWERS" --today 2026-11-23 2>/dev/null | tail -1)
"$CK_FIELD" finalise "$DATA" "$DONE" --today 2026-11-23 >/dev/null || ck_fail "ck-field finalise"
VISIT=$("$CK_FIELD" new-visit "$DATA" cluster-diagnostic "$ANSWERS" --today 2026-11-23 2>/dev/null | tail -1)
[ -n "$VISIT" ] || ck_fail "ck-field new-visit"

BAR="language,lang_en,lang_hi,lang_ta,lang_gu,lang_mr,lang_bn,lock,screens_menu,tab_Visits,tab_Form,tab_Sync,tab_Enrolment,tab_Settings"
export CK_TEST_LAYOUT_NAMES="$BAR,unlock_passphrase,unlock,start_cluster-diagnostic,search,resume_$VISIT,previous,next,review,close_visit,sections_menu,edit_row_product_lines_0,back_to_form,finalise,go_enrol,sync_now,export_bundle,enrol,enrol_string,text_size_small,text_size_normal,text_size_largest,high_contrast"

inside() { for n in "$@"; do ck_require_inside "$n"; done; }
# To screen $1 (Visits, Sync, ...): its tab, or through the screens menu when the bar is folded.
go() {
    if [ -n "$(ck_item_rect screens_menu)" ]; then
        ck_click screens_menu
        ck_click "tab_$1"
    else
        ck_click "tab_$1"
    fi
}

run_size() {
    local size="$1" scale="$2" lang="$3" tag="layout-$1-$3"
    [ "$scale" = 2.0 ] && tag="$tag-largest"
    ck_log "=== $size, text size $scale, language $lang"
    printf '{"language": "%s", "text_scale": %s, "positions": {"%s": {"question": "production_mode", "instance": 0}}}\n' \
        "$lang" "$scale" "$VISIT" >"$DATA/settings.json"
    ck_start_xvfb "$size"
    rm -f "$CK_TEST_LAYOUT_FILE"
    ck_start_app "$LOG" --data "$DATA" --test-kdf
    ck_wait_item unlock 20
    local w="${size%x*}" h="${size#*x}"
    [ "$(ck_item_rect window)" = "0 0 $w $h" ] || ck_fail "the window is $(ck_item_rect window), not the ${size} screen"
    inside language unlock_passphrase unlock
    ck_shot "$tag-unlock"
    ck_click unlock_passphrase
    ck_type "$PASS"
    ck_click unlock

    ck_wait_item "resume_$VISIT" 30
    sleep 0.5
    inside language lock search start_cluster-diagnostic
    ck_require_within_width "resume_$VISIT"   # in the list, which scrolls
    ck_shot "$tag-visits"

    ck_click "resume_$VISIT"
    ck_wait_item next 20
    sleep 0.5
    inside language lock previous next review close_visit
    ck_require_within_width edit_row_product_lines_0   # the table below the question scrolls
    ck_shot "$tag-form"
    # Next is pressed and moves on (the question changes; Previous comes back to it).
    ck_click next
    ck_click previous
    inside previous next close_visit

    ck_click review
    ck_wait_item finalise 10
    inside language lock back_to_form finalise
    ck_shot "$tag-review"

    go Sync
    ck_wait_item sync_now 10
    inside language lock go_enrol sync_now
    ck_require_within_width export_bundle
    ck_shot "$tag-sync"

    go Enrolment
    ck_wait_item enrol 10
    inside language lock enrol enrol_string
    ck_shot "$tag-enrolment"

    go Settings
    ck_wait_item text_size_normal 10
    inside language lock text_size_small text_size_normal text_size_largest high_contrast
    ck_shot "$tag-settings"

    # The language switch works from here: its list opens inside the window with all six
    # languages, a click on one switches (the list closes), and Lock leads back to unlock.
    ck_click language
    ck_wait_item lang_bn 5
    inside lang_en lang_hi lang_ta lang_gu lang_mr lang_bn
    ck_shot "$tag-languages"
    local want=en
    [ "$lang" = en ] && want=hi
    ck_click "lang_$want"
    ck_wait_item_gone lang_bn 5
    # The click switched the app's language: the setting it keeps says so.
    python3 -c 'import json, sys; sys.exit(json.load(open(sys.argv[1]))["language"] != sys.argv[2])' \
        "$DATA/settings.json" "$want" || ck_fail "choosing lang_$want in the drop-down did not switch the language"
    inside language lock
    ck_click lock
    ck_wait_item unlock 10
    inside language unlock
    kill "$CK_APP_PID"; ck_wait_app_exit 20
    ck_stop_xvfb
    # The next size starts from a fresh X screen; its window fits that screen (no saved size).
    python3 - "$DATA/settings.json" <<'PY'
import json, sys
s = json.load(open(sys.argv[1])); s.pop("window", None); json.dump(s, open(sys.argv[1], "w"))
PY
}

run_size 720x1280 1.0 en
run_size 800x1280 1.0 en
run_size 1366x768 2.0 en
run_size 1366x768 2.0 hi
ck_log "PASS"
