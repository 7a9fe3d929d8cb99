// `ck-aggregator enrol`'s slip: the enrolment string it prints carries exactly the slip's own
// address, TLS pin and code; the printed HTML slip's QR code, drawn by Chromium and read back
// by an outside decoder (zbarimg), is that same string.
#include <catch2/catch.hpp>

#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <regex>
#include <string>

#include "sync/protocol/enrolment_string.h"
#include "tests/support/command_run.h"

namespace fs = std::filesystem;
using ck::test::runCommand;
using ck::test::shellQuote;

namespace {

constexpr const char* kAdminPassphrase = "aggregator-admin-2026";

ck::test::CommandRun aggregator(const std::string& args) {
    return runCommand("CK_ADMIN_PASSPHRASE=" + shellQuote(kAdminPassphrase) + " " + std::string(CK_AGGREGATOR_BIN) + " " +
                      args);
}

fs::path freshDir(const std::string& name) {
    fs::path dir = fs::path(CK_BINARY_DIR) / "test-scratch" / "enrolment-slip" / (name + "-" + std::to_string(getpid()));
    fs::remove_all(dir);
    fs::create_directories(dir);
    return dir;
}

std::string field(const std::string& text, const std::string& name) {
    std::smatch m;
    return std::regex_search(text, m, std::regex(name + R"(:\s+(\S+))")) ? std::string(m[1]) : std::string();
}

std::string auditEntries(const std::string& data) {
    return field(aggregator("status --data " + shellQuote(data)).out, "audit entries");
}

}  // namespace

TEST_CASE("ck-aggregator enrol: the slip's enrolment string holds the slip's own address, pin and code", "[tools][enrolment]") {
    fs::path root = freshDir("string");
    const std::string data = shellQuote((root / "agg").string());
    auto init = aggregator("init --data " + data + " --test-kdf --host 10.0.0.5");
    INFO(init.all());
    REQUIRE(init.status == 0);

    auto slip = aggregator("enrol --data " + data + " --officer Priya --cluster tiruppur-knitwear");
    INFO(slip.all());
    REQUIRE(slip.status == 0);
    const std::string string = field(slip.out, "enrolment string");
    REQUIRE(string.rfind("CK1-", 0) == 0);
    auto decoded = ck::proto::decodeEnrolmentString(string);
    REQUIRE(std::holds_alternative<ck::proto::EnrolmentDetails>(decoded));
    const auto& d = std::get<ck::proto::EnrolmentDetails>(decoded);
    CHECK(d.url == "https://10.0.0.5:8443");
    CHECK(d.url == field(slip.out, "server"));
    CHECK(d.publicKeyPin == field(slip.out, "TLS pin"));
    CHECK(d.publicKeyPin == field(init.out, "TLS pin"));
    CHECK(d.code == field(slip.out, "code"));
    // Not a terminal: no QR blocks in what a script captures; --qr asks for them.
    CHECK(slip.out.find("\x1b[") == std::string::npos);
    auto withQr = aggregator("enrol --data " + data + " --officer Priya --cluster tiruppur-knitwear --qr");
    REQUIRE(withQr.status == 0);
    CHECK(withQr.out.find("\xE2\x96\x88") != std::string::npos);  // full blocks
    CHECK(field(withQr.out, "enrolment string") != string);        // a new code, a new string

    // --server names the address devices use; a bad one is refused before a code is issued.
    auto other = aggregator("enrol --data " + data + " --officer Priya --cluster c --server https://agg.example.org:9443");
    REQUIRE(other.status == 0);
    auto otherDecoded = ck::proto::decodeEnrolmentString(field(other.out, "enrolment string"));
    REQUIRE(std::holds_alternative<ck::proto::EnrolmentDetails>(otherDecoded));
    CHECK(std::get<ck::proto::EnrolmentDetails>(otherDecoded).url == "https://agg.example.org:9443");
    const std::string before = auditEntries(root / "agg");
    REQUIRE_FALSE(before.empty());
    auto bad = aggregator("enrol --data " + data + " --officer Priya --cluster c --server ftp://agg.example.org");
    CHECK(bad.status == 2);
    CHECK_THAT(bad.err, Catch::Contains("--server") && Catch::Contains("https://"));
    CHECK(auditEntries(root / "agg") == before);  // no code was issued

    // No address known at all: the slip still has its lines, says why it has no string.
    const std::string bare = shellQuote((root / "bare").string());
    REQUIRE(aggregator("init --data " + bare + " --test-kdf").status == 0);
    auto noHost = aggregator("enrol --data " + bare + " --officer Priya --cluster c");
    INFO(noHost.all());
    CHECK(noHost.status == 0);
    CHECK_FALSE(field(noHost.out, "code").empty());
    CHECK(noHost.out.find("enrolment string") == std::string::npos);
    CHECK_THAT(noHost.err, Catch::Contains("--server"));
}

