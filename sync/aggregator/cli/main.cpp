// ck-aggregator: the operator's command for the central aggregator.
//
//   ck-aggregator init --data DIR [--host NAME]... [--name TEXT] [--storage URL] [--test-kdf]
//   ck-aggregator serve ...                        (see `ck-aggregator serve --help`)
//   ck-aggregator enrol --data DIR --officer NAME --cluster NAME [--valid-hours 72]
//   ck-aggregator devices list|revoke DEVICE_ID --data DIR
//   ck-aggregator templates publish FILE.json|list --data DIR
//   ck-aggregator assign FILE.csv --data DIR
//   ck-aggregator comment RECORD_ID TEXT --data DIR
//   ck-aggregator import BUNDLE [--receipt OUT] --data DIR
//   ck-aggregator export --out DIR [--format csv|json|both] [--custodian-key FILE] --data DIR
//   ck-aggregator audit verify [--expect-head HASH] --data DIR
//   ck-aggregator status --data DIR
//   ck-aggregator report [--scope SCOPE] [--format html,xlsx,csv,json] [--out DIR] --data DIR
//   ck-aggregator report-tokens issue --label TEXT|list|revoke LABEL --data DIR
//
// --data may be left out when CK_AGGREGATOR_DATA names the folder. The admin passphrase comes
// from CK_ADMIN_PASSPHRASE, or is asked for on the terminal without echo (twice for init).
// Exit status: 0 success; 1 refused (wrong passphrase, a bad row, a broken audit chain ...);
// 2 usage or I/O error.
#include <fcntl.h>
#include <sodium.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iostream>
#include <map>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/xlsform/xlsform_import.h"
#include "core/crypto/envelope.h"
#include "core/crypto/sealed_box.h"
#include "core/record/record_json.h"
#include "core/template/template_loader.h"
#include "report/csv_text.h"
#include "sync/aggregator/audit_log.h"
#include "sync/aggregator/cli/enrolment_slip.h"
#include "sync/aggregator/cli/serve_command.h"
#include "sync/aggregator/data_folder.h"
#include "sync/aggregator/ingest.h"
#include "sync/aggregator/report/baseline_service.h"
#include "sync/aggregator/tls_certificate.h"
#include "sync/protocol/enrolment_string.h"
#include "tools/terminal/terminal_text.h"

namespace fs = std::filesystem;
using namespace ck;
using namespace ck::agg;

// report_command.cpp
int runReport(const std::vector<std::string>& args);
int runReportTokens(const std::vector<std::string>& args);

namespace {

constexpr int kOk = 0, kRefused = 1, kUsage = 2;

// A failure that ends the command with `status` after printing `message`.
struct Exit {
    int status;
    std::string message;
};

const char* kUsageText =
    "usage: ck-aggregator COMMAND [options]\n"
    "  init --data DIR [--host NAME]... [--name TEXT] [--storage URL] [--test-kdf]\n"
    "                         make a data folder: storage, project keys, TLS certificate\n"
    "  serve ...              answer devices over HTTPS (ck-aggregator serve --help)\n"
    "  enrol --officer NAME --cluster NAME [--valid-hours 72]\n"
    "                         issue a one-time enrolment code and print the slip\n"
    "  devices list | devices revoke DEVICE_ID\n"
    "  templates publish FILE.json | templates list\n"
    "  assign FILE.csv        load the cluster register (units to visit)\n"
    "  comment [DEVICE_ID/]RECORD_ID TEXT\n"
    "                         send a review comment to the device that sent the visit\n"
    "  import BUNDLE [--receipt OUT]\n"
    "                         ingest a bundle file brought on a USB stick or SD card\n"
    "  export --out DIR [--format csv|json|both] [--custodian-key FILE]\n"
    "                         microdata, one row per visit (personal fields only with the custodian key)\n"
    "  audit verify [--expect-head HASH]\n"
    "  status\n"
    "  review [--limit N]     visits held for review (size class unlike the register's, no assigned unit)\n"
    "  report [--scope nation|cluster:CODE|district:NAME|state:NAME|sector:NAME]\n"
    "         [--format html,xlsx,csv,json] [--out DIR] [--template ID[@VERSION]] [--language CODE]\n"
    "                         build the cluster baseline report from the stored visits\n"
    "  report-tokens issue --label TEXT | report-tokens list | report-tokens revoke LABEL\n"
    "                         read-only tokens for GET /v1/report\n"
    "Every command but init and serve takes --data DIR (or CK_AGGREGATOR_DATA).\n"
    "The admin passphrase comes from CK_ADMIN_PASSPHRASE or the terminal.\n"
    "Exit status: 0 ok, 1 refused, 2 usage or I/O error.\n";

// Options after the command words: --name value, --flag, and positional words.
struct Options {
    std::vector<std::string> positional;
    std::multimap<std::string, std::string> values;
    std::set<std::string> flags;
    bool help = false;

    std::string get(const std::string& name, const std::string& fallback = "") const {
        auto it = values.find(name);
        return it == values.end() ? fallback : it->second;
    }
    std::vector<std::string> all(const std::string& name) const {
        std::vector<std::string> out;
        for (auto [it, end] = values.equal_range(name); it != end; ++it) out.push_back(it->second);
        return out;
    }
};

Options parseOptions(const std::vector<std::string>& args, size_t from, const std::set<std::string>& valued,
                     const std::set<std::string>& bare) {
    Options o;
    for (size_t i = from; i < args.size(); ++i) {
        const std::string& a = args[i];
        if (a == "--help" || a == "-h") o.help = true;
        else if (valued.count(a)) {
            if (i + 1 >= args.size()) throw Exit{kUsage, a + " needs a value"};
            o.values.emplace(a, args[++i]);
        } else if (bare.count(a)) o.flags.insert(a);
        else if (a.rfind("--", 0) == 0) throw Exit{kUsage, "unknown option " + a + " (see --help)"};
        else o.positional.push_back(a);
    }
    return o;
}

std::string readFile(const fs::path& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) throw Exit{kUsage, path.string() + ": cannot read the file"};
    std::ostringstream s;
    s << in.rdbuf();
    return s.str();
}

