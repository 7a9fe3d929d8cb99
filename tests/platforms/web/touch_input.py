#!/usr/bin/env python3
"""Touch, the on-screen keyboard and the portrait layout of the web field app, in real
headless Chromium as a 412x915 phone (devicePixelRatio 2.625, touch events).

    touch_input.py SITE_DIR ARTIFACTS_DIR

Same page, server and browser as first_frame.py; taps as first_run.py. Fingers are
Input.dispatchTouchEvent, the phone's keyboard Input.insertText / Input.imeSetComposition (as a
phone keyboard or an IME types into the focused element) and key events. Checks:

  1. portrait: the canvas' backing store is 1082x2402; on the first-run, visits and visit
     screens every control an officer needs (language switch, Lock, the screens menu, the
     sections menu, Previous, Next, Review, Close, each screen's main action) lies inside
     412x915 and every button is at least 48 CSS px tall; after turning the phone to landscape
     and back, the canvas follows and the visit screen's bar is inside again;
  2. keyboard: tapping a field focuses the page's hidden input (document.activeElement) with
     the field's keyboard: type=password for a passphrase, inputmode "text" for the search and
     a text question, "numeric" for a date, "decimal" for a money question; text inserted there
     (a Devanagari word, also composed by an IME step by step) arrives in the field and in the
     visit's answer; Backspace deletes (as a key, and as the input event alone that Android
     keyboards send); leaving the field (a tap elsewhere) blurs the input;
  3. drag-scroll: a finger dragged 150 px up the visit's list of sections (a popup longer than
     the screen allows) moves its rows by about 150 px and picks no section although it started
     on one; a drag that starts on Next does not press it; a tap then picks a section.

First run derives the vault key at its real cost (the web build has no test-only KDF cost):
about 35 s on a loaded machine. Screenshots in ARTIFACTS_DIR. Exit status as first_frame.py
(77: skipped).
"""
import json
import os
import shutil
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import first_frame as ff  # noqa: E402  (skips when python3-websocket is missing)
import first_run as fr  # noqa: E402

FLAGSHIP = "cluster-diagnostic"
LANGUAGES = ["lang_en", "lang_hi", "lang_ta", "lang_gu", "lang_mr", "lang_bn"]
MIN_TOUCH_CSS = 47.9  # 48 CSS px, as the app reports rects to 0.1 px
DRAG_CSS = 150
CANVAS = "document.getElementById('canvas')"


SHOT_ON_FAILURE = []  # (browser, path): a screenshot of the screen a check failed on


def fail(why):
    for browser, path in SHOT_ON_FAILURE:
        try:
            fr.screenshot(browser, path)
            why += " (screenshot %s; console: %s; exceptions: %s)" % (path, browser.console[-6:], browser.exceptions[-3:])
        except Exception:  # the failure itself is what matters
            pass
    ff.fail(why)


def box(browser, name, limit_s=10):
    text = ff.wait_for(browser, "window.ckItemRect(%s)" % json.dumps(name), limit_s)
    if not text:
        fail("'%s' is not on screen" % name)
    return tuple(float(v) for v in text.split())


def has(browser, name):
    return bool(browser.evaluate("window.ckItemRect(%s)" % json.dumps(name)))


def state(browser):
    """What the app reports (platforms/web/main.cpp, ck_touch_state): keyboard, question, answer, editing."""
    text = browser.evaluate("JSON.stringify(window.ckTouchState())")
    return json.loads(text) if text else {}


def wait_state(browser, key, want, limit_s=5):
    deadline = time.time() + limit_s
    got = None
    while time.time() < deadline:
        got = state(browser).get(key)
        if got == want:
            return got
        time.sleep(0.1)
    fail("app state '%s' is %r, expected %r" % (key, got, want))


def keyboard_element(browser):
    """(focused, type, inputmode) of the page's hidden input."""
    return browser.evaluate("(function(){var i=document.getElementById('ck-keyboard');"
                            "return i ? [document.activeElement===i, i.type, i.getAttribute('inputmode')] : null;})()")


def expect_keyboard(browser, what, typ, mode):
    deadline = time.time() + 3
    got = None
    while time.time() < deadline:
        got = keyboard_element(browser)
        if got == [True, typ, mode]:
            return
        time.sleep(0.1)
    fail("%s: the hidden input is %r, expected focused, type %s, inputmode %s" % (what, got, typ, mode))


def expect_no_keyboard(browser, what):
    deadline = time.time() + 3
    while time.time() < deadline:
        got = keyboard_element(browser)
        if got and not got[0]:
            return
        time.sleep(0.1)
    fail("%s: the hidden input is still focused (the phone's keyboard would stay)" % what)