TEST_CASE("ck-aggregator enrol --html: the printed slip's QR code reads back as the enrolment string", "[tools][enrolment][chromium]") {
    REQUIRE(runCommand("command -v chromium").status == 0);
    REQUIRE(runCommand("command -v zbarimg").status == 0);  // Debian zbar-tools (scripts/install-deps)
    fs::path root = freshDir("html");
    const std::string data = shellQuote((root / "agg").string());
    REQUIRE(aggregator("init --data " + data + " --test-kdf --host 192.168.20.7 --name 'Tiruppur & Co'").status == 0);
    const fs::path html = root / "slip.html";
    auto slip = aggregator("enrol --data " + data + " --officer '<b>Priya</b>' --cluster tiruppur-knitwear --html " +
                           shellQuote(html.string()));
    INFO(slip.all());
    REQUIRE(slip.status == 0);
    const std::string string = field(slip.out, "enrolment string");
    REQUIRE_FALSE(string.empty());
    REQUIRE(fs::exists(html));
    struct stat st {};
    REQUIRE(stat(html.c_str(), &st) == 0);
    CHECK((st.st_mode & 0777) == 0600);  // it holds a live code

    std::string page = runCommand("cat " + shellQuote(html.string())).out;
    CHECK(page.find("<b>Priya</b>") == std::string::npos);  // escaped, never markup
    CHECK(page.find("&lt;b&gt;Priya&lt;/b&gt;") != std::string::npos);
    CHECK(page.find("Tiruppur &amp; Co") != std::string::npos);
    // The string as the page shows it (spaces for dashes) is read by the app's decoder too.
    auto shown = ck::proto::decodeEnrolmentString(page);
    REQUIRE(std::holds_alternative<ck::proto::EnrolmentDetails>(shown));
    CHECK(std::get<ck::proto::EnrolmentDetails>(shown).code == field(slip.out, "code"));

    const fs::path png = root / "slip.png";
    auto shot = runCommand("timeout -k 5 60 chromium --headless --no-sandbox --disable-gpu --no-first-run "
                           "--disable-dev-shm-usage --disable-background-networking --disable-component-update "
                           "--disable-extensions --disable-sync --user-data-dir=" + shellQuote((root / "profile").string()) +
                           " --proxy-server=127.0.0.1:9 --window-size=900,1300 --screenshot=" + shellQuote(png.string()) +
                           " " + shellQuote("file://" + html.string()));
    INFO(shot.all());
    REQUIRE(fs::exists(png));
    fs::path artefact = fs::path(CK_BINARY_DIR) / "test-artifacts" / "enrolment-slip.png";
    fs::create_directories(artefact.parent_path());
    fs::copy_file(png, artefact, fs::copy_options::overwrite_existing);

    auto read = runCommand("zbarimg --quiet --raw " + shellQuote(png.string()));
    INFO(read.all());
    REQUIRE(read.status == 0);
    std::string text = read.out;
    while (!text.empty() && (text.back() == '\n' || text.back() == '\r')) text.pop_back();
    CHECK(text == string);
}