// At most `limit` bytes of a file, read a piece at a time: a file past the limit (or a device
// or pipe that never ends) is refused before it is held whole.
std::string readFileAtMost(const fs::path& path, size_t limit, const std::string& what) {
    int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) throw Exit{kUsage, path.string() + ": cannot read the file: " + std::strerror(errno)};
    struct stat st {};
    if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        ::close(fd);
        throw Exit{kRefused, path.string() + ": not a regular file"};
    }
    auto tooLarge = [&](unsigned long long size) {
        ::close(fd);
        return Exit{kRefused, path.string() + " is " + std::to_string(size) + " bytes; " + what + " holds at most " +
                                  std::to_string(limit) + " bytes"};
    };
    if (static_cast<unsigned long long>(st.st_size) > limit) throw tooLarge(static_cast<unsigned long long>(st.st_size));
    std::string bytes;
    char buf[64 * 1024];
    for (;;) {
        ssize_t n = ::read(fd, buf, sizeof buf);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) {
            ::close(fd);
            throw Exit{kUsage, path.string() + ": cannot read the file: " + std::strerror(errno)};
        }
        if (n == 0) break;
        if (bytes.size() + static_cast<size_t>(n) > limit) throw tooLarge(bytes.size() + static_cast<size_t>(n));
        bytes.append(buf, static_cast<size_t>(n));
    }
    ::close(fd);
    return bytes;
}

// Files this command writes hold survey data or receipts: readable by the operator only,
// whatever the umask (0600; an existing file keeps its owner but gets the mode).
void writeFile(const fs::path& path, const std::string& bytes) {
    int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0) throw Exit{kUsage, path.string() + ": cannot write the file: " + std::strerror(errno)};
    bool ok = ::fchmod(fd, 0600) == 0;
    for (size_t done = 0; ok && done < bytes.size();) {
        ssize_t n = ::write(fd, bytes.data() + done, bytes.size() - done);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) ok = false;
        else done += static_cast<size_t>(n);
    }
    if (::close(fd) != 0) ok = false;
    if (!ok) throw Exit{kUsage, path.string() + ": cannot write the file"};
}

// A folder of the operator's only (0700): the data folder, an export.
void makePrivateFolder(const fs::path& dir) {
    std::error_code ec;
    fs::create_directories(dir, ec);
    if (ec) throw Exit{kUsage, dir.string() + ": cannot create the folder: " + ec.message()};
    fs::permissions(dir, fs::perms::owner_all, fs::perm_options::replace, ec);
    if (ec) throw Exit{kUsage, dir.string() + ": cannot make the folder private: " + ec.message()};
}

std::string timeText(int64_t t) { return t ? formatUtc(t) : std::string("-"); }

std::string hex(const std::vector<uint8_t>& bytes) { return toHex(bytes.data(), bytes.size()); }

// --- the data folder ---

fs::path dataDir(const Options& o) {
    std::string dir = o.get("--data");
    if (dir.empty())
        if (const char* env = std::getenv("CK_AGGREGATOR_DATA")) dir = env;
    if (dir.empty()) throw Exit{kUsage, "which data folder? pass --data DIR (or set CK_AGGREGATOR_DATA)"};
    return dir;
}

DataFolder openFolder(const Options& o) {
    auto folder = openDataFolder(dataDir(o));
    if (auto* err = std::get_if<std::string>(&folder)) throw Exit{kUsage, *err};
    return std::get<DataFolder>(folder);
}

std::unique_ptr<AggregatorStorage> openFolderStorage(const DataFolder& folder) {
    return openStorage(folder.storageUrl);  // StorageFailure is caught in main
}

ProjectKeys unlockKeys(const DataFolder& folder) {
    auto keys = unlockDataFolderKeys(folder);
    if (auto* f = std::get_if<KeysFailure>(&keys)) throw Exit{kRefused, f->message};
    return std::move(std::get<ProjectKeys>(keys));
}

PublicKeys publicKeys(const DataFolder& folder) {
    auto keys = readPublicKeys(folder.path);
    if (auto* f = std::get_if<KeysFailure>(&keys)) throw Exit{kUsage, f->message};
    return std::get<PublicKeys>(keys);
}

IngestOptions ingestOptions(const DataFolder& folder) {
    IngestOptions options;
    options.aggregatorName = folder.name;
    options.auditHeadFile = folder.path / kAuditHeadFileName;
    return options;
}

bool helpFor(const Options& o, const char* text) {
    if (o.help) std::cout << text;
    return o.help;
}

// --- init ---

int init(const std::vector<std::string>& args) {
    Options o = parseOptions(args, 1, {"--data", "--host", "--name", "--storage"}, {"--test-kdf"});
    if (helpFor(o, "usage: ck-aggregator init --data DIR [--host NAME]... [--name TEXT] [--storage URL] [--test-kdf]\n"
                   "Makes a data folder: the storage (SQLite in DIR unless --storage postgresql://... is given),\n"
                   "the project keys (keys.ck, under the admin passphrase, asked twice), and a self-signed TLS\n"
                   "certificate for the host names or addresses devices will use (--host, repeatable).\n"
                   "--test-kdf makes the passphrase fast to check and weak: for tests and demos only.\n"))
        return kOk;
    if (!o.positional.empty()) throw Exit{kUsage, "init takes no words, only options (see --help)"};
    fs::path dir = dataDir(o);
    makePrivateFolder(dir);
    if (fs::exists(dir / "config.json") || fs::exists(dir / "keys.ck"))
        throw Exit{kRefused, dir.string() + " is already an aggregator data folder: refusing to replace its keys"};

    auto pass = adminPassphrase(true);
    if (auto* err = std::get_if<std::string>(&pass)) throw Exit{kUsage, *err};
    auto& [passphrase, confirmation] = std::get<0>(pass);
    // Refused passphrases and unreachable storage leave nothing behind: both are checked
    // before the keys are made.
    if (auto weak = checkPassphraseStrength(passphrase)) throw Exit{kRefused, *weak};
    if (passphrase != confirmation) throw Exit{kRefused, "the two admin passphrases differ; nothing was made"};
    DataFolder folder;
    folder.path = dir;
    folder.storageUrl = o.get("--storage", dir.string());
    folder.name = o.get("--name", folder.name);
    folder.hosts = o.all("--host");
    auto storage = openStorage(folder.storageUrl);

    auto created = createProjectKeys(dir, passphrase, confirmation, o.flags.count("--test-kdf") ? kFastKdf : KdfParams{});
    if (auto* f = std::get_if<KeysFailure>(&created)) throw Exit{kRefused, f->message};
    ProjectKeys& keys = std::get<ProjectKeys>(created);
    CertificateInfo cert;
    try {
        cert = createSelfSignedCertificate(dir, folder.hosts);
    } catch (const std::exception& e) {
        throw Exit{kUsage, std::string("cannot make the TLS certificate: ") + e.what()};
    }
    if (std::string err = saveDataFolderConfig(folder); !err.empty()) throw Exit{kUsage, err};

    std::cout << "aggregator data folder " << dir.string() << " (" << folder.name << ")\n"
              << "storage:              " << storage->describe() << "\n"
              << "ingest key:           " << keyFingerprint(keys.ingestPublicKey) << "\n"
              << "ingest key (hex):     " << hex(keys.ingestPublicKey) << "\n"
              << "template signing key: " << keyFingerprint(keys.signingPublicKey) << "\n"
              << "TLS pin:              " << cert.publicKeyPin << "\n"
              << "TLS fingerprint:      " << cert.fingerprint << "\n"
              << "Keep a copy of " << (dir / "keys.ck").string()
              << " and the admin passphrase apart: without them no visit can be opened.\n";
    return kOk;
}

