#!/usr/bin/env python3
"""The web field app enrols with and syncs to a real aggregator, in headless Chromium as a phone.

    sync_to_aggregator.py SITE_DIR ARTIFACTS_DIR CK_AGGREGATOR TEMPLATE_JSON

A real `ck-aggregator serve --web-app SITE_DIR` over HTTPS on 127.0.0.1 (its own self-signed
certificate, which Chromium is told to accept as an officer accepts it once; a throwaway data
folder; TEMPLATE_JSON published), the app opened from it at /app/ (same origin: no CORS), as a
412x915 touch phone. With taps and typed characters:

  1. first run (the passphrase twice, Argon2id at its real cost);
  2. enrolment with the slip's enrolment string (`ck-aggregator enrol --server URL`): the app
     checks the server's key (GET /v1/tls-key) against the string's pin, enrols, and shows the
     data key's fingerprint (the one `ck-aggregator status` prints) and why it matters;
  3. a sync brings the published template; a visit of it is typed and finalised; a sync
     stores it: the aggregator has exactly 1 visit, from 1 upload of 1 record;
  4. a second sync sends nothing new: still 1 visit, still 1 upload;
  5. failure path: a second visit, finalised, then a sync with serve stopped: the app says the
     aggregator could not be reached and the visit stays (the aggregator still has 1); serve
     started again on the same port, the next sync stores it (2 visits);
  6. failure path: enrolling again with a string whose pin is another aggregator's (the same
     address, the key of another data folder) is refused with the sentence that the server is
     not the one on the slip, and nothing reaches /v1/enrol.

Screenshots and the aggregator's request log in ARTIFACTS_DIR. Exit status as first_frame.py
(77: skipped when chromium, python3-websocket or the web build is missing).
"""
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import first_frame as ff  # noqa: E402  (skips when python3-websocket is missing)
from first_run import PASSPHRASE, rect, screenshot, tap, type_passphrases, type_text  # noqa: E402

ADMIN_PASSPHRASE = "web sync test aggregator 2026"
CREATE_LIMIT_S = 180  # Argon2id 64 MiB x 3 passes in WebAssembly on a loaded shared machine
SYNC_LIMIT_S = 60
# An unreachable aggregator: the app's retry policy backs off up to 8 attempts (~30-60 s).
UNREACHABLE_LIMIT_S = 150
WRONG_SERVER = "is not the one on the enrolment slip"  # assets/text/en.json SyncWhyWrongServer
UNREACHABLE = "could not be reached"                    # SyncWhyUnreachable


class Aggregator:
    """`ck-aggregator` on a data folder: init, publish, enrol, status, and serve over HTTPS."""

    def __init__(self, binary, folder, name):
        self.binary, self.folder = binary, folder
        self.env = dict(os.environ, CK_ADMIN_PASSPHRASE=ADMIN_PASSPHRASE)
        self.proc = None
        self.run("init", "--host", "127.0.0.1", "--name", name, "--test-kdf")

    def run(self, *args):
        r = subprocess.run([self.binary, args[0], "--data", self.folder] + list(args[1:]), env=self.env,
                           capture_output=True, text=True, timeout=60)
        if r.returncode != 0:
            ff.fail("ck-aggregator %s failed: %s %s" % (args[0], r.stdout[-500:], r.stderr[-500:]))
        return r.stdout

    def enrolment_string(self, server_url):
        slip = self.run("enrol", "--officer", "Priya", "--cluster", "moradabad-brass", "--server", server_url)
        m = re.search(r"enrolment string: (CK1-[0-9A-Z-]+)", slip)
        if not m:
            ff.fail("no enrolment string on the slip: " + slip)
        return m.group(1)

    def status(self, what):
        m = re.search(r"^%s:\s+(.+)$" % re.escape(what), self.run("status"), re.M)
        if not m:
            ff.fail("`ck-aggregator status` prints no '%s'" % what)
        return m.group(1).strip()

    def visits(self):
        return int(self.status("visits"))

    def serve(self, site, log_path, port=0):
        self.log_path = log_path
        log = open(log_path, "a")
        self.proc = subprocess.Popen([self.binary, "serve", "--data", self.folder, "--listen", "127.0.0.1:%d" % port,
                                      "--web-app", site], env=self.env, stdout=subprocess.PIPE, stderr=log, text=True)
        url = None
        for line in self.proc.stdout:
            m = re.match(r"serving (https://127\.0\.0\.1:\d+)", line)
            if m:
                url = m.group(1)
            if line.strip() == "ready":
                break
        if not url:
            self.proc.kill()
            ff.fail("ck-aggregator serve did not start (log: %s)" % log_path)
        self.url = url
        return url

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(timeout=20)
        self.proc = None

    def requests(self, what):
        """Lines of the request log that contain `what` ("POST /v1/upload 200")."""
        with open(self.log_path) as f:
            return [line for line in f if what in line]


