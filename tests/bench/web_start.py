#!/usr/bin/env python3
"""The web field app's speed in headless Chromium as a phone (issue 14): figures, not pass/fail.

    web_start.py SITE_DIR [--runs N]            cached start: first frame, phase by phase
    web_start.py SITE_DIR --first-run [--runs N]  "Create" tap to the visits screen
    web_start.py --argon2 CASES_JS [OPS MIB] [--runs N]
                                                Argon2id alone in Chromium's WebAssembly

Cached start: the page is opened once from a loopback server (cross-origin isolated, as
tests/platforms/web/first_frame.py serves it), the service worker takes the app's files, the
server is stopped, then the page is reloaded N times (default 5), each time wholly from the
service worker's cache. Each reload's start-up marks (site/shell.js before main(), main.cpp
after it) are split into phases; the median of each phase is printed, with the median total.
The phases are consecutive intervals, so they add up to the total (up to rounding of medians).

First run: N fresh pages (the origin's IndexedDB, where the store is kept, cleared first): both
passphrase fields typed, "Create" tapped, timed until the visits screen shows the flagship
template (Argon2id at the app's default cost on a worker thread, the store created, the
templates imported).

--argon2: the web build of tests/platforms/web/argon2id_cases.cpp (build-web/tests/
ck_web_argon2id_cases.js) run in a cross-origin isolated page: N Argon2id runs at OPS passes x
MIB MiB (default: the app's default cost, 8 x 24), the median as the program prints it.

The machine's load average is printed before and after: on a shared machine it moves the
figures a lot.
"""
import json
import os
import shutil
import statistics
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "platforms", "web"))
import first_frame as ff  # noqa: E402  (skips when python3-websocket is missing)
import first_run as fr  # noqa: E402

# The phases of a start, each from the previous mark to its own (ms since navigation).
PHASES = [
    ("page and shell.js", "ck-shell"),
    ("clusterkit.js loaded and run, wasm fetch begun", "ck-wasm-start"),
    ("wasm fetched, compiled, instantiated", "ck-wasm-ready"),
    ("worker pool and .data ready (all run dependencies)", "ck-deps-0"),
    ("runtime start to main()", "ck-main"),
    ("main: GLFW, WebGL 2 context, ImGui GL backend", "ck-gl"),
    ("main: FieldApp constructor", "ck-app"),
    ("main: fonts loaded (TextEngine)", "ck-fonts"),
    ("main returns, wait for the first animation frame", "ck-frame-start"),
    ("first frame: font atlas", "ck-atlas"),
    ("first frame: shaders (first NewFrame)", "ck-shaders"),
    ("first frame: the app's UI built", "ck-ui"),
    ("first frame: drawn", "ck-first-frame"),
]


def loadavg():
    with open("/proc/loadavg") as f:
        return " ".join(f.read().split()[:3])


def chromium_cpu_s(browser):
    """CPU seconds (user + system) used so far by the browser and all its processes (renderer
    with its workers, GPU process with SwiftShader): on a shared machine, what the work cost,
    whatever else was running."""
    tick = os.sysconf("SC_CLK_TCK")
    parent, cpu = {}, {}
    for pid in os.listdir("/proc"):
        if not pid.isdigit():
            continue
        try:
            with open("/proc/%s/stat" % pid) as f:
                fields = f.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        parent[int(pid)] = int(fields[1])
        cpu[int(pid)] = (int(fields[11]) + int(fields[12])) / tick
    total, todo = 0.0, [browser.proc.pid]
    while todo:
        pid = todo.pop()
        total += cpu.get(pid, 0.0)
        todo.extend(p for p, pp in parent.items() if pp == pid)
    return total


def median(values):
    return statistics.median(values) if values else float("nan")


# The page's start-up marks, how its files came (service worker or network) and the first
# frame as main.cpp reports it, in ms since navigation.
START_TIMES = """window.ckFirstFrame && JSON.stringify({
  first: window.ckFirstFrame,
  marks: performance.getEntriesByType("mark").filter(function (m) { return m.name.indexOf("ck-") === 0; })
           .map(function (m) { return [m.name, m.startTime]; }),
  files: performance.getEntriesByType("resource").map(function (r) {
           return { name: r.name.replace(/^.*\\//, ""), responseEnd: r.responseEnd, fromServiceWorker: r.workerStart > 0 };
         })
})"""


def start_times(browser):
    text = ff.wait_for(browser, START_TIMES, ff.FIRST_FRAME_LIMIT_S)
    if not text:
        ff.fail("no first frame")
    return json.loads(text)


def phases_of(times):
    marks = {}
    for name, t in times["marks"]:
        marks.setdefault(name, t)  # the first of each name
    out, last = {}, 0.0
    for label, name in PHASES:
        if name not in marks:
            out[label] = None
            continue
        out[label] = marks[name] - last
        last = marks[name]
    # (A build without the marks still reports these two.)
    out["total (first frame after navigation)"] = times["first"]["msSinceNavigation"]
    out["of which after main()"] = times["first"]["msSinceStart"]
    files = {f["name"]: f for f in times["files"]}
    for name in ("clusterkit.js", "clusterkit.wasm", "clusterkit.data"):
        if name in files:
            out["(%s response end)" % name] = files[name]["responseEnd"]
    out["_from_sw"] = all(f["fromServiceWorker"] for f in times["files"] if f["name"].startswith("clusterkit."))
    return out