// --- enrol ---

// Where devices reach this aggregator, and its TLS pin: what the enrolment string carries.
struct SlipString {
    std::string url;  // "" when no address is known (no --server, no init --host)
    std::string pin;  // "" when the certificate cannot be read
    std::string why;  // why the slip has no string, when it has none
};

SlipString enrolmentAddress(const DataFolder& folder, const std::string& server) {
    SlipString s;
    if (!server.empty()) {
        s.url = server;
    } else if (!folder.hosts.empty()) {
        const std::string& host = folder.hosts.front();
        bool ipv6 = host.find(':') != std::string::npos && host.front() != '[';
        s.url = "https://" + (ipv6 ? "[" + host + "]" : host) + ":" + std::to_string(folder.port);
    }
    try {
        s.pin = readCertificate(folder.path).publicKeyPin;
    } catch (const std::exception& e) {
        s.why = std::string("no TLS pin: ") + e.what();
    }
    if (s.url.empty()) {
        s.why = "no address is known: pass --server https://HOST:PORT (or init with --host)";
        return s;
    }
    try {
        (void)proto::encodeEnrolmentString({s.url, s.pin, "CHECK"});
    } catch (const std::invalid_argument& e) {
        if (!server.empty()) throw Exit{kUsage, std::string("--server: ") + e.what()};
        if (s.why.empty()) s.why = e.what();
        s.url.clear();
    }
    return s;
}

void printEnrolmentString(SlipFields& slip, const SlipString& s, bool qr) {
    if (s.url.empty() || (s.url.rfind("https://", 0) == 0 && s.pin.empty())) {
        std::cerr << "ck-aggregator: warning: the slip has no enrolment string: " << s.why << "\n";
        return;
    }
    slip.enrolmentString = proto::encodeEnrolmentString({s.url, s.pin, slip.code});
    std::cout << "  enrolment string: " << slip.enrolmentString << "\n"
              << "  (address, TLS pin and code in one line: paste it into the app or `ck-field enrol --string`)\n";
    if (qr || isatty(STDOUT_FILENO)) std::cout << qrTerminal(encodeQr(slip.enrolmentString));
}

// The slip holds a live code: readable by its owner only, as the data folder's keys are.
void writePrivateFile(const fs::path& path, const std::string& bytes) {
    int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0) throw Exit{kUsage, path.string() + ": cannot write the file: " + std::strerror(errno)};
    ::fchmod(fd, 0600);  // an existing file keeps its mode otherwise
    size_t done = 0;
    while (done < bytes.size()) {
        ssize_t n = ::write(fd, bytes.data() + done, bytes.size() - done);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) {
            ::close(fd);
            throw Exit{kUsage, path.string() + ": cannot write the file: " + std::strerror(errno)};
        }
        done += size_t(n);
    }
    if (::close(fd) != 0) throw Exit{kUsage, path.string() + ": cannot write the file: " + std::strerror(errno)};
}

int enrol(const std::vector<std::string>& args) {
    Options o = parseOptions(args, 1, {"--data", "--officer", "--cluster", "--valid-hours", "--server", "--html"}, {"--qr"});
    if (helpFor(o, "usage: ck-aggregator enrol --data DIR --officer NAME --cluster NAME [--valid-hours 72]\n"
                   "                           [--server URL] [--html FILE] [--qr]\n"
                   "Issues a one-time enrolment code for one device of that officer, and prints the slip to give\n"
                   "them: the code, the server address, the TLS pin and the ingest key fingerprint, and the\n"
                   "enrolment string that carries address, pin and code in one line (CK1-...), for the app to take\n"
                   "pasted, scanned or from a file.\n"
                   "--server URL  the address devices use (default: https://HOST:PORT of init's first --host)\n"
                   "--html FILE   also write the slip as a page to print, with the string's QR code (mode 0600)\n"
                   "--qr          print the QR code on the terminal too (done anyway when stdout is a terminal)\n"))
        return kOk;
    std::string officer = o.get("--officer"), cluster = o.get("--cluster");
    if (officer.empty() || cluster.empty() || !o.positional.empty())
        throw Exit{kUsage, "enrol needs --officer NAME and --cluster NAME (see --help)"};
    long hours = 72;
    if (std::string h = o.get("--valid-hours"); !h.empty()) {
        char* end = nullptr;
        errno = 0;
        hours = std::strtol(h.c_str(), &end, 10);
        if (errno || *end || hours < 1 || hours > 24 * 90)
            throw Exit{kUsage, "--valid-hours takes a whole number of hours from 1 to 2160"};
    }
    DataFolder folder = openFolder(o);
    // The address the string carries is checked before a code is issued: a refused --server
    // leaves no unused code behind.
    SlipString slipString = enrolmentAddress(folder, o.get("--server"));
    ProjectKeys keys = unlockKeys(folder);
    auto storage = openFolderStorage(folder);
    IngestService ingest(*storage, keys, ingestOptions(folder));
    std::string code = ingest.issueEnrolmentCode(officer, cluster, hours * 3600);
    std::cout << "Enrolment slip -- " << folder.name << "\n"
              << "  code:        " << code << "   (one device, once)\n"
              << "  officer:     " << officer << "\n"
              << "  cluster:     " << cluster << "\n"
              << "  valid until: " << formatUtc(systemClock() + hours * 3600) << "\n";
    for (const auto& host : folder.hosts) std::cout << "  server:      https://" << host << ":" << folder.port << "\n";
    try {
        CertificateInfo cert = readCertificate(folder.path);
        std::cout << "  TLS pin:     " << cert.publicKeyPin << "\n";
    } catch (const std::exception& e) {
        std::cerr << "ck-aggregator: warning: no TLS pin for the slip: " << e.what() << "\n";
    }
    std::cout << "  ingest key:  " << keyFingerprint(keys.ingestPublicKey) << "\n"
              << "  templates:   " << keyFingerprint(keys.signingPublicKey) << "\n";
    SlipFields slip{folder.name, officer, cluster, formatUtc(systemClock() + hours * 3600), code, {}, slipString.pin,
                    keyFingerprint(keys.ingestPublicKey), keyFingerprint(keys.signingPublicKey), {}};
    for (const auto& host : folder.hosts) slip.servers.push_back("https://" + host + ":" + std::to_string(folder.port));
    if (!slipString.url.empty() && slip.servers.empty()) slip.servers.push_back(slipString.url);
    printEnrolmentString(slip, slipString, o.flags.count("--qr") > 0);
    if (std::string html = o.get("--html"); !html.empty()) {
        writePrivateFile(html, slipHtml(slip));
        std::cout << "slip written to " << html << " (print it; it holds the code: keep it private)\n";
    }
    return kOk;
}

