// Prepended to clusterkit.js (--pre-js), so it runs on the page and in every thread's worker.
// libsodium's randombytes in the browser draws from Module.getRandomValue, which it defines
// (crypto.getRandomValues) only on the thread that first initialised it; each Web Worker has
// its own Module, so another thread (the sync thread writing the encrypted store) would find
// none and stop ("Module.getRandomValue is not a function"). Defined here on every thread,
// exactly as libsodium defines it; libsodium keeps one that is already there.
if (typeof Module.getRandomValue === "undefined") {
  Module.getRandomValue = function () {
    var buf = new Uint32Array(1);
    crypto.getRandomValues(buf);
    return buf[0] >>> 0;
  };
}
