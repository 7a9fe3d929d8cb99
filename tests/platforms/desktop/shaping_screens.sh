#!/usr/bin/env bash
# The real desktop app under Xvfb draws shaped text in seven scripts. A visit of a specimen
# template (one section per script: hard words as the label, the hint and the choices, and a
# typed answer) is opened with the app in Hindi; each script's question is shown and
# screenshotted ($CK_ARTIFACTS/shaping-<script>.png, shaping-<script>-typed.png), and the glyphs
# the app drew for each label (CK_TEST_GLYPH_FILE, written by the app from its draw path) are
# compared with hb-shape's for the same font file, size, script and language.
#
# usage: shaping_screens.sh CLUSTERKIT CK_FIELD SPECIMENS_DIR ARTIFACTS_DIR
set -uo pipefail
CK_APP="$1"; CK_FIELD="$2"; SPECIMENS="$3"; CK_ARTIFACTS="$4"
SRC="$(cd "$(dirname "$0")/../../.." && pwd)"
source "$(dirname "$0")/xvfb_lib.sh"
ck_require_tools
command -v hb-shape >/dev/null || ck_fail "hb-shape not installed (libharfbuzz-bin: scripts/install-deps)"

mkdir -p "$CK_ARTIFACTS"
rm -f "$CK_ARTIFACTS"/shaping-*.png
WORK=$(mktemp -d "${TMPDIR:-/tmp}/ck-desktop-shaping.XXXXXX")
trap 'ck_cleanup; rm -rf "$WORK"' EXIT
DATA="$WORK/data"
LOG="$CK_ARTIFACTS/shaping-app.log"
: >"$LOG"
PASS='Brass lamps 7 Moradabad!'
export CK_PASSPHRASE="$PASS"
export CK_TEST_LAYOUT_FILE="$WORK/layout.txt"
export CK_TEST_GLYPH_FILE="$WORK/glyphs.txt"

"$CK_FIELD" init "$DATA" --test-kdf >/dev/null || ck_fail "ck-field init"
"$CK_FIELD" import-template "$DATA" "$SPECIMENS/script-specimens.json" >/dev/null || ck_fail "import-template"
VISIT=$("$CK_FIELD" new-visit "$DATA" script-specimens "$SPECIMENS/script-specimens-answers.json" 2>/dev/null | tail -1)
[ -n "$VISIT" ] || ck_fail "ck-field new-visit"
printf '{"language": "hi", "positions": {"%s": {"question": "deva_hi_words", "instance": 0}}}\n' "$VISIT" >"$DATA/settings.json"
export CK_TEST_LAYOUT_NAMES="unlock_passphrase,unlock,resume_$VISIT,next,answer"

ck_start_xvfb
ck_start_app "$LOG" --data "$DATA" --test-kdf
ck_click unlock_passphrase 20
ck_type "$PASS"
ck_click unlock
ck_click "resume_$VISIT" 30
ck_wait_item next 20

# The label each screen must show, in the order Next reaches them.
mapfile -t SCRIPTS < <(python3 -c '
import json, sys
t = json.load(open(sys.argv[1]))
for s in t["sections"]:
    print(s["questions"][0]["id"].rsplit("_words", 1)[0])
' "$SPECIMENS/script-specimens.json")
[ "${#SCRIPTS[@]}" = 7 ] || ck_fail "expected 7 scripts in the specimen template, found ${#SCRIPTS[@]}"

check_label() {  # $1: question id whose label must be in the glyph log, shaped as hb-shape shapes it
    python3 - "$SRC/assets/fonts/scripts.json" "$SPECIMENS/script-specimens.json" "$CK_TEST_GLYPH_FILE" "$1" <<'PY'
import json, os, subprocess, sys
table, template, glyphs, qid = sys.argv[1:5]
fonts = json.load(open(table))["fonts"]
t = json.load(open(template))
label = next(q["label"] for s in t["sections"] for q in s["questions"] if q["id"] == qid)
drawn = None
for line in open(glyphs, encoding="utf-8"):
    parts = line.rstrip("\n").split("\t")
    if len(parts) == 4 and parts[3] == label:
        drawn = parts
if drawn is None:
    sys.exit(f"the app drew no line '{label}'")
glyphs = [tuple(int(x) for x in g.split(":")) for g in drawn[0].split(",")]
scale, language = drawn[1], drawn[2]
font = {g[1] for g in glyphs}
if len(font) != 1 or 0 in font:
    sys.exit(f"'{label}' drawn with fonts {sorted(font)}, expected its script's font alone")
entry = fonts[font.pop()]
path = os.path.join(os.path.dirname(table), entry["file"])
out = subprocess.run(["hb-shape", f"--font-size={scale}", f"--script={entry['script']}", f"--language={language}",
                      "--direction=ltr", "--output-format=json", "--no-glyph-names", "--utf8-clusters", path, label],
                     capture_output=True, text=True, check=True).stdout
oracle, x, y = [], 0, 0
for g in json.loads(out):
    oracle.append((g["g"], g["cl"], x + g["dx"], y + g["dy"]))
    x += g["ax"]; y += g["ay"]
app = [(g[0], g[2], g[3], g[4]) for g in glyphs]
if app != oracle:
    sys.exit(f"'{label}': the app drew {app}\nhb-shape gives {oracle}")
print(f"{entry['script']} {language} scale {scale}: '{label}' = hb-shape, {len(app)} glyphs")
PY
}

for s in "${SCRIPTS[@]}"; do
    sleep 0.5
    check_label "${s}_words" || ck_fail "the $s label is not drawn as hb-shape shapes it"
    ck_shot "shaping-$s"
    ck_click next
    ck_wait_item answer 10
    sleep 0.5
    ck_shot "shaping-$s-typed"
    ck_click next
done
kill "$CK_APP_PID"; ck_wait_app_exit 20
ck_log "PASS: seven scripts drawn as hb-shape shapes them; screenshots in $CK_ARTIFACTS"