// --- devices ---

int devices(const std::vector<std::string>& args) {
    Options o = parseOptions(args, 1, {"--data"}, {});
    if (helpFor(o, "usage: ck-aggregator devices list --data DIR\n"
                   "       ck-aggregator devices revoke DEVICE_ID --data DIR\n"
                   "A revoked device can send nothing more; what it sent stays.\n"))
        return kOk;
    const auto& p = o.positional;
    if (p.empty() || (p[0] == "list" && p.size() != 1) || (p[0] == "revoke" && p.size() != 2) ||
        (p[0] != "list" && p[0] != "revoke"))
        throw Exit{kUsage, "devices takes `list` or `revoke DEVICE_ID` (see --help)"};
    DataFolder folder = openFolder(o);
    auto storage = openFolderStorage(folder);
    if (p[0] == "list") {
        auto rows = storage->listDevices();
        for (const auto& d : rows)
            std::cout << d.deviceId << "  " << (d.revokedAt ? "revoked " + timeText(d.revokedAt) : std::string("active"))
                      << "  officer: " << terminalSafe(d.officer) << "  cluster: " << terminalSafe(d.cluster)
                      << "  label: " << terminalSafe(d.label)
                      << "  enrolled: " << timeText(d.enrolledAt) << "\n";
        std::cout << rows.size() << " device(s)\n";
        return kOk;
    }
    int64_t now = systemClock();
    auto device = storage->findDeviceById(p[1]);
    if (!device) throw Exit{kRefused, "no device " + p[1] + " is enrolled here (see `devices list`)"};
    if (device->revokedAt) throw Exit{kRefused, p[1] + " was already revoked at " + timeText(device->revokedAt)};
    if (!storage->revokeDevice(p[1], now, AuditEvent{now, "revoked", "operator", p[1], device->officer}))
        throw Exit{kRefused, p[1] + " could not be revoked (already revoked?)"};
    std::cout << p[1] << " revoked: it can send nothing more\n";
    return kOk;
}

// --- templates ---

int templates(const std::vector<std::string>& args) {
    Options o = parseOptions(args, 1, {"--data", "--media"}, {});
    if (helpFor(o, "usage: ck-aggregator templates publish FILE.json|FILE.xlsx [--media DIR] --data DIR\n"
                   "       ck-aggregator templates list --data DIR\n"
                   "publish checks the template fully, signs it with the template key and offers it to devices.\n"
                   "The images its questions and choices name (XLSForm media::image; PNG or JPEG) are packed\n"
                   "into it from --media DIR, else from NAME-media beside the file, and travel signed with it.\n"))
        return kOk;
    const auto& p = o.positional;
    if (p.size() == 1 && p[0] == "list") {
        DataFolder folder = openFolder(o);
        auto storage = openFolderStorage(folder);
        auto rows = storage->listTemplates();
        for (const auto& t : rows)
            std::cout << terminalSafe(t.templateId) << "  " << terminalSafe(t.version) << "  published "
                      << timeText(t.publishedAt) << "\n";
        std::cout << rows.size() << " template version(s)\n";
        return kOk;
    }
    if (p.size() != 2 || p[0] != "publish") throw Exit{kUsage, "templates takes `publish FILE.json` or `list` (see --help)"};
    // A workbook is imported, and the images named are packed in (xlsform_import.h), before
    // any key is unlocked: what is signed is the JSON document devices load.
    TemplateLoadOptions packing;
    if (auto m = o.values.find("--media"); m != o.values.end()) {
        std::error_code ec;
        if (!fs::is_directory(m->second, ec)) throw Exit{kUsage, m->second + ": no such folder (--media names the folder of the form's images)"};
        packing.mediaFolder = m->second;
    }
    if (std::error_code ec; !fs::is_regular_file(p[1], ec)) throw Exit{kUsage, p[1] + ": cannot read the file"};
    TemplatePackage package = packTemplateFile(p[1], packing);
    if (!package.ok()) {
        std::string text = p[1] + ": the template has " + std::to_string(package.loaded.errors.size()) +
                           " problem(s); nothing was published:";
        for (const auto& e : package.loaded.errors) text += "\n  " + terminalSafe(e.toString());
        throw Exit{kRefused, text};
    }
    for (const auto& w : package.loaded.warnings) std::cerr << "warning: " << terminalSafe(w.toString()) << "\n";
    const std::string& text = package.jsonText;
    DataFolder folder = openFolder(o);
    ProjectKeys keys = unlockKeys(folder);
    auto storage = openFolderStorage(folder);
    IngestService ingest(*storage, keys, ingestOptions(folder));
    auto r = ingest.publishTemplate(text, p[1]);
    if (auto* err = std::get_if<std::string>(&r)) throw Exit{kRefused, *err};
    const PublishedTemplate& t = std::get<PublishedTemplate>(r);
    std::cout << "published " << t.templateId << " version " << t.version << ", signed by "
              << keyFingerprint(keys.signingPublicKey);
    if (package.mediaFiles > 0)
        std::cout << ", with " << package.mediaFiles << (package.mediaFiles == 1 ? " image" : " images") << " ("
                  << (package.mediaBytes + 1023) / 1024 << " KiB)";
    std::cout << "\n";
    return kOk;
}

