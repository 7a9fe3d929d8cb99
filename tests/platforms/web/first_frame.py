#!/usr/bin/env python3
"""The web field app's first frame in real headless Chromium, as a phone shows it.

    first_frame.py SITE_DIR ARTIFACTS_DIR [--aggregator CK_AGGREGATOR]

Serves SITE_DIR (the web build's page: index.html, clusterkit.js/.wasm/.worker.js/.data) on
127.0.0.1 with the cross-origin isolation headers the app's threads need, opens it in Debian's
chromium (headless, 412x915 CSS px at devicePixelRatio 2.625, touch, a phone's user agent)
driven over the Chrome DevTools Protocol, and checks:

  1. the app draws its first frame (window.ckFirstFrame, set by platforms/web/main.cpp) within
     the time limit, with no uncaught exception;
  2. that frame is the first-run screen: the app reports the passphrase fields and the create
     button (FieldApp::itemRect through window.ckItemRect), inside the phone's viewport;
  3. the screenshot (ARTIFACTS_DIR/web-first-run-412x915.png) is a rendered canvas, not
     blank: many distinct colours, and the passphrase field's rows differ from the background;
  4. offline start: once the service worker says it holds the app's files, the server is
     stopped and the page reloaded: the first-run screen comes back, from the cache;
  5. the failure path: the same page served WITHOUT the isolation headers cannot start the
     app's threads: no first frame, and the page says why.

With --aggregator, steps 1 to 4 run against a real `ck-aggregator serve --web-app SITE_DIR`
(a throwaway data folder, plain HTTP on loopback) instead of the script's own server: the app
as the aggregator hands it out, with its Content-Security-Policy, isolation headers and
compressed files, and the offline start with that aggregator stopped.

Exit status: 0 passed, 1 failed, 77 skipped (chromium, the web build or python3-websocket
missing; CTest maps 77 to "skipped"). Prints the first-frame time.
"""
import base64
import http.server
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request

SKIP = 77
VIEW_W, VIEW_H, DPR = 412, 915, 2.625
FIRST_FRAME_LIMIT_S = 90  # generous: SwiftShader WebGL on a shared 2-core machine
PHONE_UA = ("Mozilla/5.0 (Linux; Android 13; Pixel 7) AppleWebKit/537.36 (KHTML, like Gecko) "
            "Chrome/120.0.0.0 Mobile Safari/537.36")


def skip(why):
    print("SKIPPED: " + why)
    sys.exit(SKIP)


def fail(why):
    print("FAILED: " + why)
    sys.exit(1)


try:
    import websocket  # Debian python3-websocket (websocket-client)
except ImportError:
    skip("python3-websocket is not installed (scripts/install-deps --web)")


class Handler(http.server.SimpleHTTPRequestHandler):
    isolated = True
    extensions_map = dict(http.server.SimpleHTTPRequestHandler.extensions_map,
                          **{".wasm": "application/wasm", ".js": "text/javascript",
                             ".data": "application/octet-stream", ".json": "application/json"})

    def end_headers(self):
        if self.isolated:
            self.send_header("Cross-Origin-Opener-Policy", "same-origin")
            self.send_header("Cross-Origin-Embedder-Policy", "require-corp")
        self.send_header("Cache-Control", "no-store")
        super().end_headers()

    def log_message(self, *args):
        pass


def serve(site, isolated):
    handler = type("H", (Handler,), {"isolated": isolated})
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0),
                                            lambda *a: handler(*a, directory=site))
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    return httpd