def backspace(browser):
    browser.call("Input.dispatchKeyEvent", type="rawKeyDown", key="Backspace", code="Backspace",
                 windowsVirtualKeyCode=8, nativeVirtualKeyCode=8)
    browser.call("Input.dispatchKeyEvent", type="keyUp", key="Backspace", code="Backspace",
                 windowsVirtualKeyCode=8, nativeVirtualKeyCode=8)


def android_backspace(browser):
    """What an Android keyboard sends for Backspace in a field: no key code, an input event."""
    browser.evaluate("document.getElementById('ck-keyboard').dispatchEvent("
                     "new InputEvent('input', {inputType: 'deleteContentBackward', bubbles: true}))")


def clear_field(browser):
    """Empties the field being edited (a prefilled date, say) with Android-style Backspaces."""
    for _ in range(len(state(browser).get("editing", ""))):
        android_backspace(browser)
    wait_state(browser, "editing", "")


def drag(browser, x, y, dx, dy, steps=12):
    browser.call("Input.dispatchTouchEvent", type="touchStart", touchPoints=[{"x": x, "y": y}])
    time.sleep(0.05)
    for i in range(1, steps + 1):
        browser.call("Input.dispatchTouchEvent", type="touchMove",
                     touchPoints=[{"x": x + dx * i / steps, "y": y + dy * i / steps}])
        time.sleep(0.04)
    time.sleep(0.25)  # the finger stops before it lifts: no fling (app/ui/touch_input.h)
    browser.call("Input.dispatchTouchEvent", type="touchEnd", touchPoints=[])
    time.sleep(0.5)


def check_portrait(browser, screen, needed, buttons, width=ff.VIEW_W, height=ff.VIEW_H):
    """Every needed control inside width x height CSS px; every button 48 CSS px tall or more."""
    for name in needed:
        x0, y0, x1, y1 = box(browser, name)
        if not (-0.5 <= x0 < x1 <= width + 0.5 and -0.5 <= y0 < y1 <= height + 0.5):
            fail("%s: '%s' at %.1f,%.1f-%.1f,%.1f is not inside the %dx%d screen"
                    % (screen, name, x0, y0, x1, y1, width, height))
        if name in buttons and y1 - y0 < MIN_TOUCH_CSS:
            fail("%s: '%s' is %.1f CSS px tall, less than a 48 px touch target" % (screen, name, y1 - y0))
    print("%s: %d controls inside %dx%d, buttons at least 48 CSS px tall" % (screen, len(needed), width, height))