def cached_start(site, runs):
    profile = tempfile.mkdtemp(prefix="ck-web-bench.")
    httpd = ff.serve(site, isolated=True)
    browser = ff.Browser(profile)
    rows = []
    try:
        browser.as_phone()
        browser.call("Page.navigate", url="http://127.0.0.1:%d/index.html" % httpd.server_address[1])
        first = phases_of(start_times(browser))
        kept = browser.call("Runtime.evaluate", expression="window.ckOffline", awaitPromise=True,
                            returnByValue=True, timeout=60000)
        if kept.get("result", {}).get("value") is not True:
            ff.fail("the service worker did not take the app's files")
        httpd.shutdown()
        httpd.server_close()
        for _ in range(runs):
            time.sleep(1.0)  # the previous page's workers and GC settle
            browser.call("Page.reload", ignoreCache=False)
            time.sleep(0.3)
            rows.append(phases_of(start_times(browser)))
    finally:
        browser.close()
        shutil.rmtree(profile, ignore_errors=True)
    print("first load from the loopback server: first frame %.0f ms after navigation" %
          first["total (first frame after navigation)"])
    print("cached start (server stopped, every file from the service worker: %s), %d reloads, medians:"
          % ("yes" if all(r["_from_sw"] for r in rows) else "NO", runs))
    for key in [label for label, _ in PHASES] + [k for k in rows[0] if not k.startswith("_") and
                                                  k not in dict(PHASES)]:
        values = [r[key] for r in rows if r.get(key) is not None]
        if not values:
            print("  %-55s  (no mark)" % key)
            continue
        print("  %-55s %7.0f ms   (runs: %s)" % (key, median(values), " ".join("%.0f" % v for v in values)))


def first_runs(site, runs):
    profile = tempfile.mkdtemp(prefix="ck-web-bench.")
    httpd = ff.serve(site, isolated=True)
    browser = ff.Browser(profile)
    url = "http://127.0.0.1:%d/index.html" % httpd.server_address[1]
    took, cpu = [], []
    try:
        browser.as_phone()
        origin = "http://127.0.0.1:%d" % httpd.server_address[1]
        for _ in range(runs):
            # The store persists in IndexedDB (web_storage_pre.js): each run starts from none.
            browser.call("Storage.clearDataForOrigin", origin=origin, storageTypes="indexeddb")
            fr.open_first_run(browser, url)
            fr.type_passphrases(browser, fr.PASSPHRASE)
            cpu0 = chromium_cpu_s(browser)
            fr.tap(browser, "create")
            started = time.time()
            if not ff.wait_for(browser, "window.ckItemRect('start_cluster-diagnostic')", fr.CREATE_LIMIT_S):
                ff.fail("no visits screen %d s after Create" % fr.CREATE_LIMIT_S)
            took.append(time.time() - started)
            cpu.append(chromium_cpu_s(browser) - cpu0)
            print("  run %d: %.1f s, Chromium's CPU meanwhile %.1f s" % (len(took), took[-1], cpu[-1]))
    finally:
        browser.close()
        httpd.shutdown()
        shutil.rmtree(profile, ignore_errors=True)
    print("first run, Create tap to the visits screen: median %.1f s of %d, Chromium's CPU (all its "
          "processes; includes the tap's wait and the frames drawn meanwhile) median %.1f s" % (median(took), runs, median(cpu)))


ARGON2_PAGE = """<!doctype html><meta charset="utf-8"><script>
var Module = { arguments: %s, print: function (t) { console.log(t); }, printErr: function (t) { console.error(t); } };
</script><script src="cases.js"></script>"""


def argon2_in_chromium(cases_js, ops, mib, runs):
    site = tempfile.mkdtemp(prefix="ck-web-argon2.")
    shutil.copy(cases_js, os.path.join(site, "cases.js"))
    for extra in ("wasm", "worker.js"):
        other = cases_js[:-len(".js")] + "." + extra
        if os.path.exists(other):
            shutil.copy(other, os.path.join(site, "cases." + extra))
    with open(os.path.join(site, "index.html"), "w") as f:
        f.write(ARGON2_PAGE % json.dumps(["--time", str(ops), str(mib), str(runs)]))
    profile = tempfile.mkdtemp(prefix="ck-web-bench.")
    httpd = ff.serve(site, isolated=True)
    browser = ff.Browser(profile)
    try:
        browser.as_phone()
        cpu0 = chromium_cpu_s(browser)
        browser.call("Page.navigate", url="http://127.0.0.1:%d/index.html" % httpd.server_address[1])
        deadline = time.time() + 60 * runs + 60
        while time.time() < deadline and not any(line.startswith("median-ms") for line in browser.console):
            browser.evaluate("1")  # reads the console events
            time.sleep(0.5)
        cpu = chromium_cpu_s(browser) - cpu0
        for line in browser.console:
            print("  " + line)
        print("  Chromium's CPU for the page (load, compile, %d runs): %.2f s" % (runs, cpu))
        if browser.exceptions:
            ff.fail("exception: %s" % browser.exceptions[0])
    finally:
        browser.close()
        httpd.shutdown()
        shutil.rmtree(profile, ignore_errors=True)
        shutil.rmtree(site, ignore_errors=True)


def main():
    args = sys.argv[1:]
    runs = 5
    if "--runs" in args:
        i = args.index("--runs")
        runs = int(args[i + 1])
        del args[i:i + 2]
    print("load average before: %s (%d cores)" % (loadavg(), os.cpu_count()))
    if args and args[0] == "--argon2":
        ops, mib = (int(args[2]), int(args[3])) if len(args) >= 4 else (8, 24)
        argon2_in_chromium(args[1], ops, mib, runs if "--runs" in sys.argv else 3)
    elif len(args) == 2 and args[1] == "--first-run":
        first_runs(args[0], runs if "--runs" in sys.argv else 3)
    elif len(args) == 1:
        cached_start(args[0], runs)
    else:
        print(__doc__)
        sys.exit(2)
    print("load average after: %s" % loadavg())


if __name__ == "__main__":
    main()
