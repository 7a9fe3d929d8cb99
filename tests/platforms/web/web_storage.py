#!/usr/bin/env python3
"""The web field app's store kept in the browser (IndexedDB), in real headless Chromium.

    web_storage.py SITE_DIR ARTIFACTS_DIR [--saves N]

Same page, server and browser as first_frame.py, taps and typing as first_run.py. The page is
opened with ?ck-test-kdf (honoured on a loopback host only: Argon2id at the tests' low cost, as
the desktop's --test-kdf; the default cost is untouched). One Chromium profile throughout:

  1. first run: the store is made and copied to IndexedDB; the browser's answer to
     navigator.storage.persist() is shown (headless Chromium refuses: the visits screen must
     carry the warning);
  2. a visit: a date, then a distinctive answer typed key by key; every keystroke is an
     autosave; the app must say "saving" until the copy holding it completes, then "saved";
  3. nothing typed is readable in browser storage: every IndexedDB entry (the store, its log,
     the settings), localStorage and sessionStorage are read from the page, and neither the
     typed answer's bytes nor the passphrase's appear anywhere (while the SQLite header does:
     the bytes read are the real store);
  4. reload: unlock, the draft and its answers are there;
  5. failure path: the browser's storage refuses the copy (a QuotaExceededError, injected):
     the form says "not saved", never "saved", for the change; after a reload that change
     is gone and the one before it is there;
  6. failure path: a wrong passphrase after the reload is refused and IndexedDB is unchanged;
  7. the tab is closed and a new one opened on the same profile: unlock, the answers are there;
  8. with persistent storage granted (Browser.grantPermissions durableStorage) the warning
     goes and settings says the data is kept.

Prints the figures: autosave to durable (median, p99, over the keystrokes of step 2 and of
--saves more), copies and bytes, and memory after unlock with the visit open.
Exit status as first_frame.py (77: skipped).
"""
import base64
import hashlib
import json
import os
import shutil
import statistics
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import first_frame as ff  # noqa: E402  (skips when python3-websocket is missing)
import first_run as fr  # noqa: E402

PASSPHRASE = "field officer 2026 kept"
ANSWER = "Qzvyx Hosiery Works 7391"  # distinctive: its bytes must appear nowhere in storage
LOST = " LOSTCHANGE"
UNLOCK_LIMIT_S = 60
VISITS, FORM, UNLOCK = 2, 3, 1  # ck::Screen values (app_model.h)
ARTIFACTS = None  # where a failure's screenshot goes


def state(browser, question=""):
    value = browser.evaluate("JSON.stringify(window.ckAppState && window.ckAppState(%s))" % json.dumps(question))
    return json.loads(value) if value else {}


def wait_state(browser, test, limit_s, what, question=""):
    deadline = time.time() + limit_s
    s = {}
    while time.time() < deadline:
        s = state(browser, question)
        if s and test(s):
            return s
        time.sleep(0.2)
    ARTIFACTS and fr.screenshot(browser, os.path.join(ARTIFACTS, "web-storage-failed.png"))
    ff.fail("%s: not within %d s (app state %s; console %s)" % (what, limit_s, s, browser.console[-5:]))


def wait_settled(browser, limit_s=20):
    if not ff.wait_for(browser, "ckStore.loaded && !ckStore.inFlight && ckStore.durable >= ckStore.requested && 1",
                       limit_s):
        ff.fail("copies to IndexedDB did not settle within %d s" % limit_s)