def main():
    if len(sys.argv) != 3:
        print(__doc__)
        sys.exit(2)
    site, artifacts = sys.argv[1], sys.argv[2]
    if not shutil.which("chromium"):
        ff.skip("Debian chromium is not installed")
    needed = ["clusterkit.wasm", "touch.js"]
    missing = [f for f in needed if not os.path.exists(os.path.join(site, f))]
    if missing:
        ff.skip("no web build with touch input in %s (missing %s): build it with platforms/web/build"
                % (site, ", ".join(missing)))
    os.makedirs(artifacts, exist_ok=True)
    profile = tempfile.mkdtemp(prefix="ck-web-chromium.")
    httpd = ff.serve(site, isolated=True)
    browser = ff.Browser(profile)
    SHOT_ON_FAILURE.append((browser, os.path.join(artifacts, "web-touch-failed.png")))
    url = "http://127.0.0.1:%d/index.html" % httpd.server_address[1]
    try:
        browser.as_phone()
        fr.open_first_run(browser, url)

        # 1. Portrait: the backing store, the first-run screen.
        store = browser.evaluate("[%s.width, %s.height]" % (CANVAS, CANVAS))
        if store != [round(ff.VIEW_W * ff.DPR), round(ff.VIEW_H * ff.DPR)]:
            fail("the canvas' backing store is %r, expected the phone's 1082x2402 device pixels" % store)
        font = state(browser).get("font", 0)
        if font < 16:
            fail("text is %.1f CSS px high: too small to read on a phone" % font)
        print("text %.1f CSS px high" % font)
        first_run = ["new_passphrase", "confirm_passphrase", "create"] + [n for n in LANGUAGES if has(browser, n)]
        check_portrait(browser, "first run", first_run, ["create"] + LANGUAGES)
        fr.screenshot(browser, os.path.join(artifacts, "web-touch-first-run-412x915.png"))

        # 2. The keyboard for a passphrase; what it types makes the store (the passphrase itself
        #    is never handed out, not even to the test hook).
        fr.tap(browser, "new_passphrase")
        expect_keyboard(browser, "passphrase field", "password", "text")
        browser.call("Input.insertText", text=fr.PASSPHRASE)
        time.sleep(0.3)
        if state(browser).get("editing") != "":
            fail("the test hook handed out the passphrase being typed")
        fr.tap(browser, "confirm_passphrase")
        expect_keyboard(browser, "second passphrase field", "password", "text")
        browser.call("Input.insertText", text=fr.PASSPHRASE)
        fr.tap(browser, "create")
        expect_no_keyboard(browser, "after Create")
        started = time.time()
        if not ff.wait_for(browser, "window.ckItemRect('start_%s')" % FLAGSHIP, fr.CREATE_LIMIT_S):
            fr.screenshot(browser, os.path.join(artifacts, "web-touch-create-failed.png"))
            fail("no visits screen %d s after Create: the passphrases typed on the phone's keyboard "
                    "did not reach the fields (console: %s)" % (fr.CREATE_LIMIT_S, browser.console[-5:]))
        print("store created %.1f s after Create, both passphrases typed with Input.insertText" % (time.time() - started))

        # The visits screen.
        time.sleep(0.5)
        bar = ["lock", "screens_menu"] + [n for n in LANGUAGES if has(browser, n)]
        check_portrait(browser, "visits", bar + ["start_" + FLAGSHIP, "search"], bar + ["start_" + FLAGSHIP])
        fr.screenshot(browser, os.path.join(artifacts, "web-touch-visits-412x915.png"))

        # A text field: letters; a Devanagari word; Backspace as a key and as Android sends it.
        fr.tap(browser, "search")
        expect_keyboard(browser, "search field", "text", "text")
        browser.call("Input.insertText", text="बिजली")
        wait_state(browser, "editing", "बिजली")
        backspace(browser)
        wait_state(browser, "editing", "बिजल")
        android_backspace(browser)
        wait_state(browser, "editing", "बिज")
        if keyboard_element(browser) != [True, "text", "text"]:
            fail("typing moved the focus away from the hidden input")
        fr.tap(browser, "start_" + FLAGSHIP)
        expect_no_keyboard(browser, "after leaving the search field for a button")
        wait_state(browser, "question", "visit_date")

        # A date: digits.
        fr.tap(browser, "answer")
        expect_keyboard(browser, "date question", "text", "numeric")
        clear_field(browser)
        browser.call("Input.insertText", text="2026-12-07")
        wait_state(browser, "editing", "2026-12-07")
        fr.tap(browser, "next")
        expect_no_keyboard(browser, "after Next")
        wait_state(browser, "question", "officer_id")

        # A text question, typed through an IME that composes the word step by step.
        fr.tap(browser, "answer")
        expect_keyboard(browser, "text question", "text", "text")
        clear_field(browser)
        for step in ["ब", "बि", "बिज", "बिजल", "बिजली"]:
            browser.call("Input.imeSetComposition", text=step, selectionStart=len(step), selectionEnd=len(step))
            time.sleep(0.15)
        wait_state(browser, "editing", "बिजली")
        browser.call("Input.insertText", text="बिजली")  # the IME commits the word
        time.sleep(0.3)
        wait_state(browser, "editing", "बिजली")
        browser.call("Input.insertText", text=" 2")
        wait_state(browser, "editing", "बिजली 2")
        wait_state(browser, "answer", "बिजली 2")  # the visit's answer, as the app stores it
        backspace(browser)
        backspace(browser)
        wait_state(browser, "answer", "बिजली")
        # An IME that changes its mind: the composed word shrinks and is replaced.
        browser.call("Input.insertText", text=" ")
        for step in ["क", "कप", "क", "का"]:
            browser.call("Input.imeSetComposition", text=step, selectionStart=len(step), selectionEnd=len(step))
            time.sleep(0.15)
        browser.call("Input.insertText", text="का")
        wait_state(browser, "answer", "बिजली का")
        fr.screenshot(browser, os.path.join(artifacts, "web-touch-text-question-412x915.png"))

        # 3. A drag that starts on Next does not press it.
        x0, y0, x1, y1 = box(browser, "next")
        drag(browser, (x0 + x1) / 2, (y0 + y1) / 2, 0, -DRAG_CSS)
        if state(browser).get("question") != "officer_id":
            fail("a drag that started on Next pressed it (now at %s)" % state(browser).get("question"))

        # The sections menu: a list longer than its popup. A drag from a section's row scrolls
        # it with the finger and picks nothing.
        fr.tap(browser, "sections_menu")
        expect_no_keyboard(browser, "after the sections menu")
        first_before = box(browser, "section_sec_consent")
        x0, y0, x1, y1 = box(browser, "section_sec_identity")
        drag(browser, (x0 + x1) / 2, (y0 + y1) / 2, 0, -DRAG_CSS)
        if not has(browser, "section_sec_consent"):
            fail("the drag closed the sections menu: it picked the section it started on")
        if state(browser).get("question") != "officer_id":
            fail("the drag picked a section (now at %s)" % state(browser).get("question"))
        first_after = box(browser, "section_sec_consent")
        moved = first_before[1] - first_after[1]
        if abs(moved - DRAG_CSS) > 12:
            fail("the list moved %.1f CSS px for a %d px drag (rows: %r then %r)"
                    % (moved, DRAG_CSS, first_before, first_after))
        print("a %d CSS px drag on the sections list moved its rows %.1f CSS px; nothing picked" % (DRAG_CSS, moved))
        fr.screenshot(browser, os.path.join(artifacts, "web-touch-sections-dragged-412x915.png"))
        # The other sections wait for consent: close the menu (a tap beside it, on the progress
        # bar) and answer up to the consent question with taps and the keyboard.
        x0, y0, x1, y1 = box(browser, "sections_menu")
        browser.call("Input.dispatchTouchEvent", type="touchStart", touchPoints=[{"x": x0 + 8, "y": y0 - 20}])
        time.sleep(0.1)
        browser.call("Input.dispatchTouchEvent", type="touchEnd", touchPoints=[])
        time.sleep(0.5)
        if has(browser, "section_sec_consent"):
            fail("a tap beside the sections menu did not close it")
        for _ in range(10):
            question = state(browser).get("question")
            if question == "consent":
                break
            if question == "cluster":
                fr.tap(browser, "choice_tiruppur_knitwear")
            elif question in ("unit_name", "register_id", "cluster_other"):
                fr.tap(browser, "answer")
                expect_keyboard(browser, question, "text", "text")
                browser.call("Input.insertText", text="Unit 7")
                wait_state(browser, "answer", "Unit 7")
            fr.tap(browser, "next")
            deadline = time.time() + 5
            while time.time() < deadline and state(browser).get("question") == question:
                time.sleep(0.1)
        wait_state(browser, "question", "consent")
        fr.tap(browser, "choice_yes")
        wait_state(browser, "answer", "yes")
        fr.tap(browser, "sections_menu")
        fr.tap(browser, "section_sec_costs")
        wait_state(browser, "question", "costs_note")
        fr.tap(browser, "next")
        wait_state(browser, "question", "gross_output")

        # A money question: decimal digits.
        fr.tap(browser, "answer")
        expect_keyboard(browser, "money question", "text", "decimal")
        clear_field(browser)
        browser.call("Input.insertText", text="125000")
        deadline = time.time() + 5
        while time.time() < deadline and state(browser).get("answer") not in ("125000", "1,25,000"):
            time.sleep(0.1)
        answer = state(browser).get("answer")
        if answer not in ("125000", "1,25,000"):
            fail("the money typed on the keyboard is not the answer: %r" % answer)
        backspace(browser)
        deadline = time.time() + 5
        while time.time() < deadline and state(browser).get("answer") not in ("12500", "12,500"):
            time.sleep(0.1)
        if state(browser).get("answer") not in ("12500", "12,500"):
            fail("Backspace in the money field: the answer is %r" % state(browser).get("answer"))

        # The visit screen in portrait, with the field being edited.
        visit = bar + ["sections_menu", "previous", "next", "review", "close_visit", "answer"]
        check_portrait(browser, "visit", visit, bar + ["sections_menu", "previous", "next", "review", "close_visit"])
        fr.screenshot(browser, os.path.join(artifacts, "web-touch-visit-412x915.png"))
        fr.tap(browser, "next")
        expect_no_keyboard(browser, "after leaving the money field with Next")

        # Rotation: landscape, then portrait again; the canvas follows and the bar stays inside.
        browser.call("Emulation.setDeviceMetricsOverride", width=ff.VIEW_H, height=ff.VIEW_W, deviceScaleFactor=ff.DPR,
                     mobile=True, screenOrientation={"type": "landscapePrimary", "angle": 90})
        want = [round(ff.VIEW_H * ff.DPR), round(ff.VIEW_W * ff.DPR)]
        if ff.wait_for(browser, "JSON.stringify([%s.width, %s.height]) === %s" % (CANVAS, CANVAS, json.dumps(json.dumps(want, separators=(",", ":")))), 10) is None:
            fail("the canvas did not follow the turn to landscape")
        time.sleep(1)
        check_portrait(browser, "visit in landscape", ["lock", "previous", "next", "review", "close_visit"],
                       ["previous", "next"], width=ff.VIEW_H, height=ff.VIEW_W)
        fr.screenshot(browser, os.path.join(artifacts, "web-touch-visit-landscape.png"))
        browser.as_phone()
        if ff.wait_for(browser, "%s.width === %d" % (CANVAS, round(ff.VIEW_W * ff.DPR)), 10) is None:
            fail("the canvas did not follow the turn back to portrait")
        time.sleep(1)
        check_portrait(browser, "visit after turning back", visit[:-1], visit[:-1])
        if browser.exceptions:
            fail("uncaught exception in the page: %s" % browser.exceptions[0])
    finally:
        browser.close()
        httpd.shutdown()
        shutil.rmtree(profile, ignore_errors=True)
    print("PASSED")


if __name__ == "__main__":
    main()
