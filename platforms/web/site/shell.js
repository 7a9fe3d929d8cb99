// The page's own script, in a file of its own: the aggregator serves the app with a
// Content-Security-Policy that runs no inline script or handler (README, "The field app from
// the aggregator"). Loaded before clusterkit.js, which reads Module.
document.getElementById("canvas").addEventListener("contextmenu", function (event) { event.preventDefault(); });
// The app's threads need SharedArrayBuffer, which a browser gives only to a cross-origin
// isolated page (served with COOP same-origin and COEP require-corp).
var statusLine = document.getElementById("status");
if (!window.crossOriginIsolated) {
  statusLine.textContent = "This page must be served with cross-origin isolation " +
    "(Cross-Origin-Opener-Policy: same-origin, Cross-Origin-Embedder-Policy: require-corp).";
}
// Start-up marks (performance.mark, names "ck-..."), read by tests/bench/web_start.py: the
// phases before main() here, those after it in main.cpp.
performance.mark("ck-shell");
if (WebAssembly.instantiateStreaming) {
  // Wrapped only to time it: that emscripten compiles while the bytes arrive (streaming, from
  // the service worker's cache offline) and how long compiling and instantiating take.
  var instantiateStreaming = WebAssembly.instantiateStreaming;
  WebAssembly.instantiateStreaming = function (source, imports) {
    performance.mark("ck-wasm-start");
    return instantiateStreaming(source, imports).then(function (result) {
      performance.mark("ck-wasm-ready");
      return result;
    });
  };
}
var Module = {
  canvas: document.getElementById("canvas"),
  preRun: [function () { performance.mark("ck-prerun"); }],
  // Each time the count of what main() waits for (the wasm with its worker pool, the .data
  // package) changes: "ck-deps-0" is when everything is there.
  monitorRunDependencies: function (left) { performance.mark("ck-deps-" + left); },
  onRuntimeInitialized: function () { performance.mark("ck-runtime"); statusLine.remove(); },
  printErr: function (text) { console.error(text); },
  onAbort: function (what) {
    document.body.insertAdjacentHTML("beforeend",
      '<div id="status">ClusterKit stopped: ' + String(what).replace(/</g, "&lt;") + "</div>");
  }
};
// After one visit online the service worker (sw.js) keeps the app's files: it then starts
// with no network. window.ckOffline resolves when they are all kept (tests wait for it).
window.ckOffline = "serviceWorker" in navigator
  ? navigator.serviceWorker.register("sw.js").then(function () { return navigator.serviceWorker.ready; })
                                             .then(function () { return true; })
  : Promise.resolve(false);
// Touch and the on-screen keyboard: touch.js.
// The test hook platforms/web/main.cpp documents.
window.ckItemRect = function (name) { return Module.ccall("ck_item_rect", "string", ["string"], [name]); };
window.ckTouchState = function () { return JSON.parse(Module.ccall("ck_touch_state", "string", [], [])); };
window.ckItemText = function (name) { return Module.ccall("ck_item_text", "string", ["string"], [name]); };
