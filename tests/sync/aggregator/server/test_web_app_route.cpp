// `serve --web-app DIR` hands out the field app's web build, and `--allow-origin` lets pages of
// another origin call the protocol. Checked with raw sockets (paths no client library would
// send), libcurl (the compressed forms decode to the files), and a real Chromium: the browser
// is the judge of CORS, of the Content-Security-Policy and of the WebAssembly content type.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <catch2/catch.hpp>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <regex>
#include <string>
#include <thread>

#include <curl/curl.h>
#include <httplib.h>

#include "sync/aggregator/web_app_files.h"
#include "tests/support/command_run.h"
#include "tests/sync/aggregator/server/live_aggregator.h"

namespace fs = std::filesystem;
using namespace ck;
using ck::test::LiveAggregator;

namespace {

const char* kSuite = "test_web_app_route";

void writeFile(const fs::path& p, const std::string& text) {
    fs::create_directories(p.parent_path());
    std::ofstream(p, std::ios::binary) << text;
}

// The smallest valid WebAssembly module: magic and version, nothing else.
const std::string kEmptyWasm = std::string("\0asm\1\0\0\0", 8);

// A web app folder with the shapes a build has (page, script, wasm, manifest, a sub-folder),
// a large compressible script, and things that must never be served.
fs::path makeApp(const fs::path& root, const std::string& script) {
    writeFile(root / "index.html",
              "<!doctype html><html><head><meta charset=utf-8><title>field app</title></head><body>"
              "<pre id=out>waiting</pre>"
              // Inline code: the server's Content-Security-Policy must stop it.
              "<script>document.title = 'INLINE-RAN';</script>"
              "<script src=app.js></script></body></html>");
    writeFile(root / "app.js", script);
    writeFile(root / "app.wasm", kEmptyWasm);
    writeFile(root / "manifest.webmanifest", R"({"name":"ClusterKit","start_url":"/app/"})");
    std::string big;
    for (int i = 0; i < 2000; ++i) big += "var line" + std::to_string(i) + " = 'the same words again and again';\n";
    writeFile(root / "lib" / "big.js", big);
    writeFile(root / ".git" / "config", "[secret]");
    writeFile(root / ".env", "SECRET=1");
    return root;
}

struct Reply {
    long status = 0;
    std::string body, contentType, contentEncoding, etag, all;
};

// GET with libcurl (which decodes gzip and brotli when asked to accept them).
Reply get(const std::string& url, const std::string& acceptEncoding = "", const std::string& ifNoneMatch = "") {
    Reply r;
    CURL* h = curl_easy_init();
    curl_slist* headers = nullptr;
    if (!ifNoneMatch.empty()) headers = curl_slist_append(headers, ("If-None-Match: " + ifNoneMatch).c_str());
    curl_easy_setopt(h, CURLOPT_URL, url.c_str());
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(h, CURLOPT_TIMEOUT, 10L);
    if (!acceptEncoding.empty()) curl_easy_setopt(h, CURLOPT_ACCEPT_ENCODING, acceptEncoding.c_str());
    if (headers) curl_easy_setopt(h, CURLOPT_HTTPHEADER, headers);
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, +[](char* d, size_t s, size_t n, void* u) {
        static_cast<std::string*>(u)->append(d, s * n);
        return s * n;
    });
    curl_easy_setopt(h, CURLOPT_WRITEDATA, &r.body);
    curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, +[](char* d, size_t s, size_t n, void* u) {
        auto* reply = static_cast<Reply*>(u);
        std::string line(d, s * n);
        reply->all += line;
        auto value = [&](const char* name) -> std::string* {
            if (line.size() <= std::strlen(name) || strncasecmp(line.c_str(), name, std::strlen(name)) != 0) return nullptr;
            return name == std::string("content-type:") ? &reply->contentType
                   : name == std::string("content-encoding:") ? &reply->contentEncoding
                                                                : &reply->etag;
        };
        for (const char* name : {"content-type:", "content-encoding:", "etag:"})
            if (std::string* v = value(name)) {
                *v = line.substr(std::strlen(name));
                while (!v->empty() && (v->front() == ' ')) v->erase(v->begin());
                while (!v->empty() && (v->back() == '\r' || v->back() == '\n')) v->pop_back();
            }
        return s * n;
    });
    curl_easy_setopt(h, CURLOPT_HEADERDATA, &r);
    if (curl_easy_perform(h) == CURLE_OK) curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &r.status);
    curl_slist_free_all(headers);
    curl_easy_cleanup(h);
    return r;
}