# Every IndexedDB entry of the app's folder (web_storage_pre.js: "<path>" describes a file,
# "<path>\0<n>" is its n-th piece), localStorage and sessionStorage.
READ_STORAGE = r"""
new Promise(function (resolve, reject) {
  var out = { entries: {}, local: JSON.stringify(localStorage), session: JSON.stringify(sessionStorage) };
  var req = indexedDB.open("clusterkit-data");
  req.onerror = function () { reject(String(req.error)); };
  req.onsuccess = function () {
    var db = req.result;
    var tx = db.transaction(["files"], "readonly");
    var cursor = tx.objectStore("files").openCursor();
    cursor.onsuccess = function () {
      var c = cursor.result;
      if (!c) { db.close(); resolve(JSON.stringify(out)); return; }
      var v = c.value, text;
      if (v instanceof Uint8Array) {
        var s = "";
        for (var i = 0; i < v.length; i += 8192) s += String.fromCharCode.apply(null, v.subarray(i, i + 8192));
        text = "b64:" + btoa(s);
      } else {
        text = "json:" + JSON.stringify(v);
      }
      out.entries[c.key] = text;
      c.continue();
    };
  };
})
"""


def read_storage(browser):
    """{path: the file's bytes, pieces joined in order}, and the other storages' bytes (with the
    files' descriptions)."""
    r = browser.call("Runtime.evaluate", expression=READ_STORAGE, awaitPromise=True, returnByValue=True)
    if "exceptionDetails" in r:
        ff.fail("could not read IndexedDB: %s" % r["exceptionDetails"])
    raw = json.loads(r["result"]["value"])
    pieces, other = {}, (raw["local"] + raw["session"]).encode()
    for key, value in raw["entries"].items():
        if value.startswith("b64:"):
            path, n = key.split("\0")
            pieces.setdefault(path, {})[int(n)] = base64.b64decode(value[4:])
        else:
            other += key.encode() + value.encode()
    files = {path: b"".join(p[i] for i in sorted(p)) for path, p in pieces.items()}
    return files, other


def digest(files):
    h = hashlib.sha256()  # of the files' bytes (the descriptions carry times)
    for k in sorted(files):
        h.update(k.encode() + b"\0" + files[k])
    return h.hexdigest()


def unlock(browser, passphrase):
    fr.rect(browser, "unlock_passphrase", UNLOCK_LIMIT_S)
    fr.tap(browser, "unlock_passphrase")
    fr.type_text(browser, passphrase)
    fr.tap(browser, "unlock")


def open_page(browser, url):
    browser.call("Page.navigate", url=url)
    if not ff.wait_for(browser, "window.ckFirstFrame && JSON.stringify(window.ckFirstFrame)", ff.FIRST_FRAME_LIMIT_S):
        ff.fail("no first frame")


def reopen_tab(browser, profile, url):
    """Closes the page's tab and opens the app in a new tab of the same browser (profile)."""
    port = int(open(os.path.join(profile, "DevToolsActivePort")).read().split()[0])
    old = json.loads(browser._get(port, "/json/list"))
    old_ids = [t["id"] for t in old if t["type"] == "page"]
    browser.ws.close()
    import urllib.request
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    req = urllib.request.Request("http://127.0.0.1:%d/json/new?about:blank" % port, method="PUT")
    target = json.loads(opener.open(req, timeout=10).read().decode())
    for i in old_ids:
        opener.open("http://127.0.0.1:%d/json/close/%s" % (port, i), timeout=10).read()
    browser.ws = ff.websocket.create_connection(target["webSocketDebuggerUrl"], timeout=30)
    browser.as_phone()
    open_page(browser, url)


def resume_draft(browser, visit_id, what):
    """After an unlock in a new page: the draft is listed; Resume opens it where it was left."""
    wait_state(browser, lambda s: s.get("unlocked") and visit_id in [v["id"] for v in s.get("visits") or []],
               UNLOCK_LIMIT_S, "the draft listed " + what)
    fr.rect(browser, "resume_" + visit_id, 10)
    ff.wait_for(browser, "ckStore.persisted !== null && 1", 10)  # the warning's line is settled
    time.sleep(0.5)
    fr.tap(browser, "resume_" + visit_id)
    return wait_state(browser, lambda s: s.get("screen") == FORM and s.get("visit") == visit_id, 15,
                      "the draft reopened " + what, "officer_id")


def percentile(values, p):
    values = sorted(values)
    return values[min(len(values) - 1, int(round(p / 100.0 * (len(values) - 1))))]


