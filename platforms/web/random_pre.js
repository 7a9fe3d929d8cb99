// Runs first in clusterkit.js, on the page and in every worker thread (each has its own Module).
// libsodium's emscripten build draws every random number through Module.getRandomValue(),
// which its randombytes_stir() defines only on the thread that first calls sodium_init(): the
// app's task thread at first run (Argon2id). A visit started on the main thread afterwards (its
// random id) then failed with "Module.getRandomValue is not a function". Defined here, on every
// thread, from the browser's CSPRNG, as libsodium's own code would.
if (typeof Module.getRandomValue !== "function") {
  Module.getRandomValue = function () {
    var value = new Uint32Array(1);
    crypto.getRandomValues(value);
    return value[0] >>> 0;
  };
}