// One request as raw bytes on a plain TCP connection; what came back until the server closed.
std::string rawRequest(int port, const std::string& bytes) {
    int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(static_cast<uint16_t>(port));
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    REQUIRE(::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0);
    timeval tv{5, 0};
    ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    REQUIRE(::send(fd, bytes.data(), bytes.size(), MSG_NOSIGNAL) == static_cast<ssize_t>(bytes.size()));
    std::string out;
    char buf[4096];
    ssize_t n;
    while ((n = ::recv(fd, buf, sizeof buf, 0)) > 0) out.append(buf, static_cast<size_t>(n));
    ::close(fd);
    return out;
}

agg::ServerOptions plainOptions(LiveAggregator& agg) {
    agg::ServerOptions o = agg.options();
    o.tls = false;  // loopback: plain HTTP is allowed, and 127.0.0.1 is a secure context for Chromium
    return o;
}

// Opens `url` in headless Chromium and returns the DOM after the page's scripts ran.
std::string chromiumDom(const fs::path& scratch, const std::string& url) {
    std::string cmd = "timeout -k 5 60 chromium --headless --no-sandbox --disable-gpu --no-first-run "
                      "--disable-dev-shm-usage --disable-background-networking --disable-component-update "
                      "--disable-extensions --disable-sync --user-data-dir=" +
                      test::shellQuote((scratch / "profile").string()) +
                      " --virtual-time-budget=10000 --dump-dom " + test::shellQuote(url);
    test::CommandRun run = test::runCommand(cmd);
    INFO(run.err);
    REQUIRE(run.status == 0);
    return run.out;
}

}  // namespace

TEST_CASE("WebAppFiles: a folder without index.html, or missing, is refused with the reason", "[sync][web]") {
    fs::path root = test::scratchFolder(kSuite) / "no-index";
    writeFile(root / "app.js", "1");
    try {
        agg::WebAppFiles::load(root);
        FAIL("a folder without index.html was taken");
    } catch (const std::runtime_error& e) {
        CHECK(std::string(e.what()).find("has no index.html") != std::string::npos);
    }
    CHECK_THROWS_WITH(agg::WebAppFiles::load(root / "absent"), Catch::Contains("is not a folder"));
}

TEST_CASE("WebAppFiles: Accept-Encoding is read as browsers and proxies write it", "[sync][web]") {
    auto a = agg::parseAcceptEncoding("gzip, deflate, br, zstd");
    CHECK((a.gzip && a.brotli));
    a = agg::parseAcceptEncoding("gzip;q=1.0, br;q=0");
    CHECK((a.gzip && !a.brotli));
    a = agg::parseAcceptEncoding("*;q=0.5, gzip;q=0");
    CHECK((!a.gzip && a.brotli));
    a = agg::parseAcceptEncoding("identity");
    CHECK((!a.gzip && !a.brotli));
    a = agg::parseAcceptEncoding("");
    CHECK((!a.gzip && !a.brotli));
}

TEST_CASE("serve --web-app: files as built, compressed forms that decode to them, revalidation by ETag", "[sync][web]") {
    LiveAggregator agg(kSuite);
    fs::path root = makeApp(agg.folder / "web", "document.getElementById('out').textContent = 'ran';");
    agg::WebAppFiles files = agg::WebAppFiles::load(root);
    CHECK(files.count() == 5);    // index.html, app.js, app.wasm, manifest, lib/big.js
    CHECK(files.skipped() == 2);  // .git and .env
    agg::ServerOptions o = plainOptions(agg);
    o.webApp = &files;
    agg.start(o);
    const std::string base = "http://127.0.0.1:" + std::to_string(agg.port());

    Reply page = get(base + "/app/");
    CHECK(page.status == 200);
    CHECK(page.body == test::readText(root / "index.html"));
    CHECK(page.contentType == "text/html; charset=utf-8");
    CHECK(page.all.find("Content-Security-Policy: default-src 'self'") != std::string::npos);
    CHECK(page.all.find("X-Content-Type-Options: nosniff") != std::string::npos);
    CHECK(page.contentEncoding.empty());  // asked for none

    Reply wasm = get(base + "/app/app.wasm");
    CHECK(wasm.status == 200);
    CHECK(wasm.contentType == "application/wasm");
    CHECK(wasm.body == kEmptyWasm);

    const std::string big = test::readText(root / "lib" / "big.js");
    for (const char* coding : {"br", "gzip"}) {
        INFO(coding);
        Reply r = get(base + "/app/lib/big.js", coding);
        CHECK(r.status == 200);
        CHECK(r.contentEncoding == coding);
        CHECK(r.body == big);  // libcurl decoded it
    }

    // The ETag names the content: asking again with it costs no body.
    REQUIRE(!page.etag.empty());
    Reply again = get(base + "/app/index.html", "", page.etag);
    CHECK(again.status == 304);
    CHECK(again.body.empty());
    Reply stale = get(base + "/app/index.html", "", "\"0000\"");
    CHECK(stale.status == 200);

    // / and /app lead to the app; a name the build does not have is a plain 404.
    CHECK(rawRequest(agg.port(), "GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n").find("Location: /app/") !=
          std::string::npos);
    Reply missing = get(base + "/app/nothing.js");
    CHECK(missing.status == 404);
    CHECK(missing.body.find("No such file in the field app") != std::string::npos);
    // The protocol is still there beside it.
    CHECK(get(base + "/v1/hello").body.rfind("clusterkit-aggregator", 0) == 0);
}

