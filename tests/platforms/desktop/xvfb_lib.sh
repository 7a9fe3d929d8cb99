# Shared by the real-window tests and the desktop benchmark: a private Xvfb, the app under it,
# clicks on widgets by the name the app gives them, screenshots. Source it; then call
# ck_start_xvfb, ck_start_app ... ; ck_cleanup runs on exit (trap set here).
# Needs: Xvfb, xdotool, import (imagemagick). Every wait is bounded.

CK_XVFB_PID=""
CK_APP_PID=""
CK_DISPLAY=""

ck_log() { echo "[$(date +%H:%M:%S)] $*" >&2; }
ck_fail() {
    ck_log "FAIL: $*"
    if [ -n "$CK_DISPLAY" ] && [ -n "${CK_ARTIFACTS:-}" ]; then
        mkdir -p "$CK_ARTIFACTS"
        import -display "$CK_DISPLAY" -window root "$CK_ARTIFACTS/failed.png" 2>/dev/null &&
            ck_log "screen at the failure: $CK_ARTIFACTS/failed.png"
    fi
    exit 1
}

ck_cleanup() {
    if [ -n "$CK_APP_PID" ] && kill -0 "$CK_APP_PID" 2>/dev/null; then
        kill "$CK_APP_PID" 2>/dev/null
        for _ in $(seq 1 30); do kill -0 "$CK_APP_PID" 2>/dev/null || break; sleep 0.1; done
        kill -9 "$CK_APP_PID" 2>/dev/null
    fi
    if [ -n "$CK_XVFB_PID" ]; then
        kill "$CK_XVFB_PID" 2>/dev/null
        wait "$CK_XVFB_PID" 2>/dev/null
    fi
}
trap ck_cleanup EXIT
# A time limit (CTest runs these under `timeout`) or Ctrl+C still cleans up.
trap 'exit 130' INT TERM

ck_require_tools() {
    for t in Xvfb xdotool import; do
        command -v "$t" >/dev/null || ck_fail "$t not installed (run scripts/install-deps)"
    done
}

# Starts Xvfb on the first free display from :97 upwards; its screen is $1 (WIDTHxHEIGHT,
# default 1280x800).
ck_start_xvfb() {
    local n screen="${1:-1280x800}"
    for n in $(seq 97 160); do
        [ -e "/tmp/.X11-unix/X$n" ] || [ -e "/tmp/.X$n-lock" ] && continue
        Xvfb ":$n" -screen 0 "${screen}x24" -nolisten tcp >/dev/null 2>&1 &
        CK_XVFB_PID=$!
        for _ in $(seq 1 50); do
            [ -e "/tmp/.X11-unix/X$n" ] && break
            kill -0 "$CK_XVFB_PID" 2>/dev/null || break
            sleep 0.1
        done
        if kill -0 "$CK_XVFB_PID" 2>/dev/null && [ -e "/tmp/.X11-unix/X$n" ]; then
            CK_DISPLAY=":$n"
            export DISPLAY="$CK_DISPLAY"
            ck_log "Xvfb on $CK_DISPLAY (pid $CK_XVFB_PID)"
            return 0
        fi
        CK_XVFB_PID=""
    done
    ck_fail "no free X display for Xvfb"
}

# Stops the Xvfb ck_start_xvfb started (the app must have exited), to start another size.
ck_stop_xvfb() {
    [ -n "$CK_XVFB_PID" ] || return 0
    kill "$CK_XVFB_PID" 2>/dev/null
    wait "$CK_XVFB_PID" 2>/dev/null
    CK_XVFB_PID=""
    CK_DISPLAY=""
}

# ck_start_app LOGFILE ARGS...   (env: CK_TEST_LAYOUT_FILE / CK_TEST_LAYOUT_NAMES as needed)
ck_start_app() {
    local log="$1"; shift
    "$CK_APP" "$@" >>"$log" 2>&1 &
    CK_APP_PID=$!
    ck_log "clusterkit started (pid $CK_APP_PID): $*"
}

# Waits for the app to exit by itself; fails after $1 seconds. Sets CK_APP_STATUS.
ck_wait_app_exit() {
    local limit="$1" i
    for i in $(seq 1 $((limit * 10))); do
        kill -0 "$CK_APP_PID" 2>/dev/null || break
        sleep 0.1
    done
    kill -0 "$CK_APP_PID" 2>/dev/null && ck_fail "clusterkit did not exit within ${limit}s"
    wait "$CK_APP_PID"
    CK_APP_STATUS=$?
    CK_APP_PID=""
}

# The rect the app last drew for widget NAME: "x0 y0 x1 y1", or nothing.
ck_item_rect() {
    [ -f "$CK_TEST_LAYOUT_FILE" ] || return 0
    awk -v n="$1" '$1 == n { print $2, $3, $4, $5 }' "$CK_TEST_LAYOUT_FILE"
}

