// The aggregator's self-signed certificate: made once, read back with the same pin, readable
// by the openssl tool with the hosts in its subjectAltName, its key private to the owner.
#include <sys/stat.h>

#include <catch2/catch.hpp>

#include "tests/support/command_run.h"
#include "tests/sync/aggregator/server/live_aggregator.h"

using namespace ck;

TEST_CASE("TLS certificate: created, read back with the same pin, parsed by openssl", "[sync][tls]") {
    auto folder = test::scratchFolder("test_agg_server");
    agg::CertificateInfo made = agg::createSelfSignedCertificate(folder, {"agg.example.org", "10.0.0.5"});
    CHECK(made.publicKeyPin.rfind("sha256//", 0) == 0);
    CHECK(made.publicKeyPin.size() == 8 + 44);
    CHECK(made.fingerprint.size() == 16 * 4 + 15);

    agg::CertificateInfo read = agg::readCertificate(folder);
    CHECK(read.publicKeyPin == made.publicKeyPin);
    CHECK(read.fingerprint == made.fingerprint);
    CHECK(read.certificateFile == made.certificateFile);

    struct stat st {};
    REQUIRE(::stat(made.keyFile.c_str(), &st) == 0);
    CHECK((st.st_mode & 0777) == 0600);

    test::CommandRun text = test::runCommand("openssl x509 -noout -text -in " + test::shellQuote(made.certificateFile.string()));
    REQUIRE(text.status == 0);
    CHECK(text.out.find("DNS:localhost") != std::string::npos);
    CHECK(text.out.find("DNS:agg.example.org") != std::string::npos);
    CHECK(text.out.find("IP Address:127.0.0.1") != std::string::npos);
    CHECK(text.out.find("IP Address:10.0.0.5") != std::string::npos);
    CHECK(text.out.find("prime256v1") != std::string::npos);
    CHECK(text.out.find("Version: 3") != std::string::npos);
    // Ten years: the year of notAfter is ten on from notBefore's.
    test::CommandRun dates = test::runCommand("openssl x509 -noout -startdate -enddate -in " +
                                              test::shellQuote(made.certificateFile.string()));
    REQUIRE(dates.status == 0);
    auto yearAfter = [&](const std::string& key) {
        size_t at = dates.out.find(key);
        REQUIRE(at != std::string::npos);
        size_t eol = dates.out.find('\n', at);
        std::string line = dates.out.substr(at, eol - at);
        return std::stoi(line.substr(line.size() - 8, 4));
    };
    CHECK(yearAfter("notAfter=") - yearAfter("notBefore=") == 10);

    // The pin is what openssl computes from the same public key.
    test::CommandRun pin = test::runCommand(
        "openssl x509 -in " + test::shellQuote(made.certificateFile.string()) +
        " -pubkey -noout | openssl pkey -pubin -outform der | openssl dgst -sha256 -binary | openssl base64 -A");
    REQUIRE(pin.status == 0);
    CHECK("sha256//" + pin.out == made.publicKeyPin);
}

TEST_CASE("TLS certificate: never overwritten, and missing files are a clear error", "[sync][tls]") {
    auto folder = test::scratchFolder("test_agg_server");
    agg::CertificateInfo first = agg::createSelfSignedCertificate(folder, {});
    std::string before = test::readText(first.certificateFile);
    CHECK_THROWS_WITH(agg::createSelfSignedCertificate(folder, {}), Catch::Contains("refusing to overwrite"));
    CHECK(test::readText(first.certificateFile) == before);
    CHECK(agg::readCertificate(folder).publicKeyPin == first.publicKeyPin);

    auto empty = test::scratchFolder("test_agg_server");
    CHECK_THROWS_WITH(agg::readCertificate(empty), Catch::Contains("missing"));
    // A damaged certificate file is refused, not half-read.
    agg::createSelfSignedCertificate(empty, {});
    { std::ofstream(empty / "tls-cert.pem", std::ios::trunc) << "-----BEGIN CERTIFICATE-----\nAAAA\n"; }
    CHECK_THROWS(agg::readCertificate(empty));
}
