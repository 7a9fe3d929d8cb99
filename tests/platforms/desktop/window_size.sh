#!/usr/bin/env bash
# The window opens at the size it last had, or fits the screen: under Xvfb (no window manager)
# the real window is resized with xdotool, the app closed and started again, and the X
# server's geometry of the new window compared; a saved size larger than the screen opens
# clamped to it; a first start on a 720x1280 portrait screen fills it.
# usage: window_size.sh CLUSTERKIT TEMPLATES_DIR ARTIFACTS_DIR
set -uo pipefail
CK_APP="$1"; TEMPLATES="$2"; CK_ARTIFACTS="$3"
source "$(dirname "$0")/xvfb_lib.sh"
ck_require_tools

mkdir -p "$CK_ARTIFACTS"
WORK=$(mktemp -d "${TMPDIR:-/tmp}/ck-desktop-window.XXXXXX")
trap 'ck_cleanup; rm -rf "$WORK"' EXIT
export CK_TEST_LAYOUT_FILE="$WORK/layout.txt"
export CK_TEST_LAYOUT_NAMES="new_passphrase,create"
DATA="$WORK/data"
LOG="$CK_ARTIFACTS/window-app.log"
: >"$LOG"

start() {
    rm -f "$CK_TEST_LAYOUT_FILE"
    ck_start_app "$LOG" --data "$1" --templates "$TEMPLATES" --test-kdf
    ck_wait_item create 20
}
stop() { kill "$CK_APP_PID"; ck_wait_app_exit 20; [ "$CK_APP_STATUS" = 0 ] || ck_fail "clusterkit exited with $CK_APP_STATUS"; }
# Waits until the app draws at $1x$2 (it saw the X server's resize).
wait_drawn_at() {
    for _ in $(seq 1 50); do
        [ "$(ck_item_rect window)" = "0 0 $1 $2" ] && return 0
        sleep 0.1
    done
    ck_fail "the app did not draw at $1x$2 (it drew at: $(ck_item_rect window))"
}
expect_geometry() {
    local got
    got=$(ck_window_geometry)
    [ "$got" = "$1" ] || ck_fail "window geometry '$got', expected '$1'"
    ck_log "window geometry $got, as expected"
}

ck_start_xvfb 1280x800

# 1. First start: no saved size; 1280x800 fits the 1280x800 screen exactly.
start "$DATA"
expect_geometry "0 0 1280 800"
wait_drawn_at 1280 800

# 2. Resized and moved as an officer would; closed; the placement is in settings.json.
WID=$(xdotool search --sync --limit 1 --name '^ClusterKit$' | head -1)
xdotool windowsize "$WID" 900 600
xdotool windowmove "$WID" 60 40
wait_drawn_at 900 600
ck_shot window-resized
stop
python3 - "$DATA/settings.json" <<'PY' || ck_fail "settings.json does not hold the window (see above)"
import json, sys
w = json.load(open(sys.argv[1])).get("window")
print("saved window:", w)
sys.exit(0 if w == {"x": 60, "y": 40, "width": 900, "height": 600} else 1)
PY

# 3. Started again: the size and place it had.
start "$DATA"
expect_geometry "60 40 900 600"
wait_drawn_at 900 600
ck_shot window-restored
stop

# 4. A saved size larger than the screen (another monitor, a bigger tablet): clamped to it.
python3 - "$DATA/settings.json" <<'PY'
import json, sys
s = json.load(open(sys.argv[1]))
s["window"] = {"x": -200, "y": 300, "width": 3000, "height": 2000}
json.dump(s, open(sys.argv[1], "w"))
PY
start "$DATA"
expect_geometry "0 0 1280 800"
wait_drawn_at 1280 800
stop

# 5. First start on a phone-sized portrait screen: the window fills it.
ck_stop_xvfb
ck_start_xvfb 720x1280
start "$WORK/data-phone"
expect_geometry "0 0 720 1280"
wait_drawn_at 720 1280
ck_require_inside create
ck_require_inside new_passphrase
ck_shot window-first-start-720x1280
stop
ck_log "PASS"