TEST_CASE("serve --web-app: no path reaches a file outside the app or a hidden one", "[sync][web]") {
    LiveAggregator agg(kSuite);
    fs::path root = makeApp(agg.folder / "web", "1;");
    writeFile(agg.folder / "secret.txt", "TOP-SECRET-BYTES");
    fs::create_symlink(agg.folder / "secret.txt", root / "link.txt");
    fs::create_directory_symlink(agg.folder, root / "up");
    agg::WebAppFiles files = agg::WebAppFiles::load(root);
    CHECK(files.skipped() == 4);  // .git, .env, and both symlinks
    agg::ServerOptions o = plainOptions(agg);
    o.webApp = &files;
    agg.start(o);

    for (const char* path : {"/app/../secret.txt", "/app/%2e%2e/secret.txt", "/app/..%2fsecret.txt",
                             "/app/%2E%2E%2Fsecret.txt", "/app/link.txt", "/app/up/secret.txt",
                             "/app/up/aggregator.db", "/app/.env", "/app/.git/config", "/app//etc/passwd",
                             "/app/index.html%00.txt", "/app/./index.html/../../secret.txt"}) {
        INFO(path);
        std::string reply = rawRequest(agg.port(), std::string("GET ") + path + " HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
        CHECK(reply.rfind("HTTP/1.1 200", 0) != 0);
        CHECK(reply.find("TOP-SECRET") == std::string::npos);
        CHECK(reply.find("[secret]") == std::string::npos);
        CHECK(reply.find("SECRET=1") == std::string::npos);
    }
}

TEST_CASE("serve without --web-app serves no app", "[sync][web]") {
    LiveAggregator agg(kSuite);
    agg.start(plainOptions(agg));
    const std::string base = "http://127.0.0.1:" + std::to_string(agg.port());
    CHECK(get(base + "/app/").status == 404);
    CHECK(get(base + "/").status == 404);
}

TEST_CASE("serve --web-app in Chromium: the page runs its script, WebAssembly compiles, inline code is stopped",
          "[sync][web][chromium]") {
    LiveAggregator agg(kSuite);
    fs::path root = makeApp(agg.folder / "web", R"JS(
(async function () {
  var out = [];
  try {
    var m = await WebAssembly.instantiateStreaming(fetch('app.wasm'));
    out.push('WASM-OK');
  } catch (e) { out.push('WASM-FAILED ' + e); }
  try {
    var hello = await (await fetch('/v1/hello')).text();
    out.push(hello.indexOf('clusterkit-aggregator') === 0 ? 'HELLO-OK' : 'HELLO-WRONG');
  } catch (e) { out.push('HELLO-FAILED ' + e); }
  try { eval('1'); out.push('EVAL-RAN'); } catch (e) { out.push('EVAL-BLOCKED'); }
  out.push('TITLE=' + document.title);
  out.push(window.crossOriginIsolated ? 'ISOLATED' : 'NOT-ISOLATED');
  document.getElementById('out').textContent = 'RESULT ' + out.join(' ') + ' END';
})();
)JS");
    agg::WebAppFiles files = agg::WebAppFiles::load(root);
    agg::ServerOptions o = plainOptions(agg);
    o.webApp = &files;
    agg.start(o);
    std::string dom = chromiumDom(agg.folder, "http://127.0.0.1:" + std::to_string(agg.port()) + "/app/");
    INFO(dom);
    std::smatch m;
    REQUIRE(std::regex_search(dom, m, std::regex("RESULT ([^<]*) END")));
    const std::string result = m[1];
    CHECK(result.find("WASM-OK") != std::string::npos);       // application/wasm, and 'wasm-unsafe-eval'
    CHECK(result.find("HELLO-OK") != std::string::npos);      // the protocol at the same origin
    CHECK(result.find("EVAL-BLOCKED") != std::string::npos);  // no eval
    CHECK(result.find("INLINE-RAN") == std::string::npos);    // no inline script
    CHECK(result.find("NOT-ISOLATED") == std::string::npos);  // SharedArrayBuffer for the app's threads
    CHECK(result.find("ISOLATED") != std::string::npos);
}

TEST_CASE("serve --allow-origin in Chromium: only the named origin's pages may call the protocol", "[sync][web][chromium]") {
    // A page of another origin (a bare httplib server here: the aggregator's own pages carry
    // connect-src 'self', which would stop the calls before CORS is asked) calls two
    // aggregators: A names the page's origin, C names another. The browser decides what the
    // page may read.
    const std::string page = R"HTML(<!doctype html><html><body><pre id=out>waiting</pre><script>
(async function () {
  var targets = location.hash.substring(1).split(',');
  var out = [];
  for (var i = 0; i < targets.length; ++i) {
    var name = targets[i].split('=')[0], url = targets[i].split('=')[1];
    try {
      var hello = await fetch(url + '/v1/hello');
      out.push(name + '-GET-' + hello.status);
    } catch (e) { out.push(name + '-GET-BLOCKED'); }
    try {
      // A protocol content type makes the browser ask first (preflight).
      var post = await fetch(url + '/v1/updates', {method: 'POST', headers: {'Content-Type': 'application/x-clusterkit-frame'},
                                                  body: new Uint8Array([1, 2, 3])});
      out.push(name + '-POST-' + post.status);
    } catch (e) { out.push(name + '-POST-BLOCKED'); }
  }
  document.getElementById('out').textContent = 'RESULT ' + out.join(' ') + ' END';
})();
</script></body></html>)HTML";
    httplib::Server pageServer;
    pageServer.Get("/", [&](const httplib::Request&, httplib::Response& res) { res.set_content(page, "text/html"); });
    const int pagePort = pageServer.bind_to_any_port("127.0.0.1");
    REQUIRE(pagePort > 0);
    std::thread pageThread([&] { pageServer.listen_after_bind(); });
    struct Stop {
        httplib::Server& s;
        std::thread& t;
        ~Stop() {
            s.stop();
            t.join();
        }
    } stopPage{pageServer, pageThread};
    const std::string pageOrigin = "http://127.0.0.1:" + std::to_string(pagePort);

    LiveAggregator allowing(kSuite), other(kSuite);
    agg::ServerOptions a = plainOptions(allowing);
    a.allowedOrigins = {pageOrigin};
    allowing.start(a);
    agg::ServerOptions c = plainOptions(other);
    c.allowedOrigins = {"https://forms.example.org"};
    other.start(c);

    std::string dom = chromiumDom(allowing.folder, pageOrigin + "/#A=http://127.0.0.1:" + std::to_string(allowing.port()) +
                                                       ",C=http://127.0.0.1:" + std::to_string(other.port()));
    INFO(dom);
    std::smatch m;
    REQUIRE(std::regex_search(dom, m, std::regex("RESULT ([^<]*) END")));
    const std::string result = m[1];
    CHECK(result.find("A-GET-200") != std::string::npos);
    CHECK(result.find("A-POST-400") != std::string::npos);  // read by the page: the frame is garbage, answered as such
    CHECK(result.find("C-GET-BLOCKED") != std::string::npos);
    CHECK(result.find("C-POST-BLOCKED") != std::string::npos);
    // The refused preflight reached C and was answered 403, with the reason in its log.
    CHECK(other.logCount("OPTIONS /v1/updates 403 origin_not_allowed") == 1);
    CHECK(other.logCount("POST /v1/updates") == 0);  // the browser never sent the POST
    CHECK(allowing.logCount("POST /v1/updates 400") == 1);
}

