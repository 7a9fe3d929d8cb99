// Touch and the on-screen keyboard for the field app on a phone. Loaded after shell.js and
// before clusterkit.js (so its listeners run before those of emscripten's GLFW).
//
// Touch: emscripten 3.1.6's GLFW takes a touch for a mouse button at the pointer's last
// position (it reads touch coordinates only for SDL), so each one-finger touch is turned into
// the mouse events it stands for, at its own place, before GLFW sees it. The app is told the
// pointer is a finger: ck::TouchInput (app/ui/touch_input.h) then makes a short touch a tap
// and a longer move a drag that scrolls the list under the finger and presses nothing.
//
// Keyboard: a phone shows its keyboard only for a focused text element, never for a canvas.
// The page keeps one transparent <input> on screen; while the app edits a field
// (FieldApp::keyboard(), handed over by main.cpp as window.ckKeyboard.want(kind)) it is
// focused with the keyboard that field needs (digits for numbers and dates), and blurred when
// the field is left, so the keyboard goes away. A browser shows a keyboard only for a focus()
// made while it handles the officer's touch: on touchend the app builds the frame that takes
// the tap at once (ck_touch_end), and the focus happens there. What the keyboard types (input
// events, an IME's composition) goes to ImGui as text and keys, and never stays in the input.
(function () {
  "use strict";
  var canvas = document.getElementById("canvas");
  function ready() { return typeof Module !== "undefined" && Module.calledRun && Module._ck_touch_end; }
  function finger(isFinger) { if (ready()) Module._ck_pointer_is_finger(isFinger ? 1 : 0); }
  function sendText(text) { if (ready() && text) Module.ccall("ck_keyboard_text", null, ["string"], [text]); }
  function sendKey(name) { if (ready()) Module.ccall("ck_keyboard_key", null, ["string"], [name]); }

  // ---- touch as a mouse --------------------------------------------------------------------
  var kinds = { touchstart: "mousedown", touchmove: "mousemove", touchend: "mouseup", touchcancel: "mouseup" };
  function mouseInit(touch, buttons) {
    return { bubbles: true, cancelable: true, clientX: touch.clientX, clientY: touch.clientY,
             screenX: touch.screenX, screenY: touch.screenY, button: 0, buttons: buttons };
  }
  function asMouse(event) {
    if (event.target !== canvas) return;
    var touch = event.changedTouches[0];
    event.preventDefault();   // no page scroll or zoom, no mouse events of the browser's own
    event.stopPropagation();  // window, capture phase: GLFW's own canvas listener never sees it
    if (!touch) return;
    var type = kinds[event.type];
    if (type === "mousedown") {
      finger(true);
      canvas.dispatchEvent(new MouseEvent("mousemove", mouseInit(touch, 0)));
    }
    canvas.dispatchEvent(new MouseEvent(type, mouseInit(touch, type === "mouseup" ? 0 : 1)));
    if (type === "mouseup" && ready()) {
      // The frame that takes a tap, now, inside the officer's touch: see above.
      var result = Module._ck_touch_end();
      keyboard.want(result & 255, (result & 256) !== 0);
    }
  }
  for (var type in kinds) window.addEventListener(type, asMouse, { capture: true, passive: false });
  // A real mouse (a laptop's browser): the app leaves it alone.
  ["mousedown", "mousemove"].forEach(function (type) {
    window.addEventListener(type, function (event) { if (event.isTrusted) finger(false); }, true);
  });

  // ---- the on-screen keyboard --------------------------------------------------------------
  var input = document.createElement("input");
  input.id = "ck-keyboard";
  input.type = "text";
  input.setAttribute("aria-label", "ClusterKit text entry");
  input.setAttribute("autocomplete", "off");
  input.setAttribute("autocapitalize", "off");
  input.setAttribute("autocorrect", "off");
  input.setAttribute("spellcheck", "false");
  input.setAttribute("enterkeyhint", "next");
  // On screen (a browser may refuse to focus what is not, or scroll the page to it), but
  // transparent, a pixel large, under the canvas' corner; 16 px text: no zoom on focus.
  input.style.cssText = "position:fixed;left:0;top:0;width:1px;height:1px;opacity:0;border:0;padding:0;margin:0;" +
                        "font-size:16px;color:transparent;background:transparent;caret-color:transparent;" +
                        "pointer-events:none;z-index:-1";
  document.body.appendChild(input);

  // ck::Keyboard (app/ui/field_app.h): None, Text, Decimal, Numeric, Password.
  var modes = ["none", "text", "decimal", "numeric", "text"];
  var current = 0;
  var focusedAt = -1e9;
  var composed = "";  // what of the IME's current composition ImGui holds already

  var keyboard = {
    input: input,
    // The app wants `kind`; `tapped`: the officer just tapped (a keyboard put away with the
    // phone's back key comes back on a tap on the field).
    want: function (kind, tapped) {
      var focused = document.activeElement === input;
      if (!kind) {
        current = 0;
        composed = "";
        if (focused) input.blur();
        return;
      }
      if (focused && kind === current && (!tapped || performance.now() - focusedAt < 100)) return;
      input.type = kind === 4 ? "password" : "text";  // no suggestions learnt from a passphrase
      input.setAttribute("inputmode", modes[kind]);
      input.value = "";
      composed = "";
      if (focused) input.blur();  // a new keyboard comes with a new focus
      input.focus({ preventScroll: true });
      focusedAt = performance.now();
      current = kind;
    }
  };
  window.ckKeyboard = keyboard;

  // Typed text reaches the app through the input events below; GLFW must not also take the
  // key press's character. Other keys without text (Tab, arrows) still reach GLFW.
  window.addEventListener("keypress", function (event) {
    if (event.target === input) event.stopImmediatePropagation();
  }, true);
  // Backspace, Delete and Enter go through the app's queue instead of GLFW: a phone's keyboard
  // sends the key down and up within a few milliseconds, and ImGui, which reads keys once a
  // frame, would miss a press GLFW gives it and takes back between two frames.
  var ownKeys = { Backspace: true, Delete: true, Enter: true };
  window.addEventListener("keydown", function (event) {
    if (event.target !== input || event.isComposing || !ownKeys[event.key]) return;
    event.preventDefault();
    event.stopImmediatePropagation();
    sendKey(event.key);
  }, true);
  window.addEventListener("keyup", function (event) {
    if (event.target === input && ownKeys[event.key]) event.stopImmediatePropagation();
  }, true);

  // An IME (Indic keyboards, transliteration, swipe) composes a word and changes it as the
  // officer goes on: ImGui gets the difference each time (backspaces, then the new tail).
  function compose(now) {
    var had = Array.from(composed), want = Array.from(now), same = 0;
    while (same < had.length && same < want.length && had[same] === want[same]) ++same;
    for (var i = same; i < had.length; ++i) sendKey("Backspace");
    if (same < want.length) sendText(want.slice(same).join(""));
    composed = now;
  }
  input.addEventListener("compositionstart", function () { composed = ""; });
  input.addEventListener("compositionupdate", function (event) { compose(event.data || ""); });
  var committed = null;  // the word an IME just committed, in case an input event repeats it
  input.addEventListener("compositionend", function (event) {
    compose(event.data || "");
    composed = "";
    committed = event.data || "";
    setTimeout(function () { committed = null; }, 0);
    input.value = "";
  });
  input.addEventListener("input", function (event) {
    if (event.isComposing || event.inputType === "insertCompositionText") return;  // compose() has it
    var t = event.inputType;
    if (t === "insertFromComposition" || (committed !== null && event.data === committed)) {
      committed = null;  // the commit compose() already sent
      input.value = "";
      return;
    }
    if (t === "deleteContentBackward" || t === "deleteWordBackward") sendKey("Backspace");
    else if (t === "deleteContentForward") sendKey("Delete");
    else if (t === "insertLineBreak" || t === "insertParagraph") sendKey("Enter");
    else if (event.data) sendText(event.data);
    else if (input.value) sendText(input.value);  // a paste
    input.value = "";
  });
})();