class AggregatorServer:
    """A real `ck-aggregator serve --web-app SITE` on 127.0.0.1, shaped like the server above
    (server_address, shutdown, server_close), the app at /app/."""

    def __init__(self, binary, site, scratch):
        data = os.path.join(scratch, "aggregator")
        env = dict(os.environ, CK_ADMIN_PASSPHRASE="web first frame test passphrase 2026")
        subprocess.run([binary, "init", "--test-kdf", "--data", data], env=env, check=True, capture_output=True)
        self.proc = subprocess.Popen([binary, "serve", "--data", data, "--listen", "127.0.0.1:0", "--http",
                                      "--web-app", site], env=env, stdout=subprocess.PIPE,
                                     stderr=subprocess.DEVNULL, text=True)
        port = None
        for line in self.proc.stdout:
            if line.startswith("serving http://127.0.0.1:"):
                port = int(line.split(":")[2].split()[0])
            if line.strip() == "ready":
                break
        if port is None:
            self.proc.kill()
            fail("ck-aggregator serve --web-app did not start")
        self.server_address = ("127.0.0.1", port)

    def shutdown(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(timeout=20)

    def server_close(self):
        pass


class Browser:
    """One headless chromium and one page, over the DevTools protocol."""

    def __init__(self, profile, extra_args=()):
        self.proc = subprocess.Popen(
            ["chromium", "--headless=new", "--no-sandbox", "--no-first-run", "--no-default-browser-check",
             "--remote-debugging-address=127.0.0.1", "--remote-debugging-port=0",
             "--user-data-dir=" + profile, "--enable-unsafe-swiftshader", "--use-angle=swiftshader",
             "--ignore-gpu-blocklist"] + list(extra_args) + ["about:blank"],
            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        port_file = os.path.join(profile, "DevToolsActivePort")
        deadline = time.time() + 30
        while not os.path.exists(port_file) or len(open(port_file).read().split()) < 2:
            if time.time() > deadline or self.proc.poll() is not None:
                fail("chromium did not start its DevTools endpoint")
            time.sleep(0.1)
        port = int(open(port_file).read().split()[0])
        targets = json.loads(self._get(port, "/json/list"))
        page = next(t for t in targets if t["type"] == "page")
        self.ws = websocket.create_connection(page["webSocketDebuggerUrl"], timeout=30)
        self.next_id = 0
        self.console = []
        self.exceptions = []

    @staticmethod
    def _get(port, path):
        # Straight to loopback, whatever proxy the environment names.
        opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
        deadline = time.time() + 20
        while True:
            try:
                with opener.open("http://127.0.0.1:%d%s" % (port, path), timeout=10) as r:
                    return r.read().decode()
            except OSError:
                if time.time() > deadline:
                    raise
                time.sleep(0.2)

    def call(self, method, **params):
        self.next_id += 1
        my_id = self.next_id
        self.ws.send(json.dumps({"id": my_id, "method": method, "params": params}))
        while True:
            msg = json.loads(self.ws.recv())
            if msg.get("id") == my_id:
                if "error" in msg:
                    fail("%s: %s" % (method, msg["error"]))
                return msg.get("result", {})
            self._event(msg)

    def _event(self, msg):
        method = msg.get("method")
        if method == "Runtime.consoleAPICalled":
            args = msg["params"].get("args", [])
            self.console.append(" ".join(str(a.get("value", a.get("description", ""))) for a in args))
        elif method == "Runtime.exceptionThrown":
            d = msg["params"]["exceptionDetails"]
            self.exceptions.append(d.get("exception", {}).get("description") or d.get("text", ""))

    def evaluate(self, expression):
        r = self.call("Runtime.evaluate", expression=expression, returnByValue=True)
        if "exceptionDetails" in r:
            return None
        return r.get("result", {}).get("value")

    def as_phone(self):
        self.call("Runtime.enable")
        self.call("Page.enable")
        self.call("Emulation.setDeviceMetricsOverride", width=VIEW_W, height=VIEW_H, deviceScaleFactor=DPR,
                  mobile=True, screenOrientation={"type": "portraitPrimary", "angle": 0})
        self.call("Emulation.setTouchEmulationEnabled", enabled=True, maxTouchPoints=5)
        self.call("Emulation.setUserAgentOverride", userAgent=PHONE_UA, platform="Android")

    def close(self):
        try:
            self.ws.close()
        except Exception:
            pass
        self.proc.terminate()
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()


def wait_for(browser, expression, limit_s):
    deadline = time.time() + limit_s
    while time.time() < deadline:
        value = browser.evaluate(expression)
        if value:
            return value
        time.sleep(0.2)
    return None


def png_colours(path):
    """Distinct colours of a PNG and the colour rows of a band, read by ImageMagick."""
    out = subprocess.run(["convert", path, "-format", "%k", "info:"], capture_output=True, text=True, check=True)
    return int(out.stdout.strip())


def band_is_uniform(path, y0, y1):
    """True when every pixel between device rows y0 and y1 has one colour."""
    out = subprocess.run(["convert", path, "-crop", "x%d+0+%d" % (max(1, y1 - y0), y0), "+repage",
                          "-format", "%k", "info:"], capture_output=True, text=True, check=True)
    return int(out.stdout.strip()) <= 1


def main():
    if len(sys.argv) not in (3, 5) or (len(sys.argv) == 5 and sys.argv[3] != "--aggregator"):
        print(__doc__)
        sys.exit(2)
    site, artifacts = sys.argv[1], sys.argv[2]
    aggregator = sys.argv[4] if len(sys.argv) == 5 else None
    if not shutil.which("chromium"):
        skip("Debian chromium is not installed")
    if not shutil.which("convert"):
        skip("ImageMagick (convert) is not installed")
    needed = ["index.html", "sw.js", "manifest.json", "clusterkit.js", "clusterkit.wasm", "clusterkit.worker.js", "clusterkit.data"]
    missing = [f for f in needed if not os.path.exists(os.path.join(site, f))]
    if missing:
        skip("no web build in %s (missing %s): build it with platforms/web/build (README there)"
             % (site, ", ".join(missing)))
    os.makedirs(artifacts, exist_ok=True)

    profile = tempfile.mkdtemp(prefix="ck-web-chromium.")
    if aggregator:
        httpd = AggregatorServer(aggregator, site, profile)
        page = "/app/index.html"
    else:
        httpd = serve(site, isolated=True)
        page = "/index.html"
    browser = Browser(profile)
    try:
        browser.as_phone()
        url = "http://127.0.0.1:%d%s" % (httpd.server_address[1], page)
        started = time.time()
        browser.call("Page.navigate", url=url)
        first = wait_for(browser, "window.ckFirstFrame && JSON.stringify(window.ckFirstFrame)", FIRST_FRAME_LIMIT_S)
        waited = time.time() - started
        log_path = os.path.join(artifacts, "web-first-run-console.txt")
        with open(log_path, "w") as f:
            f.write("\n".join(browser.console + ["EXCEPTION " + e for e in browser.exceptions]) + "\n")
        if not first:
            fail("no first frame within %d s (console: %s)" % (FIRST_FRAME_LIMIT_S, log_path))
        first = json.loads(first)
        if browser.exceptions:
            fail("uncaught exception in the page: %s" % browser.exceptions[0])
        if browser.evaluate("window.crossOriginIsolated") is not True:
            fail("the page is not cross-origin isolated although served with COOP/COEP")

        # The first-run screen's widgets, as the app reports them (CSS pixels).
        rects = {}
        for name in ("new_passphrase", "confirm_passphrase", "create"):
            text = wait_for(browser, "window.ckItemRect(%s)" % json.dumps(name), 10)
            if not text:
                fail("the first frame has no '%s': not the first-run screen" % name)
            x0, y0, x1, y1 = (float(v) for v in text.split())
            if not (0 <= x0 < x1 <= VIEW_W + 0.5 and 0 <= y0 < y1):
                fail("'%s' at %s is outside the %dx%d viewport" % (name, text, VIEW_W, VIEW_H))
            rects[name] = (x0, y0, x1, y1)
        if not rects["new_passphrase"][1] < rects["confirm_passphrase"][1] < rects["create"][1]:
            fail("first-run widgets out of order: %s" % rects)

        shot = browser.call("Page.captureScreenshot", format="png")
        png = os.path.join(artifacts, "web-first-run-412x915.png")
        with open(png, "wb") as f:
            f.write(base64.b64decode(shot["data"]))
        size = subprocess.run(["identify", "-format", "%w %h", png], capture_output=True, text=True, check=True)
        w, h = (int(v) for v in size.stdout.split())
        if (w, h) != (round(VIEW_W * DPR), round(VIEW_H * DPR)):
            fail("screenshot is %dx%d, expected the phone's %dx%d device pixels" % (w, h, VIEW_W * DPR, VIEW_H * DPR))
        colours = png_colours(png)
        if colours < 16:
            fail("the screenshot has %d colours: a blank canvas, not the app" % colours)
        y0, y1 = (int(rects["new_passphrase"][1] * DPR), int(rects["new_passphrase"][3] * DPR))
        if band_is_uniform(png, y0, y1):
            fail("the passphrase field's rows (%d-%d) are one colour: nothing drawn there" % (y0, y1))
        print("first frame: %.0f ms after navigation (%.0f ms after main), %.1f s waited; %d colours; %s"
              % (first["msSinceNavigation"], first["msSinceStart"], waited, colours, png))

        # Offline start: once the service worker holds the app's files, the server goes away
        # entirely and a reload must still reach the first-run screen.
        kept = browser.call("Runtime.evaluate", expression="window.ckOffline", awaitPromise=True,
                            returnByValue=True, timeout=60000)
        if kept.get("result", {}).get("value") is not True:
            fail("the service worker did not take the app's files (%s)" % kept)
        httpd.shutdown()
        httpd.server_close()
        browser.call("Page.reload", ignoreCache=False)
        again = wait_for(browser, "window.ckFirstFrame && JSON.stringify(window.ckFirstFrame)", FIRST_FRAME_LIMIT_S)
        if not again:
            fail("no first frame after a reload with the server gone: the app does not start offline")
        again = json.loads(again)
        if not wait_for(browser, "window.ckItemRect('new_passphrase')", 10):
            fail("offline, the first frame is not the first-run screen")
        if browser.evaluate("window.crossOriginIsolated") is not True:
            fail("offline, the page served by the service worker is not cross-origin isolated")
        shot = browser.call("Page.captureScreenshot", format="png")
        with open(os.path.join(artifacts, "web-offline-first-run-412x915.png"), "wb") as f:
            f.write(base64.b64decode(shot["data"]))
        print("offline start (server stopped, service worker cache): first frame %.0f ms after navigation "
              "(%.0f ms after main)" % (again["msSinceNavigation"], again["msSinceStart"]))
    finally:
        browser.close()
        httpd.shutdown()
        shutil.rmtree(profile, ignore_errors=True)

    if aggregator:
        print("PASSED")
        return  # the failure path below needs a server without the isolation headers: the script's own
    # Failure path: without cross-origin isolation the threads cannot start, and the page says so.
    profile = tempfile.mkdtemp(prefix="ck-web-chromium.")
    httpd = serve(site, isolated=False)
    browser = Browser(profile)
    try:
        browser.as_phone()
        browser.call("Page.navigate", url="http://127.0.0.1:%d/index.html" % httpd.server_address[1])
        # (Not the page's own "Loading ClusterKit..." from before shell.js has run.)
        said = wait_for(browser, "document.getElementById('status') && "
                                 "document.getElementById('status').textContent.indexOf('Loading') !== 0 && "
                                 "document.getElementById('status').textContent", 20)
        if not said or "cross-origin isolation" not in said:
            fail("a page served without isolation does not say why the app cannot start (%r)" % said)
        time.sleep(3)
        if browser.evaluate("!!window.ckFirstFrame"):
            fail("the app drew a frame without cross-origin isolation: the check above proves nothing")
        print("without isolation headers: no first frame, the page says: %s" % said)
    finally:
        browser.close()
        httpd.shutdown()
        shutil.rmtree(profile, ignore_errors=True)
    print("PASSED")


if __name__ == "__main__":
    main()