// --- assign ---

int assign(const std::vector<std::string>& args) {
    Options o = parseOptions(args, 1, {"--data"}, {});
    if (helpFor(o, "usage: ck-aggregator assign FILE.csv --data DIR\n"
                   "Loads the cluster register: header unit_id,name,cluster,district,state,stratum[,sector].\n"
                   "Units already loaded are replaced by unit_id. Every bad row is named; if any row is bad,\n"
                   "nothing is loaded.\n"))
        return kOk;
    if (o.positional.size() != 1) throw Exit{kUsage, "assign takes one CSV file (see --help)"};
    const std::string& file = o.positional[0];
    ParsedRegister parsed = parseClusterRegister(readFile(file), file);
    if (!parsed.ok()) {
        for (const auto& p : parsed.problems) std::cerr << p << "\n";
        throw Exit{kRefused, std::to_string(parsed.problems.size()) + " problem(s) in " + file + "; nothing was loaded"};
    }
    const std::vector<RegisterUnit>& units = parsed.units;
    DataFolder folder = openFolder(o);
    auto storage = openFolderStorage(folder);
    storage->putRegister(units, AuditEvent{systemClock(), "register", "operator", fs::path(file).filename().string(),
                                           std::to_string(units.size()) + " units"});
    std::set<std::string> clusters;
    for (const auto& u : units) clusters.insert(u.cluster);
    std::cout << units.size() << " unit(s) loaded for " << clusters.size() << " cluster(s)\n";
    return kOk;
}

// --- comment ---

int comment(const std::vector<std::string>& args) {
    Options o = parseOptions(args, 1, {"--data"}, {});
    if (helpFor(o, "usage: ck-aggregator comment [DEVICE_ID/]RECORD_ID TEXT --data DIR\n"
                   "Sends a review comment to the device that sent the visit (it arrives with its next sync).\n"
                   "Record ids are chosen by devices: when two devices sent visits with one id, name the\n"
                   "device (dev-1a2b3c4d/RECORD_ID, as `review` and `devices list` show it).\n"))
        return kOk;
    if (o.positional.size() != 2 || o.positional[1].empty())
        throw Exit{kUsage, "comment takes a record id and the text (see --help)"};
    std::string recordId = o.positional[0], deviceId;
    if (auto slash = recordId.find('/'); slash != std::string::npos) {
        deviceId = recordId.substr(0, slash);
        recordId = recordId.substr(slash + 1);
    }
    const std::string& text = o.positional[1];
    if (text.size() > 8 * 1024) throw Exit{kUsage, "a comment may hold at most 8 KB of text"};
    DataFolder folder = openFolder(o);
    auto storage = openFolderStorage(folder);
    if (deviceId.empty()) {
        std::vector<std::string> devices = storage->devicesWithVisit(recordId);
        if (devices.empty()) throw Exit{kRefused, "no visit " + terminalSafe(recordId) + " was received here"};
        if (devices.size() > 1) {
            std::string names;
            for (const auto& d : devices) names += (names.empty() ? "" : ", ") + terminalSafe(d) + "/" + terminalSafe(recordId);
            throw Exit{kRefused, std::to_string(devices.size()) + " devices sent a visit " + terminalSafe(recordId) +
                                     ": name the one you mean (" + names + ")"};
        }
        deviceId = devices.front();
    } else if (!storage->findDeviceVisit(deviceId, recordId)) {
        throw Exit{kRefused, "device " + terminalSafe(deviceId) + " sent no visit " + terminalSafe(recordId)};
    }
    int64_t now = systemClock();
    storage->addComment(ReviewCommentRow{recordId, text, now}, deviceId,
                        AuditEvent{now, "comment", "operator", deviceId + "/" + recordId, text});
    std::cout << "comment on " << terminalSafe(recordId) << " queued for " << terminalSafe(deviceId) << "\n";
    return kOk;
}

// --- import ---

int importBundleFile(const std::vector<std::string>& args) {
    Options o = parseOptions(args, 1, {"--data", "--receipt"}, {});
    if (helpFor(o, "usage: ck-aggregator import BUNDLE [--receipt OUT] --data DIR\n"
                   "Ingests a bundle file exactly as if its batches were uploaded; a bundle imported twice stores\n"
                   "nothing twice. --receipt writes the acknowledgements for the device to read back.\n"
                   "Exit status 1 when any record was refused.\n"))
        return kOk;
    if (o.positional.size() != 1) throw Exit{kUsage, "import takes one bundle file (see --help)"};
    const std::string& file = o.positional[0];
    std::string bytes = readFileAtMost(file, proto::kMaxFrameBytes, "a bundle");
    auto decoded = proto::decodeFrame(reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size());
    if (auto* f = std::get_if<proto::FrameFailure>(&decoded)) throw Exit{kRefused, file + ": " + f->message};
    auto* bundle = std::get_if<proto::Bundle>(&std::get<proto::Message>(decoded));
    if (!bundle)
        throw Exit{kRefused, file + ": this is a " +
                                 std::string(proto::messageTypeName(proto::messageType(std::get<proto::Message>(decoded)))) +
                                 " message, not a bundle"};
    DataFolder folder = openFolder(o);
    ProjectKeys keys = unlockKeys(folder);
    auto storage = openFolderStorage(folder);
    IngestService ingest(*storage, keys, ingestOptions(folder));
    auto answer = ingest.importBundle(*bundle);
    if (auto* e = std::get_if<proto::ErrorReply>(&answer)) throw Exit{kRefused, e->message};
    const proto::Receipt& receipt = std::get<proto::Receipt>(answer);
    size_t stored = 0, duplicate = 0, refused = 0;
    for (const auto& e : receipt.entries) {
        if (e.ack.status == proto::AckStatus::Stored) ++stored;
        else if (e.ack.status == proto::AckStatus::Duplicate) ++duplicate;
        else {
            ++refused;
            std::cerr << terminalSafe(e.recordId) << ": refused: " << terminalSafe(e.ack.message) << "\n";
        }
    }
    if (std::string out = o.get("--receipt"); !out.empty()) {
        auto frame = proto::encodeFrame(receipt);
        writeFile(out, std::string(frame.begin(), frame.end()));
    }
    // Who made the bundle is whatever the bundle says (it is not signed): shown as its claim,
    // escaped. The visits themselves are signed by their device, which the receipt names.
    std::cout << "bundle (claims to be from "
              << (bundle->createdBy.empty() ? std::string("nobody") : "\"" + terminalSafe(bundle->createdBy) + "\"")
              << "): " << stored << " stored, " << duplicate << " duplicate, " << refused << " refused\n";
    return refused ? kRefused : kOk;
}