def main():
    args = sys.argv[1:]
    saves = 0
    if "--saves" in args:
        i = args.index("--saves")
        saves = int(args[i + 1])
        del args[i:i + 2]
    if len(args) != 2:
        print(__doc__)
        sys.exit(2)
    site, artifacts = args
    global ARTIFACTS
    ARTIFACTS = artifacts
    if not shutil.which("chromium"):
        ff.skip("Debian chromium is not installed")
    if not os.path.exists(os.path.join(site, "clusterkit.wasm")):
        ff.skip("no web build in %s: build it with platforms/web/build (README there)" % site)
    if "ckStore" not in open(os.path.join(site, "clusterkit.js")).read():
        ff.skip("the web build in %s predates the IndexedDB store: build it again" % site)
    os.makedirs(artifacts, exist_ok=True)
    profile = tempfile.mkdtemp(prefix="ck-web-storage.")
    httpd = ff.serve(site, isolated=True)
    browser = ff.Browser(profile)
    url = "http://127.0.0.1:%d/index.html?ck-test-kdf" % httpd.server_address[1]
    try:
        browser.as_phone()
        # 1. First run.
        fr.open_first_run(browser, url)
        fr.type_passphrases(browser, PASSPHRASE)
        fr.tap(browser, "create")
        fr.rect(browser, "start_cluster-diagnostic", UNLOCK_LIMIT_S)
        wait_settled(browser)
        files, described = read_storage(browser)
        # A new WAL store: its pages are in the log until a checkpoint (page 1 among them).
        if b"/data/officer.ckstore{" not in described.replace(b"json:", b"") or \
                not any(b"SQLite format 3\0" in v for v in files.values()):
            ff.fail("after the first run IndexedDB holds no store: %s" % sorted(files))
        if not ff.wait_for(browser, "ckStore.persisted !== null && 1", 10):
            ff.fail("the app never learnt whether the browser keeps its data")
        persisted = browser.evaluate("ckStore.persisted")
        print("first run: IndexedDB holds %s; navigator.storage.persist() answered %s" % (sorted(files), persisted))
        if persisted is False and not ff.wait_for(browser, "window.ckItemRect('storage_warning')", 5):
            ff.fail("the browser refused persistent storage and the visits screen does not say so")

        # 2. A visit: a date, then the distinctive answer, key by key.
        time.sleep(1)
        fr.screenshot(browser, os.path.join(artifacts, "web-storage-visits-first-run.png"))
        print("visits screen: start %r, warning %r" % (browser.evaluate("window.ckItemRect('start_cluster-diagnostic')"),
                                                      browser.evaluate("window.ckItemRect('storage_warning')")))
        fr.tap(browser, "start_cluster-diagnostic")
        s = wait_state(browser, lambda s: s.get("screen") == FORM, 10, "the form")
        if s.get("question") != "visit_date":
            ff.fail("the flagship form opened at %s, not visit_date" % s.get("question"))
        fr.tap(browser, "answer")
        fr.type_text(browser, "2026-12-07")
        fr.tap(browser, "next")
        s = wait_state(browser, lambda s: s.get("question") == "officer_id", 10, "officer_id shown")
        fr.tap(browser, "answer")
        seen_saving = False
        for ch in ANSWER:
            fr.type_text(browser, ch)
            seen_saving |= bool(state(browser).get("saving"))
        s = wait_state(browser, lambda s: s.get("saved"), 20, "'saved' after typing", "officer_id")
        if s.get("answer") != ANSWER:
            ff.fail("the typed answer is %r, not %r" % (s.get("answer"), ANSWER))
        visit_id = s["visit"]
        if not browser.evaluate("ckStore.durable >= ckStore.requested && !ckStore.inFlight"):
            ff.fail("'saved' is shown while a copy is still pending")
        print("typed %d keys: 'saving' seen while copies were pending: %s" % (len(ANSWER), seen_saving))
        for _ in range(saves):  # the bench: more autosaves, one per keystroke
            fr.type_text(browser, "x")
        typed = ANSWER + "x" * saves
        if saves:
            wait_state(browser, lambda s: s.get("saved") and s.get("answer") == typed, 60,
                       "'saved' after the bench's keystrokes", "officer_id")
        wait_settled(browser)
        lat = browser.evaluate("ckStore.latencies")
        copies = browser.evaluate("ckStore.copies")
        copied = browser.evaluate("ckStore.bytesCopied")
        mem = browser.evaluate("JSON.stringify({heap: wasmMemory.buffer.byteLength, "
                               "js: performance.memory ? performance.memory.usedJSHeapSize : -1, "
                               "jsTotal: performance.memory ? performance.memory.totalJSHeapSize : -1})")
        fr.screenshot(browser, os.path.join(artifacts, "web-storage-saved.png"))
        if lat:
            print("autosave to durable in IndexedDB: %d saves, median %.1f ms, p99 %.1f ms, max %.1f ms; "
                  "%d copies, %.1f MB copied" % (len(lat), statistics.median(lat), percentile(lat, 99), max(lat),
                                                 copies, copied / 1e6))

        # 3. Nothing typed is readable in browser storage.
        files, other = read_storage(browser)
        blob = b"\0".join(files.values()) + other
        for secret, what in ((ANSWER, "the typed answer"), (PASSPHRASE, "the passphrase"),
                             ("Qzvyx", "part of the typed answer")):
            for form in (secret.encode("utf-8"), secret.encode("utf-16-le")):
                if form in blob:
                    ff.fail("%s is readable in browser storage" % what)
        if b"SQLite format 3\0" not in blob:
            ff.fail("the bytes read from IndexedDB hold no SQLite store: the check above proves nothing")
        sizes = {k: len(v) for k, v in files.items()}
        print("IndexedDB after the visit: %s; neither the answer nor the passphrase in it" % sizes)

        # 4. Reload: the draft and its answers are there.
        open_page(browser, url)
        unlock(browser, PASSPHRASE)
        s = resume_draft(browser, visit_id, "after the reload")
        if s.get("answer") != typed:
            ff.fail("after the reload the answer is %r, not %r" % (s.get("answer"), typed))
        mem_reopened = browser.evaluate("JSON.stringify({heap: wasmMemory.buffer.byteLength, "
                                        "js: performance.memory ? performance.memory.usedJSHeapSize : -1})")
        print("reload: unlocked, visit %s reopened at %s with its answer" % (visit_id, s.get("question")))

        # 5. The browser refuses a copy: "not saved", and the change is gone after a reload.
        wait_settled(browser)
        browser.evaluate("ckStore.realDb = ckStore.db; ckStore.db = { transaction: function () {"
                         " throw new DOMException('injected by the test', 'QuotaExceededError'); } }; 1")
        s = wait_state(browser, lambda s: s.get("question") == "officer_id", 10, "officer_id shown")
        fr.tap(browser, "answer")
        browser.call("Input.dispatchKeyEvent", type="keyDown", key="End", code="End", windowsVirtualKeyCode=35)
        browser.call("Input.dispatchKeyEvent", type="keyUp", key="End", code="End", windowsVirtualKeyCode=35)
        fr.type_text(browser, LOST)
        # (The cursor is where the tap put it: the end of a short answer, inside a long one.)
        s = wait_state(browser, lambda s: LOST in (s.get("answer") or "") and s.get("saveError"), 10,
                       "'not saved' for the refused copy", "officer_id")
        if "QuotaExceededError" not in s["saveError"] or s.get("saved"):
            ff.fail("a refused copy shows %s" % s)
        for _ in range(10):  # it never turns "saved" while the browser refuses
            time.sleep(0.3)
            if state(browser, "officer_id").get("saved"):
                ff.fail("'saved' shown for a change the browser refused")
        fr.screenshot(browser, os.path.join(artifacts, "web-storage-not-saved.png"))
        open_page(browser, url)
        wait_settled(browser)
        files_before = digest(read_storage(browser)[0])

        # 6. A wrong passphrase is refused, IndexedDB unchanged.
        unlock(browser, PASSPHRASE + " wrong")
        wait_state(browser, lambda s: s.get("error") and s.get("screen") == UNLOCK, UNLOCK_LIMIT_S,
                   "the wrong passphrase refused")
        time.sleep(1)
        wait_settled(browser)
        if digest(read_storage(browser)[0]) != files_before:
            ff.fail("a refused unlock changed what IndexedDB holds")
        fr.screenshot(browser, os.path.join(artifacts, "web-storage-wrong-passphrase.png"))
        unlock(browser, PASSPHRASE)  # the app wiped the field when it took the wrong one
        s = resume_draft(browser, visit_id, "after a refused copy, a reload and a wrong passphrase")
        if s.get("answer") != typed:
            ff.fail("after a refused copy and a reload the answer is %r, not the last saved %r"
                    % (s.get("answer"), typed))
        print("refused copy: 'not saved' shown, never 'saved'; after the reload the change is gone, "
              "the saved answer kept; a wrong passphrase changed nothing")

        # 6b. A reload in the instant after a change, before its copy can complete: the store
        # opens whole afterwards, with the change or without it (never half of it).
        fr.tap(browser, "answer")
        browser.call("Input.dispatchKeyEvent", type="keyDown", key="End", code="End", windowsVirtualKeyCode=35)
        browser.call("Input.dispatchKeyEvent", type="keyUp", key="End", code="End", windowsVirtualKeyCode=35)
        browser.call("Input.dispatchKeyEvent", type="keyDown", text="Z", key="Z", unmodifiedText="Z")
        browser.call("Input.dispatchKeyEvent", type="keyUp", key="Z")
        browser.call("Page.navigate", url=url)
        open_page(browser, url)
        unlock(browser, PASSPHRASE)
        s = resume_draft(browser, visit_id, "after a reload in the middle of a save")
        if (s.get("answer") or "").replace("Z", "", 1) != typed:
            ff.fail("a reload in the middle of a save left the answer %r" % s.get("answer"))
        expected = s["answer"]
        changed_kept = expected != typed
        print("reload in the instant after a keystroke: the store opened with the answer %s the change"
              % ("with" if changed_kept else "without"))

        # 7. A new tab on the same profile.
        wait_settled(browser)
        reopen_tab(browser, profile, url)
        unlock(browser, PASSPHRASE)
        s = resume_draft(browser, visit_id, "in a new tab")
        if s.get("answer") != expected:
            ff.fail("in a new tab the answer is %r, not %r" % (s.get("answer"), expected))
        print("new tab on the same profile: the visit and its answer are there")

        # 8. Persistent storage granted: the warning goes, settings says so.
        origin = "http://127.0.0.1:%d" % httpd.server_address[1]
        browser.call("Browser.grantPermissions", origin=origin, permissions=["durableStorage"])
        open_page(browser, url)
        unlock(browser, PASSPHRASE)
        wait_state(browser, lambda s: s.get("unlocked"), UNLOCK_LIMIT_S, "unlocked")
        if not ff.wait_for(browser, "ckStore.persisted === true && 1", 10):
            ff.fail("granted durableStorage, yet the page is not persisted")
        wait_state(browser, lambda s: s.get("screen") == VISITS, 10, "the visits screen")
        time.sleep(1)
        if browser.evaluate("window.ckItemRect('storage_warning')"):
            ff.fail("the warning is shown although the browser keeps the data")
        if browser.exceptions:
            ff.fail("uncaught exception in the page: %s" % browser.exceptions[0])
    finally:
        browser.close()
        httpd.shutdown()
        shutil.rmtree(profile, ignore_errors=True)

    m = json.loads(mem)
    m2 = json.loads(mem_reopened)
    print("memory with a visit open: wasm heap %.1f MiB, JS heap %.1f MiB used; after a reload and unlock: "
          "wasm heap %.1f MiB, JS heap %.1f MiB" % (m["heap"] / 2**20, m["js"] / 2**20,
                                                    m2["heap"] / 2**20, m2["js"] / 2**20))
    print("PASSED")


if __name__ == "__main__":
    main()
