// libsodium's randomness in every thread (emscripten --pre-js: runs on the page and in each
// worker). libsodium's emscripten build reads random numbers through Module.getRandomValue,
// which its randombytes_stir() defines, but only in the JS context of the first thread that
// asks: that thread sets a C flag in the shared memory and no other thread runs it again. The
// first run derives the vault key on a worker, so the page's main thread had none, and the
// first record id made there (a new visit) threw "Module.getRandomValue is not a function".
// Defined here for every context, the same way libsodium does (crypto.getRandomValues).
if (typeof crypto !== "undefined" && crypto.getRandomValues && Module["getRandomValue"] === undefined) {
  Module["getRandomValue"] = function () {
    var buf = new Uint32Array(1);
    crypto.getRandomValues(buf);
    return buf[0] >>> 0;
  };
}