// --- export ---

std::string cellText(const Value& v) {
    // "Don't know" and "refused" are answers of their own, never blanks.
    if (v.kind() == ValueKind::DontKnow) return "dont_know";
    if (v.kind() == ValueKind::Refused) return "refused";
    return v.toString();
}

// Answers are device-chosen text: quoted, and never a formula when a spreadsheet opens it.
std::string csvCell(const std::string& s) {
    std::string out;
    report::appendCsvField(out, s);
    return out;
}

std::string csvRow(const std::vector<std::string>& cells) {
    std::string out;
    for (size_t i = 0; i < cells.size(); ++i) out += (i ? "," : "") + csvCell(cells[i]);
    return out + "\n";
}

// Puts the custodian's personal answers back into the main record, instance by instance.
void mergePersonal(std::vector<ck::Answer>& into, const std::vector<ck::Answer>& personal) {
    for (const ck::Answer& p : personal) {
        auto it = std::find_if(into.begin(), into.end(), [&](const ck::Answer& a) { return a.questionId == p.questionId; });
        if (!p.isRepeat) {
            if (it == into.end()) into.push_back(p);
            continue;
        }
        if (it == into.end()) {
            into.push_back(p);
            continue;
        }
        if (it->instances.size() < p.instances.size()) it->instances.resize(p.instances.size());
        for (size_t i = 0; i < p.instances.size(); ++i) mergePersonal(it->instances[i], p.instances[i]);
    }
}

// One template version's export files: the visits file and one file per repeat group.
struct ExportSet {
    std::shared_ptr<const Template> survey;
    std::string dictionary;                      // to open personal parts (recordDictionary)
    std::vector<int> columns;                    // top-level questions with a value
    std::map<int, std::vector<int>> repeatCols;  // repeat question -> its questions with a value
    std::string visitsCsv;
    std::map<int, std::string> repeatCsv;
    nlohmann::ordered_json json = nlohmann::ordered_json::array();
    size_t rows = 0;
};

