// The officer's folder in the browser: /data, kept in IndexedDB (emscripten --pre-js: this
// runs in the module's scope, beside FS and MEMFS; platforms/web/web_storage.cpp is its C++
// side; README.md, "Storage", says why it is built this way).
//
// The app's files live in memory (emscripten's MEMFS, where SQLite reads and writes them) and
// are copied to IndexedDB after each change:
//  - at start, before main() opens the store (a run dependency of preRun), every file is read
//    back from the IndexedDB database "clusterkit-data" into /data;
//  - after each commit (CKStore.request, called by the app right after its autosave) and
//    after any frame that changed a file (CKStore.flushIfChanged): one copy. A copy takes
//    what changed in ONE synchronous pass on the main thread (worker threads' file calls are
//    proxied to this thread, so none lands in the middle) and writes it in ONE IndexedDB
//    transaction with durability "strict" (on the disk before it completes): the store file
//    and its write-ahead log always arrive together, or not at all;
//  - a ticket is durable when the copy that began after it completes; the app shows "saved"
//    only then. One copy at a time; requests meanwhile are served by the next copy.
//
// Files are kept in pieces of 64 KiB (key "<path>\0<n>", a Uint8Array) beside one entry per
// file (key "<path>": mode, size, piece size, mtime) or directory; a copy writes only the
// pieces whose bytes differ from what the last copy wrote (kept here as the pieces
// themselves). An autosave appends a few pages to SQLite's log: a copy is then one or two
// pieces, whatever the size of the store. (emscripten's IDBFS writes whole files: the store
// and its log, megabytes, at every keystroke; README.md, Storage.)
// What changed is told by the node itself: after each copy, each copied file's timestamp is
// set to a value no write can give it (a half millisecond: MEMFS stamps writes and truncations
// with Date.now(), a whole number); a file whose timestamp is not that value, or a new node at
// the same path, has changed since. SQLite's shared-memory index (*-shm) is not kept: SQLite
// builds it again from the log.
var CKStore = {
  dir: "/data",
  dbName: "clusterkit-data",
  storeName: "files",
  piece: 65536,
  db: null,                // the IndexedDB database, opened by the load
  kept: {},                // path -> { node, mark, pieces }: what IndexedDB holds
  orphans: [],             // keys a failed copy was to delete: deleted by the next one
  requested: 0,            // the newest ticket handed out
  durable: 0,              // the newest ticket whose copy completed
  inFlight: false,
  failure: "",             // why the last copy failed ("" when it did not)
  retryAt: 0,              // after a failed copy, changes wait until then (performance.now())
  asked: new Map(),        // ticket -> performance.now() when it was requested (figures)
  latencies: [],           // ms from a request to its copy's completion (tests, benches)
  copies: 0, bytesCopied: 0,
  loaded: false, loadError: "",
  persisted: null,         // navigator.storage.persisted(): null until known
  usage: -1, quota: -1,    // navigator.storage.estimate()

  // preRun: fill /data before main() runs.
  load: function () {
    FS.mkdir(CKStore.dir);
    addRunDependency("ck-store-load");
    var done = function (why) {
      if (why) {
        // The app still starts, with an empty folder in memory only; nothing is ever written
        // (no db): a store made now must not replace the one the browser still holds.
        CKStore.db = null;
        CKStore.loadError = why;
        console.error("ck-web storage: could not read the stored data: " + why);
      }
      CKStore.loaded = true;
      removeRunDependency("ck-store-load");
    };
    var req;
    try {
      req = indexedDB.open(CKStore.dbName, 1);
    } catch (e) {
      return done(String(e && e.name || e));
    }
    req.onupgradeneeded = function () { req.result.createObjectStore(CKStore.storeName); };
    req.onerror = function (e) { e.preventDefault(); done(String(req.error && req.error.name || "IndexedDB refused")); };
    req.onsuccess = function () {
      var db = req.result, files = {}, pieces = {};
      var tx = db.transaction([CKStore.storeName], "readonly");
      var cursor = tx.objectStore(CKStore.storeName).openCursor();
      cursor.onerror = function (e) { e.preventDefault(); done(String(cursor.error && cursor.error.name)); };
      cursor.onsuccess = function () {
        var c = cursor.result;
        if (c) {
          var key = String(c.key), cut = key.indexOf("\u0000");
          if (cut < 0) files[key] = c.value;
          else (pieces[key.slice(0, cut)] = pieces[key.slice(0, cut)] || [])[Number(key.slice(cut + 1))] = c.value;
          c.continue();
          return;
        }
        try {
          Object.keys(files).sort().forEach(function (path) {  // a directory before its files
            var f = files[path];
            if (f.dir) {
              FS.mkdirTree(path, f.mode);
              return;
            }
            var data = new Uint8Array(f.size), own = pieces[path] || [];
            for (var i = 0; i * f.piece < f.size; i++) {
              if (!own[i]) throw new Error("piece " + i + " of " + path + " is missing");
              data.set(own[i], i * f.piece);
            }
            FS.writeFile(path, data);
            FS.chmod(path, f.mode);
          });
          CKStore.db = db;
          CKStore.each(function (path, node) {
            // The pieces as the browser holds them (a piece size of another build is rewritten).
            var f = files[path], same = f && (f.dir || f.piece === CKStore.piece);
            CKStore.kept[path] = { node: node, mark: CKStore.markOf(node), pieces: same && !f.dir ? pieces[path] : null };
          });
          done("");
        } catch (e) {
          done(String(e && e.message || e));
        }
      };
    };
  },

  // Every node under /data (directories before their files): absolute path -> node.
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

  same: function (a, b) {
    if (!b || a.length !== b.length) return false;
    var n = a.length;
    if (a.byteOffset % 4 === 0 && b.byteOffset % 4 === 0 && n % 4 === 0) {
      var x = new Int32Array(a.buffer, a.byteOffset, n / 4), y = new Int32Array(b.buffer, b.byteOffset, n / 4);
      for (var i = 0; i < x.length; i++) if (x[i] !== y[i]) return false;
      return true;
    }
    for (var j = 0; j < n; j++) if (a[j] !== b[j]) return false;
    return true;
  },

  changed: function () {
    var seen = 0, dirty = false;
    CKStore.each(function (path, node) {
      seen++;
      var k = CKStore.kept[path];
      if (!k || k.node !== node || node.timestamp !== k.mark) dirty = true;
    });
    return dirty || seen !== Object.keys(CKStore.kept).length || CKStore.orphans.length > 0;
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
    if (!CKStore.db) return CKStore.settle(ticket, CKStore.loadError || "IndexedDB is not available in this browser");
    var puts = [], dels = CKStore.orphans, now = {}, next = {}, size = CKStore.piece;
    CKStore.orphans = [];
    CKStore.each(function (path, node) {
      now[path] = true;
      var k = CKStore.kept[path];
      if (k && k.node === node && node.timestamp === k.mark) return;
      if (FS.isDir(node.mode)) {
        puts.push([path, { dir: true, mode: node.mode }]);
        next[path] = { node: node, mark: CKStore.markOf(node), pieces: null };
        return;
      }
      var data = node.contents ? node.contents.subarray(0, node.usedBytes) : new Uint8Array(0);
      var old = k && k.pieces || [], own = [];
      for (var i = 0; i * size < data.length; i++) {
        var part = data.subarray(i * size, Math.min(data.length, (i + 1) * size));
        if (CKStore.same(part, old[i])) {
          own.push(old[i]);
        } else {
          own.push(part.slice());  // an exact copy: IndexedDB would keep all of MEMFS's buffer
          puts.push([path + "\u0000" + i, own[i]]);
        }
      }
      for (var j = own.length; j < old.length; j++) dels.push(path + "\u0000" + j);
      puts.push([path, { mode: node.mode, size: data.length, piece: size, mtime: Math.floor(node.timestamp) }]);
      next[path] = { node: node, mark: CKStore.markOf(node), pieces: own };
    });
    Object.keys(CKStore.kept).forEach(function (path) {
      if (now[path]) return;
      var gone = CKStore.kept[path];
      dels.push(path);
      for (var i = 0; gone.pieces && i < gone.pieces.length; i++) dels.push(path + "\u0000" + i);
      delete CKStore.kept[path];
    });
    if (!puts.length && !dels.length) return CKStore.settle(ticket, "");
    // Counted as kept now, so that a write from here on is a change; undone if the copy fails.
    Object.assign(CKStore.kept, next);
    CKStore.inFlight = true;
    var bytes = 0;
    var failed = function (why) {
      // Everything this copy was to write is written again, whole, next time.
      Object.keys(next).forEach(function (path) { delete CKStore.kept[path]; });
      CKStore.orphans = CKStore.orphans.concat(dels);
      CKStore.settle(ticket, why || "the copy was aborted");
    };
    try {
      var tx = CKStore.db.transaction([CKStore.storeName], "readwrite", { durability: "strict" });
      var store = tx.objectStore(CKStore.storeName);
      puts.forEach(function (p) {
        store.put(p[1], p[0]);
        if (p[1] instanceof Uint8Array) bytes += p[1].length;
      });
      dels.forEach(function (key) { store.delete(key); });
      tx.oncomplete = function () {
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
      // Requests that came during this copy.
      if (CKStore.requested > ticket) CKStore.copy();
    } else {
      CKStore.retryAt = performance.now() + 2000;  // not a copy per frame while the disk is full
      console.error("ck-web storage: copy to IndexedDB failed: " + why);
    }
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
    storage.persisted().then(function (kept) {
      if (kept || !storage.persist) return kept;
      if (ask) return storage.persist();
      return granted.then(function (yes) { return yes ? storage.persist() : false; });
    }).then(function (kept) {
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