TEST_CASE("ck-aggregator serve: a web app folder that is not a build, or a bad origin, stops it with the reason",
          "[sync][web][cli]") {
    auto folder = test::scratchFolder(kSuite) / "data";
    const std::string pass = "web app cli test passphrase 2026";
    const std::string env = "CK_ADMIN_PASSPHRASE=" + test::shellQuote(pass) + " ";
    const std::string bin = test::shellQuote(CK_AGGREGATOR_BIN);
    test::CommandRun init = test::runCommand(env + bin + " init --test-kdf --data " + test::shellQuote(folder.string()));
    REQUIRE(init.status == 0);
    fs::path empty = folder.parent_path() / "empty-web";
    fs::create_directories(empty);
    test::CommandRun noIndex = test::runCommand(env + "timeout 20 " + bin + " serve --data " + test::shellQuote(folder.string()) +
                                                " --listen 127.0.0.1:0 --web-app " + test::shellQuote(empty.string()));
    CHECK(noIndex.status == 2);
    CHECK(noIndex.err.find("has no index.html") != std::string::npos);
    CHECK(noIndex.out.find("ready") == std::string::npos);
    test::CommandRun badOrigin = test::runCommand(env + bin + " serve --data " + test::shellQuote(folder.string()) +
                                                  " --allow-origin 'https://forms.example.org/app/'");
    CHECK(badOrigin.status == 2);
    CHECK(badOrigin.err.find("--allow-origin needs an origin") != std::string::npos);
}