int exportData(const std::vector<std::string>& args) {
    Options o = parseOptions(args, 1, {"--data", "--out", "--format", "--custodian-key", "--template"}, {"--design"});
    if (helpFor(o, "usage: ck-aggregator export --out DIR [--format csv|json|both] [--custodian-key FILE]\n"
                   "                            [--design [--template ID[@VERSION]]] --data DIR\n"
                   "Microdata, one row per visit, one file per template version (TEMPLATE-VERSION.csv) and one\n"
                   "per repeat group (TEMPLATE-VERSION.REPEAT.csv, one row per instance). Personal fields are left\n"
                   "out unless FILE holds the custodian's secret key (64 hex digits).\n"
                   "--design also writes TEMPLATE-VERSION.design.csv for the baseline report's template (default\n"
                   "cluster-diagnostic, newest version): each counted visit's stratum, N_h, n_h, weight and\n"
                   "finite population correction as the report uses them, and every indicator's domain, x and y,\n"
                   "so that a survey package can redo the report's figures (see README, \"Statistics\").\n"))
        return kOk;
    std::string outDir = o.get("--out"), format = o.get("--format", "both");
    if (outDir.empty() || !o.positional.empty()) throw Exit{kUsage, "export needs --out DIR (see --help)"};
    if (format != "csv" && format != "json" && format != "both") throw Exit{kUsage, "--format takes csv, json or both"};
    bool csv = format != "json", json = format != "csv";
    if (o.values.count("--template") && !o.flags.count("--design"))
        throw Exit{kUsage, "--template names the template of --design's file: add --design (see --help)"};

    std::vector<uint8_t> custodianPublic;
    SecretBytes custodianSecret;
    bool withPersonal = false;
    if (std::string keyFile = o.get("--custodian-key"); !keyFile.empty()) {
        std::string text = readFile(keyFile);
        while (!text.empty() && std::isspace(static_cast<unsigned char>(text.back()))) text.pop_back();
        custodianSecret = SecretBytes(crypto_box_SECRETKEYBYTES);
        size_t len = 0;
        if (text.size() != 64 || sodium_hex2bin(custodianSecret.data(), custodianSecret.size(), text.data(), text.size(),
                                                nullptr, &len, nullptr) != 0 || len != 32) {
            sodium_memzero(text.data(), text.size());
            throw Exit{kUsage, keyFile + ": expected the custodian's secret key as 64 hex digits"};
        }
        sodium_memzero(text.data(), text.size());
        custodianPublic.resize(crypto_box_PUBLICKEYBYTES);
        if (crypto_scalarmult_base(custodianPublic.data(), custodianSecret.data()) != 0)
            throw Exit{kUsage, keyFile + ": not a usable X25519 secret key"};
        withPersonal = true;
    }

    DataFolder folder = openFolder(o);
    auto storage = openFolderStorage(folder);
    makePrivateFolder(outDir);

    std::map<std::string, ExportSet> sets;  // "id@version"
    size_t personalOpened = 0, personalFailed = 0, total = 0;
    std::string problem;
    storage->forEachVisit([&](const StoredVisit& v) {
        std::string key = v.templateId + "@" + v.templateVersion;
        auto it = sets.find(key);
        if (it == sets.end()) {
            ExportSet set;
            auto published = storage->findTemplate(v.templateId, v.templateVersion);
            if (published) set.survey = loadTemplateJson(published->jsonText, key).survey;
            if (!set.survey) {
                problem = "template " + key + " of visit " + v.recordId + " cannot be loaded";
                return false;
            }
            const Template& t = *set.survey;
            set.dictionary = recordDictionary(t);
            std::vector<std::string> header = {"record_id", "parent_id", "device_id", "device_cluster", "received_at",
                                               "created_at"};
            for (const Question& q : t.questions) {
                if (!q.hasValue() || (q.pii && !withPersonal)) continue;
                if (q.repeat < 0) {
                    set.columns.push_back(q.index);
                    header.push_back(q.id);
                } else {
                    set.repeatCols[q.repeat].push_back(q.index);
                }
            }
            set.visitsCsv = csvRow(header);
            for (const Question& q : t.questions)
                if (q.type == QuestionType::Repeat) {
                    std::vector<std::string> h = {"record_id", "instance"};
                    for (int c : set.repeatCols[q.index]) h.push_back(t.questions[size_t(c)].id);
                    set.repeatCsv[q.index] = csvRow(h);
                }
            it = sets.emplace(key, std::move(set)).first;
        }
        ExportSet& set = it->second;
        const Template& t = *set.survey;
        auto decoded = deserializeRecord(std::string_view(reinterpret_cast<const char*>(v.record.data()), v.record.size()));
        if (!decoded.record) {
            problem = "visit " + v.recordId + " is damaged in storage: " + decoded.error;
            return false;
        }
        Record record = std::move(*decoded.record);
        if (withPersonal) {
            auto env = decodeEnvelope(v.envelope);
            if (env && !env->sealedPersonal.empty()) {
                auto personal = openPersonal(*env, custodianPublic, custodianSecret, set.dictionary);
                if (auto* r = std::get_if<Record>(&personal)) {
                    mergePersonal(record.answers, r->answers);
                    ++personalOpened;
                } else {
                    ++personalFailed;
                }
            }
        }
        std::vector<std::string> row = {v.recordId, v.parentId, v.deviceId, v.cluster, formatUtc(v.receivedAt),
                                        formatUtc(record.createdAt)};
        for (int c : set.columns) {
            const ck::Answer* a = record.find(t.questions[size_t(c)].id);
            row.push_back(a ? cellText(a->value) : std::string());
        }
        set.visitsCsv += csvRow(row);
        // Repeat instances, depth first; a nested instance is named "2.1" (outer 2, inner 1).
        std::function<void(const std::vector<ck::Answer>&, const std::string&)> repeats =
            [&](const std::vector<ck::Answer>& answers, const std::string& prefix) {
                for (const ck::Answer& a : answers) {
                    if (!a.isRepeat) continue;
                    int qi = t.indexOf(a.questionId);
                    if (qi < 0) continue;
                    for (size_t i = 0; i < a.instances.size(); ++i) {
                        std::string name = prefix + std::to_string(i + 1);
                        std::vector<std::string> r = {v.recordId, name};
                        for (int c : set.repeatCols[qi]) {
                            const std::string& id = t.questions[size_t(c)].id;
                            auto f = std::find_if(a.instances[i].begin(), a.instances[i].end(),
                                                  [&](const ck::Answer& x) { return x.questionId == id; });
                            r.push_back(f == a.instances[i].end() ? std::string() : cellText(f->value));
                        }
                        set.repeatCsv[qi] += csvRow(r);
                        repeats(a.instances[i], name + ".");
                    }
                }
            };
        repeats(record.answers, "");
        if (json) {
            auto j = recordToJson(record);
            j["device_id"] = v.deviceId;
            j["device_cluster"] = v.cluster;
            j["received_at"] = formatUtc(v.receivedAt);
            j["content_hash"] = v.contentHash;
            set.json.push_back(std::move(j));
        }
        ++set.rows;
        ++total;
        return true;
    });
    if (!problem.empty()) throw Exit{kRefused, problem};

    if (o.flags.count("--design")) {
        BaselineOptions options;
        options.rules = folder.reportRules;
        if (std::string templ = o.get("--template"); !templ.empty()) {
            size_t at = templ.find('@');
            options.templateId = templ.substr(0, at);
            if (at != std::string::npos) options.templateVersion = templ.substr(at + 1);
        }
        try {
            BaselineService service(*storage, options);
            auto t = service.rollupSnapshot();
            const std::string name = t.templ().id + "-" + t.templ().version + ".design.csv";
            writeFile(fs::path(outDir) / name, service.designCsv());
            std::cout << "design: " << service.visitsCounted() << " visit(s) of " << t.templ().id << "@"
                      << t.templ().version << " in " << name << "\n";
        } catch (const BaselineUnavailable& e) {
            throw Exit{kRefused, e.what()};
        }
    }

    for (auto& [key, set] : sets) {
        std::string base = set.survey->id + "-" + set.survey->version;
        // The loader allows no path characters in ids and versions; a storage written by an
        // older version might still hold one, and it must not name a file outside --out.
        if (base.find_first_of("/\\") != std::string::npos || base.find("..") != std::string::npos)
            throw Exit{kRefused, "template " + terminalSafe(key) + " has a name that cannot be a file name"};
        if (csv) {
            writeFile(fs::path(outDir) / (base + ".csv"), set.visitsCsv);
            for (auto& [qi, text] : set.repeatCsv)
                writeFile(fs::path(outDir) / (base + "." + set.survey->questions[size_t(qi)].id + ".csv"), text);
        }
        if (json) writeFile(fs::path(outDir) / (base + ".json"), set.json.dump(2) + "\n");
        std::cout << key << ": " << set.rows << " visit(s)\n";
    }
    std::cout << total << " visit(s) exported to " << outDir
              << (withPersonal ? " with personal fields" : " without personal fields") << "\n";
    if (withPersonal)
        std::cout << personalOpened << " personal part(s) opened" << (personalFailed ? ", " : "")
                  << (personalFailed ? std::to_string(personalFailed) + " did not open with this custodian key" : "")
                  << "\n";
    return personalFailed ? kRefused : kOk;
}

// --- audit, status ---