def text_of(browser, name):
    return browser.evaluate("window.ckItemText(%s)" % json.dumps(name)) or ""


def go_to(browser, tab):
    """The screen `tab` (Visits, Sync, Enrolment): a phone folds the tabs into a menu."""
    if not browser.evaluate("window.ckItemRect('tab_%s')" % tab):
        tap(browser, "screens_menu")
    tap(browser, "tab_" + tab)


def wait_for_outcome(browser, limit_s, artifacts, shot, done_prefix):
    """After Sync now or Enrol: ("notice", text) once a notice starting with `done_prefix`
    shows (what an earlier step left is not it), or ("error", text)."""
    deadline = time.time() + limit_s
    while time.time() < deadline:
        error, notice = text_of(browser, "error"), text_of(browser, "notice")
        if error:
            return "error", error
        if notice.startswith(done_prefix):
            return "notice", notice
        time.sleep(0.3)
    screenshot(browser, os.path.join(artifacts, shot + "-timeout.png"))
    ff.fail("no answer on screen %d s after the tap (%s; console: %s)" % (limit_s, shot, browser.console[-5:]))


def sync(browser, artifacts, shot, limit_s=SYNC_LIMIT_S):
    go_to(browser, "Sync")
    before = text_of(browser, "notice")
    tap(browser, "sync_now")
    # The last sync's notice stays until this one's tap is taken (it clears the messages).
    changed_by = time.time() + 3
    while time.time() < changed_by and before and text_of(browser, "notice") == before:
        time.sleep(0.1)
    outcome = wait_for_outcome(browser, limit_s, artifacts, shot, "Sync done")
    time.sleep(0.5)
    screenshot(browser, os.path.join(artifacts, shot + ".png"))
    return outcome


def fill_visit(browser, answers):
    """Starts a visit of field-mini, answers its three questions, finalises it."""
    go_to(browser, "Visits")
    tap(browser, "start_field-mini")
    for i, answer in enumerate(answers):
        tap(browser, "answer")
        type_text(browser, answer)
        if i + 1 < len(answers):
            tap(browser, "next")
    tap(browser, "review")
    tap(browser, "finalise")
    if not ff.wait_for(browser, "window.ckItemRect('start_field-mini')", 20):
        ff.fail("the visit was not finalised (error: %s)" % text_of(browser, "error"))


