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
var Module = {
  canvas: document.getElementById("canvas"),
  onRuntimeInitialized: function () { statusLine.remove(); },
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
// Touch as a mouse. Emscripten 3.1.6's GLFW takes a touch for a mouse button at the pointer's
// last position (its touch coordinates are read only for SDL), so a tap would land where the
// previous one did. Each one-finger touch is turned into the mouse events it stands for, at
// its own place, before GLFW sees it; Dear ImGui's GLFW backend keeps a press and release
// that fall in one frame as a click. (Drag-scroll is not done yet.)
(function () {
  var canvas = document.getElementById("canvas");
  var kinds = { touchstart: "mousedown", touchmove: "mousemove", touchend: "mouseup", touchcancel: "mouseup" };
  function asMouse(event) {
    if (event.target !== canvas) return;
    var touch = event.changedTouches[0];
    event.preventDefault();
    event.stopPropagation();  // window, capture phase: GLFW's own canvas listener never sees it
    if (!touch) return;
    var type = kinds[event.type];
    if (type === "mousedown") canvas.dispatchEvent(new MouseEvent("mousemove", mouseInit(touch, 0)));
    canvas.dispatchEvent(new MouseEvent(type, mouseInit(touch, type === "mouseup" ? 0 : 1)));
  }
  function mouseInit(touch, buttons) {
    return { bubbles: true, cancelable: true, clientX: touch.clientX, clientY: touch.clientY,
             screenX: touch.screenX, screenY: touch.screenY, button: 0, buttons: buttons };
  }
  for (var type in kinds) window.addEventListener(type, asMouse, { capture: true, passive: false });
})();
// The test hook platforms/web/main.cpp documents.
window.ckItemRect = function (name) { return Module.ccall("ck_item_rect", "string", ["string"], [name]); };
window.ckItemText = function (name) { return Module.ccall("ck_item_text", "string", ["string"], [name]); };