int audit(const std::vector<std::string>& args) {
    Options o = parseOptions(args, 1, {"--data", "--expect-head"}, {});
    if (helpFor(o, "usage: ck-aggregator audit verify [--expect-head HASH] --data DIR\n"
                   "Checks the hash chain of the audit log: an edited or deleted entry breaks it. Pass the head\n"
                   "hash noted earlier (status prints it) to catch entries removed from the end too.\n"))
        return kOk;
    if (o.positional.size() != 1 || o.positional[0] != "verify") throw Exit{kUsage, "audit takes `verify` (see --help)"};
    DataFolder folder = openFolder(o);
    auto storage = openFolderStorage(folder);
    // The head file must be signed by this project's key and name an entry of the chain.
    AuditHeadCheck head{folder.path / kAuditHeadFileName, publicKeys(folder).signingPublicKey};
    AuditReport report = verifyAuditChain(*storage, {}, &head);
    for (const auto& p : report.problems) std::cout << "BROKEN: " << terminalSafe(p.message) << "\n";
    for (const auto& n : report.notes) std::cout << "note: " << terminalSafe(n) << "\n";
    std::cout << report.entries << " audit entries, head " << report.headHash << "\n";
    bool ok = report.problems.empty();
    if (std::string expected = o.get("--expect-head"); !expected.empty()) {
        // Entries after the expected head are fine (the log grew), as long as it is still in the chain.
        bool found = false;
        storage->forEachAudit([&](const AuditEntry& e) {
            found = e.hash == expected;
            return !found;
        });
        if (!found) {
            std::cout << "BROKEN: the expected head " << expected
                      << " is not in the log: entries were removed from its end or the log was replaced\n";
            ok = false;
        }
    }
    std::cout << (ok ? "audit log intact\n" : "audit log BROKEN\n");
    return ok ? kOk : kRefused;
}

int status(const std::vector<std::string>& args) {
    Options o = parseOptions(args, 1, {"--data"}, {});
    if (helpFor(o, "usage: ck-aggregator status --data DIR\n")) return kOk;
    if (!o.positional.empty()) throw Exit{kUsage, "status takes no words (see --help)"};
    DataFolder folder = openFolder(o);
    PublicKeys keys = publicKeys(folder);
    auto storage = openFolderStorage(folder);
    auto rows = storage->listDevices();
    size_t active = std::count_if(rows.begin(), rows.end(), [](const DeviceRow& d) { return d.revokedAt == 0; });
    std::string head = kAuditGenesis;
    storage->forEachAudit([&](const AuditEntry& e) {
        head = e.hash;
        return true;
    });
    std::cout << "aggregator:     " << folder.name << " (" << folder.path.string() << ")\n"
              << "storage:        " << storage->describe() << "\n"
              << "devices:        " << rows.size() << " (" << active << " active)\n"
              << "visits:         " << storage->countVisits() << "\n"
              << "for review:     " << storage->countForReview() << " (ck-aggregator review lists them)\n"
              << "templates:      " << storage->listTemplates().size() << "\n"
              << "audit entries:  " << storage->countAudit() << "\n"
              << "audit head:     " << head << "\n"
              << "ingest key:     " << keyFingerprint(keys.ingestPublicKey) << "\n"
              << "template key:   " << keyFingerprint(keys.signingPublicKey) << "\n";
    return kOk;
}

// --- review ---

int review(const std::vector<std::string>& args) {
    Options o = parseOptions(args, 1, {"--data", "--limit"}, {});
    if (helpFor(o, "usage: ck-aggregator review [--limit N] --data DIR\n"
                   "Lists the visits ingest stored but held for review, newest first (at most N, default 100):\n"
                   "answers that put the unit in another size class than the register gives the assigned unit\n"
                   "(counted in the register's), and visits that name no assigned unit (found in the field).\n"
                   "Each line: received, device, record id, cluster, why.\n"))
        return kOk;
    if (!o.positional.empty()) throw Exit{kUsage, "review takes no words (see --help)"};
    size_t limit = 100;
    if (std::string l = o.get("--limit"); !l.empty()) {
        try {
            limit = size_t(std::stoull(l));
        } catch (const std::exception&) {
            throw Exit{kUsage, "--limit takes a number"};
        }
    }
    DataFolder folder = openFolder(o);
    auto storage = openFolderStorage(folder);
    uint64_t total = storage->countForReview();
    for (const StoredVisit& v : storage->visitsForReview(limit))
        std::cout << formatUtc(v.receivedAt) << "  " << terminalSafe(v.deviceId) << "  " << terminalSafe(v.recordId)
                  << "  " << terminalSafe(v.cluster) << "  " << terminalSafe(v.review) << "\n";
    std::cout << total << (total == 1 ? " visit" : " visits") << " held for review";
    if (total > limit) std::cout << " (" << limit << " shown)";
    std::cout << "\n";
    return kOk;
}

int run(const std::vector<std::string>& args) {
    if (args.empty() || args[0] == "--help" || args[0] == "-h" || args[0] == "help") {
        (args.empty() ? std::cerr : std::cout) << kUsageText;
        return args.empty() ? kUsage : kOk;
    }
    const std::string& cmd = args[0];
    if (cmd == "init") return init(args);
    if (cmd == "serve") return runServe(std::vector<std::string>(args.begin() + 1, args.end()));
    if (cmd == "enrol" || cmd == "enroll") return enrol(args);
    if (cmd == "devices") return devices(args);
    if (cmd == "templates") return templates(args);
    if (cmd == "assign") return assign(args);
    if (cmd == "comment") return comment(args);
    if (cmd == "import") return importBundleFile(args);
    if (cmd == "export") return exportData(args);
    if (cmd == "audit") return audit(args);
    if (cmd == "status") return status(args);
    if (cmd == "review") return review(args);
    if (cmd == "report") return runReport(std::vector<std::string>(args.begin() + 1, args.end()));
    if (cmd == "report-tokens") return runReportTokens(std::vector<std::string>(args.begin() + 1, args.end()));
    std::cerr << "ck-aggregator: unknown command '" << cmd << "'\n" << kUsageText;
    return kUsage;
}

}  // namespace

int main(int argc, char** argv) {
    // Everything this command creates (the storage and its -wal/-shm, tokens, exports, keys)
    // holds survey data or secrets: the operator's only, whatever the shell's umask.
    ::umask(077);
    try {
        ensureSodium();
        return run(std::vector<std::string>(argv + 1, argv + argc));
    } catch (const Exit& e) {
        std::cerr << "ck-aggregator: " << e.message << "\n";
        return e.status;
    } catch (const StorageFailure& e) {
        std::cerr << "ck-aggregator: storage: " << e.what() << "\n";
        return kUsage;
    } catch (const std::exception& e) {
        std::cerr << "ck-aggregator: " << e.what() << "\n";
        return kUsage;
    }
}