def main():
    if len(sys.argv) != 5:
        print(__doc__)
        sys.exit(2)
    site, artifacts, binary, template = sys.argv[1:5]
    if not shutil.which("chromium"):
        ff.skip("Debian chromium is not installed")
    if not os.path.exists(os.path.join(site, "clusterkit.wasm")):
        ff.skip("no web build in %s: build it with platforms/web/build (README there)" % site)
    os.makedirs(artifacts, exist_ok=True)
    for old in os.listdir(artifacts):  # a screenshot of an earlier run must not pass for this one's
        if old.endswith(".png"):
            os.remove(os.path.join(artifacts, old))
    scratch = tempfile.mkdtemp(prefix="ck-web-sync.")
    log_path = os.path.join(artifacts, "aggregator-requests.log")
    open(log_path, "w").close()
    agg = Aggregator(binary, os.path.join(scratch, "aggregator"), "Moradabad web test")
    other = Aggregator(binary, os.path.join(scratch, "other-aggregator"), "Another project")
    agg.run("templates", "publish", template)
    browser = None
    try:
        url = agg.serve(site, log_path)
        port = int(url.rsplit(":", 1)[1])
        good = agg.enrolment_string(url)
        wrong = other.enrolment_string(url)  # this address, the other folder's key and code

        # The officer accepts the aggregator's self-signed certificate once; Chromium is told to.
        browser = ff.Browser(os.path.join(scratch, "profile"), extra_args=["--ignore-certificate-errors"])
        browser.as_phone()
        browser.call("Page.navigate", url=url + "/app/index.html")
        if not ff.wait_for(browser, "window.ckFirstFrame && JSON.stringify(window.ckFirstFrame)", ff.FIRST_FRAME_LIMIT_S):
            ff.fail("no first frame from %s/app/ (console: %s)" % (url, browser.console[-5:]))

        # 1. First run.
        type_passphrases(browser, PASSPHRASE)
        tap(browser, "create")
        if not ff.wait_for(browser, "window.ckItemRect('start_cluster-diagnostic')", CREATE_LIMIT_S):
            ff.fail("no visits screen %d s after Create" % CREATE_LIMIT_S)

        # 2. Enrolment with the slip's string.
        go_to(browser, "Enrolment")
        tap(browser, "enrol_string")
        type_text(browser, good)
        if not ff.wait_for(browser, "window.ckItemRect('enrol_string_target')", 10):
            ff.fail("the enrolment screen did not decode the slip's string")
        tap(browser, "enrol_label")
        type_text(browser, "Web phone")
        screenshot(browser, os.path.join(artifacts, "web-sync-01-slip-typed.png"))
        tap(browser, "enrol")
        kind, said = wait_for_outcome(browser, SYNC_LIMIT_S, artifacts, "web-sync-02-enrolled", "Enrolled with")
        if kind != "notice":
            ff.fail("enrolment with the slip's string failed: " + said)
        data_key = agg.status("ingest key")
        if data_key not in said:
            ff.fail("the enrolment notice does not show the data key %s: %s" % (data_key, said))
        for name in ("data_key_fingerprint", "sealed_to_data_key", "server_key_checked"):
            rect(browser, name)
        screenshot(browser, os.path.join(artifacts, "web-sync-02-enrolled.png"))
        if len(agg.requests("GET /v1/tls-key 200")) < 1 or len(agg.requests("POST /v1/enrol 200")) != 1:
            ff.fail("enrolment did not check the key and then enrol once (log: %s)" % log_path)
        print("enrolled; data key %s shown" % data_key)

        # 3. The first sync brings the published template; a visit of it is stored once.
        kind, said = sync(browser, artifacts, "web-sync-03-templates")
        if kind != "notice":
            ff.fail("the first sync failed: " + said)
        fill_visit(browser, ["Shree Ganesh Brass Works", "37", "Power cuts stop the polishing line"])
        kind, said = sync(browser, artifacts, "web-sync-04-visit-stored")
        if kind != "notice" or "1 visit stored" not in said:
            ff.fail("the sync after the visit did not store it: " + said)
        uploads = agg.requests("POST /v1/upload 200")
        if agg.visits() != 1 or len(uploads) != 1 or "records=1" not in uploads[0]:
            ff.fail("expected 1 visit from 1 upload of 1 record; aggregator has %d, uploads %s"
                    % (agg.visits(), uploads))
        print("visit stored: " + said)

        # 4. A second sync sends nothing new.
        kind, said = sync(browser, artifacts, "web-sync-05-nothing-new")
        if kind != "notice":
            ff.fail("the second sync failed: " + said)
        if agg.visits() != 1 or len(agg.requests("POST /v1/upload")) != 1:
            ff.fail("the second sync sent again: %d visits, uploads %s" % (agg.visits(), agg.requests("POST /v1/upload")))

        # 5. Unreachable: the visit stays on the phone, and goes once serve is back.
        fill_visit(browser, ["Moradabad Metal Crafts", "12", "No credit for raw brass"])
        agg.stop()
        started = time.time()
        kind, said = sync(browser, artifacts, "web-sync-06-unreachable", UNREACHABLE_LIMIT_S)
        if kind != "error" or UNREACHABLE not in said:
            ff.fail("with serve stopped the sync did not say the aggregator could not be reached: " + said)
        print("serve stopped: %r after %.1f s" % (said, time.time() - started))
        if agg.visits() != 1:
            ff.fail("the aggregator changed while stopped")
        agg.serve(site, log_path, port)
        kind, said = sync(browser, artifacts, "web-sync-07-back")
        if kind != "notice" or "1 visit stored" not in said or agg.visits() != 2:
            ff.fail("once serve was back the waiting visit was not stored: %s (aggregator has %d)" % (said, agg.visits()))

        # 6. A slip whose pin is another aggregator's: refused before anything is sent.
        enrols = len(agg.requests("POST /v1/enrol"))
        go_to(browser, "Enrolment")
        tap(browser, "enrol_string")
        type_text(browser, wrong)
        if not ff.wait_for(browser, "window.ckItemRect('enrol_string_target')", 10):
            ff.fail("the enrolment screen did not decode the other slip's string")
        tap(browser, "enrol")
        kind, said = wait_for_outcome(browser, SYNC_LIMIT_S, artifacts, "web-sync-08-wrong-server", "Enrolled with")
        screenshot(browser, os.path.join(artifacts, "web-sync-08-wrong-server.png"))
        if kind != "error" or WRONG_SERVER not in said:
            ff.fail("an enrolment string with another aggregator's pin was not refused as the wrong server: " + said)
        if len(agg.requests("POST /v1/enrol")) != enrols:
            ff.fail("the refused enrolment still reached /v1/enrol")
        print("wrong pin refused: " + said)
        if browser.exceptions:
            ff.fail("uncaught exception in the page: %s" % browser.exceptions[0])
    finally:
        if browser:
            browser.close()
        agg.stop()
        shutil.rmtree(scratch, ignore_errors=True)
    print("PASSED")


if __name__ == "__main__":
    main()
