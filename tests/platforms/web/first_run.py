#!/usr/bin/env python3
"""The web field app's first run with touch, in real headless Chromium as a 412x915 phone.

    first_run.py SITE_DIR ARTIFACTS_DIR

Same page, server and browser as first_frame.py. With touch taps (Input.dispatchTouchEvent at
the widgets' rects the app reports) and typed characters:

  1. failure path: two different passphrases, "Create": the app stays on the first-run screen
     and makes no store (no visits screen within 5 s);
  2. after a reload, the same passphrase twice, "Create": the app derives the vault key
     (Argon2id at its real cost, 64 MiB, on a worker thread), creates the encrypted SQLite store,
     imports the bundled templates and shows the visits screen with "Start a new visit" for the
     flagship template. Prints how long that took. Screenshots in ARTIFACTS_DIR.

Exit status as first_frame.py (77: skipped).
"""
import base64
import json
import os
import shutil
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import first_frame as ff  # noqa: E402  (skips when python3-websocket is missing)

PASSPHRASE = "field officer 2026"
CREATE_LIMIT_S = 150  # Argon2id 64 MiB x 3 passes in WebAssembly on a loaded shared machine


def rect(browser, name, limit_s=10):
    text = ff.wait_for(browser, "window.ckItemRect(%s)" % json.dumps(name), limit_s)
    if not text:
        ff.fail("'%s' is not on screen" % name)
    x0, y0, x1, y1 = (float(v) for v in text.split())
    return (x0 + x1) / 2, (y0 + y1) / 2


def tap(browser, name):
    time.sleep(0.5)  # the layout settles after the last input (a message line may appear)
    x, y = rect(browser, name)
    browser.call("Input.dispatchTouchEvent", type="touchStart", touchPoints=[{"x": x, "y": y}])
    time.sleep(0.1)
    browser.call("Input.dispatchTouchEvent", type="touchEnd", touchPoints=[])
    time.sleep(0.3)


def type_text(browser, text):
    for ch in text:
        browser.call("Input.dispatchKeyEvent", type="keyDown", text=ch, key=ch, unmodifiedText=ch)
        browser.call("Input.dispatchKeyEvent", type="keyUp", key=ch)
        time.sleep(0.03)


def type_passphrases(browser, passphrase, confirm=None):
    """Types the first-run screen's passphrase and its confirmation (the same, unless given)."""
    tap(browser, "new_passphrase")
    type_text(browser, passphrase)
    tap(browser, "confirm_passphrase")
    type_text(browser, passphrase if confirm is None else confirm)


def screenshot(browser, path):
    shot = browser.call("Page.captureScreenshot", format="png")
    with open(path, "wb") as f:
        f.write(base64.b64decode(shot["data"]))


def open_first_run(browser, url):
    browser.call("Page.navigate", url=url)
    if not ff.wait_for(browser, "window.ckFirstFrame && JSON.stringify(window.ckFirstFrame)", ff.FIRST_FRAME_LIMIT_S):
        ff.fail("no first frame")
    rect(browser, "new_passphrase")


def main():
    if len(sys.argv) != 3:
        print(__doc__)
        sys.exit(2)
    site, artifacts = sys.argv[1], sys.argv[2]
    if not shutil.which("chromium"):
        ff.skip("Debian chromium is not installed")
    if not os.path.exists(os.path.join(site, "clusterkit.wasm")):
        ff.skip("no web build in %s: build it with platforms/web/build (README there)" % site)
    os.makedirs(artifacts, exist_ok=True)
    profile = tempfile.mkdtemp(prefix="ck-web-chromium.")
    httpd = ff.serve(site, isolated=True)
    browser = ff.Browser(profile)
    url = "http://127.0.0.1:%d/index.html" % httpd.server_address[1]
    try:
        browser.as_phone()
        # 1. Two different passphrases are refused.
        open_first_run(browser, url)
        type_passphrases(browser, PASSPHRASE, PASSPHRASE + "x")
        tap(browser, "create")
        if ff.wait_for(browser, "window.ckItemRect('start_cluster-diagnostic')", 5):
            ff.fail("two different passphrases made a store")
        rect(browser, "new_passphrase")  # still the first-run screen
        screenshot(browser, os.path.join(artifacts, "web-first-run-mismatch.png"))

        # 2. The same passphrase twice makes the store and opens the visits screen.
        open_first_run(browser, url)
        type_passphrases(browser, PASSPHRASE)
        tap(browser, "create")
        started = time.time()
        if not ff.wait_for(browser, "window.ckItemRect('start_cluster-diagnostic')", CREATE_LIMIT_S):
            screenshot(browser, os.path.join(artifacts, "web-first-run-create-failed.png"))
            ff.fail("no visits screen with the flagship template %d s after Create (console: %s)"
                    % (CREATE_LIMIT_S, browser.console[-5:]))
        took = time.time() - started
        if browser.exceptions:
            ff.fail("uncaught exception in the page: %s" % browser.exceptions[0])
        screenshot(browser, os.path.join(artifacts, "web-visits-after-first-run.png"))
        print("store created and visits screen shown %.1f s after the Create tap "
              "(Argon2id 64 MiB x 3 in WebAssembly, template import)" % took)
    finally:
        browser.close()
        httpd.shutdown()
        shutil.rmtree(profile, ignore_errors=True)
    print("PASSED")


if __name__ == "__main__":
    main()
