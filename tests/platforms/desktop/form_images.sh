#!/usr/bin/env bash
# Real-window test of template images (XLSForm media::image) under Xvfb: a template naming a
# magenta sign (English) and a cyan one (Hindi) is packed by `ck-survey pack` from its
# `NAME-media/` folder, bundled with the app; the officer starts a visit and the screenshot's
# pixels where the app says it drew the image are the image's colour; in Hindi, the Hindi one.
#
# usage: form_images.sh CLUSTERKIT CK_SURVEY ARTIFACTS_DIR
set -uo pipefail
CK_APP="$1"; CK_SURVEY="$2"; CK_ARTIFACTS="$3"
source "$(dirname "$0")/xvfb_lib.sh"
ck_require_tools
command -v convert >/dev/null || ck_fail "convert not installed (imagemagick: scripts/install-deps)"

mkdir -p "$CK_ARTIFACTS"
rm -f "$CK_ARTIFACTS"/images-*.png
WORK=$(mktemp -d "${TMPDIR:-/tmp}/ck-desktop-images.XXXXXX")
DATA="$WORK/data"
LOG="$CK_ARTIFACTS/images-app.log"
: >"$LOG"
export CK_TEST_LAYOUT_FILE="$WORK/layout.txt"
export CK_TEST_LAYOUT_NAMES="new_passphrase,confirm_passphrase,create,start_pics,question_image,answer,lang_hi,lang_en,language"
PASS='Brass lamps 7 Moradabad!'

# 1. The author's side: a template, its media folder, packed.
mkdir -p "$WORK/src/pics-media" "$WORK/templates"
convert -size 240x120 'xc:#FF00FF' "PNG24:$WORK/src/pics-media/sign-en.png" || ck_fail "convert failed"
convert -size 240x120 'xc:#00FFFF' "PNG24:$WORK/src/pics-media/sign-hi.png" || ck_fail "convert failed"
cat >"$WORK/src/pics.json" <<'JSON'
{"id": "pics", "version": "1", "languages": ["en", "hi"], "title": {"en": "Pictures", "hi": "चित्र"},
 "sections": [{"id": "s", "label": {"en": "Machines", "hi": "मशीनें"}, "questions": [
   {"id": "sign", "type": "text", "label": {"en": "What does the sign say?", "hi": "बोर्ड पर क्या लिखा है?"},
    "image": {"en": "sign-en.png", "hi": "sign-hi.png"}}]}]}
JSON
PACKED=$("$CK_SURVEY" pack "$WORK/src/pics.json" --out "$WORK/templates/pics.json" 2>&1) || ck_fail "ck-survey pack failed: $PACKED"
ck_log "$PACKED"
grep -q "2 images packed" <<<"$PACKED" || ck_fail "ck-survey pack did not pack both images: $PACKED"

# Counts the pixels of colour $2 (e.g. FF00FF) in the rect the app drew widget $1 at, in
# screenshot $3; prints "matching total".
count_colour() {
    local r x0 y0 x1 y1 ox oy
    r=$(ck_item_rect "$1")
    [ -n "$r" ] || ck_fail "widget '$1' not drawn"
    read -r x0 y0 x1 y1 <<<"$r"
    read -r ox oy <<<"$(ck_window_origin)"
    # One pixel in from each edge: the image's border pixels are blended by linear filtering.
    local w=$((x1 - x0 - 2)) h=$((y1 - y0 - 2)) x=$((ox + x0 + 1)) y=$((oy + y0 + 1))
    local n
    n=$(convert "$3" -crop "${w}x${h}+${x}+${y}" +repage txt:- | grep -ci "#$2")
    echo "$n $((w * h))"
}

ck_start_xvfb
ck_start_app "$LOG" --data "$DATA" --templates "$WORK/templates" --test-kdf
ck_wait_item new_passphrase 20
ck_click new_passphrase
ck_type "$PASS"
ck_click confirm_passphrase
ck_type "$PASS"
ck_click create
ck_wait_item start_pics 30
ck_click start_pics
ck_wait_item question_image 20
ck_wait_item answer
sleep 0.5
ck_shot images-01-english
read -r x0 y0 x1 y1 <<<"$(ck_item_rect question_image)"
[ $((x1 - x0)) -eq 240 ] && [ $((y1 - y0)) -eq 120 ] ||
    ck_fail "the image is drawn $((x1 - x0)) x $((y1 - y0)), not at its own 240 x 120"
read -r n total <<<"$(count_colour question_image FF00FF "$CK_ARTIFACTS/images-01-english.png")"
ck_log "English: $n of $total pixels in the image's rect are #FF00FF"
[ "$total" -gt 0 ] && [ $((n * 100)) -ge $((total * 99)) ] || ck_fail "the English sign is not on screen ($n of $total)"
# The answer field is below it, not covered by it.
read -r _ ay0 _ _ <<<"$(ck_item_rect answer)"
[ "$ay0" -ge "$y1" ] || ck_fail "the answer field ($ay0) is drawn over the image (ends at $y1)"

ck_choose_language hi
sleep 1
ck_shot images-02-hindi
read -r n total <<<"$(count_colour question_image 00FFFF "$CK_ARTIFACTS/images-02-hindi.png")"
ck_log "Hindi: $n of $total pixels in the image's rect are #00FFFF"
[ "$total" -gt 0 ] && [ $((n * 100)) -ge $((total * 99)) ] || ck_fail "the Hindi sign is not on screen ($n of $total)"
read -r m _ <<<"$(count_colour question_image FF00FF "$CK_ARTIFACTS/images-02-hindi.png")"
[ "$m" -eq 0 ] || ck_fail "the English sign is still drawn in Hindi ($m pixels)"

ck_key ctrl+q
ck_wait_app_exit 20
[ "$CK_APP_STATUS" = 0 ] || ck_fail "clusterkit exited with $CK_APP_STATUS"
grep -qi "GL error\|stopped:" "$LOG" && ck_fail "the app logged an error: $(cat "$LOG")"
rm -rf "$WORK"
ck_log "PASS"
