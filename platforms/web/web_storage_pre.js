// The officer's folder in the browser: /data, kept in IndexedDB (emscripten --pre-js: this
// runs in the module's scope, beside FS, MEMFS and IDBFS; platforms/web/web_storage.cpp is
// its C++ side, README.md "Storage" says why it is built this way).
//
// The app's files live in memory (emscripten's MEMFS, where SQLite reads and writes them) and
// are copied to IndexedDB after each change:
//  - at start, before main() opens the store: /data is an IDBFS mount and FS.syncfs(true)
//    fills it from IndexedDB (emscripten's own loader, the same database layout);
//  - after each commit (CKStore.request, called by the app right after its autosave) and
//    after any frame that changed a file (CKStore.flushIfChanged): one copy. A copy takes
//    what changed in ONE synchronous pass on the main thread (worker threads' file calls are
//    proxied to this thread, so none lands in the middle) and writes it in ONE IndexedDB
//    transaction with durability "strict" (flushed to the disk before it completes): the
//    store file and its write-ahead log always arrive together, or not at all;
//  - a ticket is durable when the copy that began after it completes; the app shows "saved"
//    only then. One copy at a time; requests meanwhile are served by the next copy.
//
// Why not FS.syncfs(false) for the copies: IDBFS lists the changed files, waits for
// IndexedDB, then reads them (app writes can land in between: a log and a store file from two
// different moments), it tells a change by the file's mtime in milliseconds (two writes in one
// millisecond look like one), and it writes with the browser's default durability.
// What changed is told here by the node itself: after each copy, each copied file's timestamp
// is set to a value no write can give it (a half millisecond: MEMFS stamps writes with
// Date.now(), a whole number); a file whose timestamp is not that value, or a new node at the
// same path, has changed since.
// SQLite's shared-memory index (*-shm) is not kept: SQLite builds it again from the log.
var CKStore = {
  dir: "/data",
  storeName: "FILE_DATA",  // IDBFS's object store: its loader reads what is written here
  db: null,                // the IDBFS database, opened by the load
  kept: {},                // path -> { node, mark }: what the last completed copy holds
  keys: {},                // paths held in IndexedDB
  requested: 0,            // the newest ticket handed out
  durable: 0,              // the newest ticket whose copy completed
  inFlight: false,
  failure: "",             // why the last copy failed ("" when it did not)
  asked: new Map(),        // ticket -> performance.now() when it was requested (figures)
  latencies: [],           // ms from a request to its copy's completion (tests, benches)
  copies: 0, bytesCopied: 0,
  retryAt: 0,              // after a failed copy, changes wait until then (performance.now())
  loaded: false, loadError: "",
  persisted: null,         // navigator.storage.persisted(): null until known
  usage: -1, quota: -1,    // navigator.storage.estimate()

  // preRun: mount and fill /data before main() runs.
  load: function () {
    FS.mkdir(CKStore.dir);
    FS.mount(IDBFS, {}, CKStore.dir);
    addRunDependency("ck-store-load");
    FS.syncfs(true, function (err) {
      if (err) {
        // The app still starts (its folder is then empty and in memory only); the page says so.
        CKStore.loadError = String(err && (err.name || err.message) || err);
        console.error("ck-web storage: could not read the stored data: " + CKStore.loadError);
      }
      IDBFS.getDB(CKStore.dir, function (dbErr, db) {
        // Nothing is written after a failed load: a store made now must not replace the one
        // the browser still holds.
        if (!dbErr && !err) CKStore.db = db;
        CKStore.keys = {};
        CKStore.each(function (path, node) {
          CKStore.keys[path] = true;
          CKStore.kept[path] = { node: node, mark: CKStore.markOf(node) };
        });
        CKStore.loaded = true;
        removeRunDependency("ck-store-load");
      });
    });
  },

  // Every node under /data (directories first), as IDBFS stores them: absolute path -> node.
  each: function (visit) {
    var walk = function (path, dir) {
      Object.keys(dir.contents).sort().forEach(function (name) {
        var node = dir.contents[name];
        var full = path + "/" + name;
        if (FS.isFile(node.mode) && /-shm$/.test(name)) return;  // rebuilt by SQLite
        visit(full, node);
        if (FS.isDir(node.mode)) walk(full, node);
      });
    };
    walk(CKStore.dir, FS.lookupPath(CKStore.dir).node);
  },

  // Stamps a node as copied; returns the stamp.
  markOf: function (node) {
    node.timestamp = Math.floor(node.timestamp) + 0.5;
    return node.timestamp;
  },

  changed: function () {
    var seen = 0, dirty = false;
    CKStore.each(function (path, node) {
      seen++;
      var k = CKStore.kept[path];
      if (!k || k.node !== node || node.timestamp !== k.mark) dirty = true;
    });
    return dirty || seen !== Object.keys(CKStore.kept).length;
  },

  request: function () {
    var ticket = ++CKStore.requested;
    CKStore.asked.set(ticket, performance.now());
    if (!CKStore.inFlight) CKStore.copy();
    return ticket;
  },

  flushIfChanged: function () {
    if (!CKStore.loaded || CKStore.inFlight || performance.now() < CKStore.retryAt || !CKStore.changed()) return;
    CKStore.request();
  },

  // One copy of what changed, for every ticket handed out so far.
  copy: function () {
    var ticket = CKStore.requested;
    if (!CKStore.db) return CKStore.settle(ticket, "IndexedDB is not available in this browser");
    var puts = [], now = {}, marks = {};
    CKStore.each(function (path, node) {
      now[path] = true;
      var k = CKStore.kept[path];
      if (k && k.node === node && node.timestamp === k.mark) return;
      var entry = { timestamp: new Date(Math.floor(node.timestamp)), mode: node.mode };
      // An exact copy: MEMFS's buffer is larger than the file, and IndexedDB would keep all of it.
      if (FS.isFile(node.mode)) entry.contents = node.contents ? node.contents.slice(0, node.usedBytes) : new Uint8Array(0);
      puts.push([path, entry]);
      marks[path] = { node: node, mark: CKStore.markOf(node) };
    });
    var dels = Object.keys(CKStore.keys).filter(function (path) { return !now[path]; });
    Object.keys(CKStore.kept).forEach(function (path) { if (!now[path]) delete CKStore.kept[path]; });
    if (!puts.length && !dels.length) return CKStore.settle(ticket, "");
    // Counted as kept now, so that a write from here on is a change; undone if the copy fails.
    Object.assign(CKStore.kept, marks);
    CKStore.inFlight = true;
    var bytes = 0;
    var failed = function (why) {
      puts.forEach(function (p) { delete CKStore.kept[p[0]]; });  // copied again next time
      CKStore.settle(ticket, why || "the copy was aborted");
    };
    try {
      var tx = CKStore.db.transaction([CKStore.storeName], "readwrite", { durability: "strict" });
      var store = tx.objectStore(CKStore.storeName);
      puts.forEach(function (p) {
        store.put(p[1], p[0]);
        if (p[1].contents) bytes += p[1].contents.length;
      });
      dels.forEach(function (path) { store.delete(path); });
      tx.oncomplete = function () {
        puts.forEach(function (p) { CKStore.keys[p[0]] = true; });
        dels.forEach(function (path) { delete CKStore.keys[path]; });
        CKStore.copies++;
        CKStore.bytesCopied += bytes;
        CKStore.settle(ticket, "");
      };
      tx.onabort = function () { failed(tx.error && (tx.error.name + ": " + tx.error.message)); };
    } catch (e) {
      failed(e && (e.name + ": " + e.message));
    }
  },

  settle: function (ticket, why) {
    CKStore.inFlight = false;
    CKStore.failure = why;
    if (!why) {
      var t = performance.now();
      for (var i = CKStore.durable + 1; i <= ticket; i++) {
        if (CKStore.asked.has(i)) CKStore.latencies.push(t - CKStore.asked.get(i));
        CKStore.asked.delete(i);
      }
      CKStore.durable = ticket;
    } else {
      CKStore.retryAt = performance.now() + 2000;  // not a copy per frame while the disk is full
      console.error("ck-web storage: copy to IndexedDB failed: " + why);
    }
    // Requests that came during this copy, or changes the app made meanwhile.
    if (CKStore.requested > ticket && !why) CKStore.copy();
  },

  // navigator.storage: ask to be kept (after the first run) or look; then estimate.
  checkPersistence: function (ask) {
    var storage = navigator.storage;
    if (!storage || !storage.persisted) { CKStore.persisted = false; return; }
    // Later starts ask again only when the browser already grants it without a prompt (the
    // app was installed to the home screen since): Chromium decides by itself, Firefox asks
    // the officer, which should happen once.
    var granted = navigator.permissions && navigator.permissions.query
      ? navigator.permissions.query({ name: "persistent-storage" }).then(function (p) { return p.state === "granted"; },
                                                                          function () { return false; })
      : Promise.resolve(false);
    var asking = storage.persisted().then(function (kept) {
      if (kept || !storage.persist) return kept;
      if (ask) return storage.persist();
      return granted.then(function (yes) { return yes ? storage.persist() : false; });
    });
    asking.then(function (kept) {
      CKStore.persisted = !!kept;
      console.log("ck-web storage: persistent " + CKStore.persisted + (ask ? " (asked)" : ""));
    }, function () { CKStore.persisted = false; });
    CKStore.estimate();
  },
  estimate: function () {
    if (!navigator.storage || !navigator.storage.estimate) return;
    navigator.storage.estimate().then(function (e) {
      CKStore.usage = e.usage === undefined ? -1 : e.usage;
      CKStore.quota = e.quota === undefined ? -1 : e.quota;
    }, function () {});
  }
};
if (typeof window !== "undefined" && typeof importScripts === "undefined") {
  window.ckStore = CKStore;  // tests and benches read its figures
  // Test hook: the app's state as platforms/web/main.cpp's ck_app_state gives it.
  window.ckAppState = function (questionId) {
    return JSON.parse(Module.ccall("ck_app_state", "string", ["string"], [questionId || ""]));
  };
  Module["preRun"] = [].concat(Module["preRun"] || [], [CKStore.load]);
}