# Waits up to $2 seconds (default 10) for widget $1 to be drawn.
ck_wait_item() {
    local name="$1" limit="${2:-10}" i
    for i in $(seq 1 $((limit * 10))); do
        [ -n "$(ck_item_rect "$name")" ] && return 0
        kill -0 "$CK_APP_PID" 2>/dev/null || ck_fail "clusterkit exited while waiting for '$name'"
        sleep 0.1
    done
    ck_fail "widget '$name' not drawn within ${limit}s (layout: $(tr '\n' ';' <"$CK_TEST_LAYOUT_FILE" 2>/dev/null))"
}

# Waits until widget $1 is no longer drawn (the screen changed).
ck_wait_item_gone() {
    local name="$1" limit="${2:-10}" i
    for i in $(seq 1 $((limit * 10))); do
        [ -z "$(ck_item_rect "$name")" ] && return 0
        sleep 0.1
    done
    ck_fail "widget '$name' still drawn after ${limit}s"
}

ck_window_origin() {
    local wid
    wid=$(xdotool search --sync --limit 1 --name '^ClusterKit$' 2>/dev/null | head -1)
    [ -n "$wid" ] || { echo "0 0"; return; }
    xdotool getwindowgeometry "$wid" | awk '/Position:/ { split($2, p, ","); print p[1], p[2] }'
}

# The app window's geometry as the X server has it: "X Y WIDTH HEIGHT".
ck_window_geometry() {
    local wid
    wid=$(xdotool search --sync --limit 1 --name '^ClusterKit$' 2>/dev/null | head -1)
    [ -n "$wid" ] || return 0
    xdotool getwindowgeometry "$wid" | awk '/Position:/ { split($2, p, ","); x = p[1]; y = p[2] }
        /Geometry:/ { split($2, g, "x"); print x, y, g[1], g[2] }'
}

# Fails unless widget $1 was drawn entirely inside the app's window (the "window" line of the
# layout file: the size the app itself drew at).
ck_require_inside() {
    local r w
    r=$(ck_item_rect "$1")
    w=$(ck_item_rect window)
    [ -n "$r" ] || ck_fail "widget '$1' was not drawn (layout: $(tr '\n' ';' <"$CK_TEST_LAYOUT_FILE" 2>/dev/null))"
    [ -n "$w" ] || ck_fail "the app wrote no window size"
    read -r x0 y0 x1 y1 <<<"$r"
    read -r _ _ ww wh <<<"$w"
    if [ "$x0" -lt 0 ] || [ "$y0" -lt 0 ] || [ "$x1" -gt "$ww" ] || [ "$y1" -gt "$wh" ] || [ "$x1" -le "$x0" ] || [ "$y1" -le "$y0" ]; then
        ck_fail "widget '$1' at $x0,$y0-$x1,$y1 is not inside the ${ww}x${wh} window"
    fi
}

# Fails unless widget $1 lies within the window's width: content of a pane that scrolls may be
# below the window until scrolled to, but never off its sides.
ck_require_within_width() {
    local r w
    r=$(ck_item_rect "$1")
    w=$(ck_item_rect window)
    [ -n "$r" ] || ck_fail "widget '$1' was not drawn"
    read -r x0 y0 x1 y1 <<<"$r"
    read -r _ _ ww wh <<<"$w"
    if [ "$x0" -lt 0 ] || [ "$x1" -gt "$ww" ] || [ "$x1" -le "$x0" ]; then
        ck_fail "widget '$1' at $x0,$y0-$x1,$y1 is not within the ${ww} px wide window"
    fi
}

# A real mouse click in the middle of widget $1 (waits for it first).
ck_click() {
    ck_wait_item "$1" "${2:-10}"
    # A widget can move in its first frames (a table sizing its columns): click once its
    # rect has stayed put for 0.3 s.
    local r prev="" ox oy
    for _ in $(seq 1 30); do
        r=$(ck_item_rect "$1")
        [ -n "$r" ] && [ "$r" = "$prev" ] && break
        prev="$r"
        sleep 0.3
    done
    read -r x0 y0 x1 y1 <<<"$r"
    read -r ox oy <<<"$(ck_window_origin)"
    xdotool mousemove $((ox + (x0 + x1) / 2)) $((oy + (y0 + y1) / 2))
    sleep 0.1
    xdotool click 1
    sleep 0.3
}

# Switches the app's language with real clicks, as an officer does: the top bar's drop-down
# ("language"), then the language's entry in its list ("lang_<code>"); the list closes with
# the choice. Both names must be in CK_TEST_LAYOUT_NAMES.
ck_choose_language() {
    ck_click language
    ck_click "lang_$1"
    ck_wait_item_gone "lang_$1" 5
}

# Real key presses: ck_type TEXT, ck_key KEY...
ck_type() { xdotool type --delay 40 -- "$1"; sleep 0.3; }
ck_key() { xdotool key --delay 80 "$@"; sleep 0.3; }

ck_shot() {
    mkdir -p "$CK_ARTIFACTS"
    sleep 0.3
    import -window root "$CK_ARTIFACTS/$1.png" || ck_fail "screenshot $1 failed"
    ck_log "screenshot $CK_ARTIFACTS/$1.png"
}

# CPU ticks (utime + stime) of process $1.
ck_cpu_ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat"; }
