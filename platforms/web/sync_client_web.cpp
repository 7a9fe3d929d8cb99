// sync::SyncClient in the browser, for now: every request ends at once with "Unreachable" and
// a sentence saying why, so the sync and enrolment screens report it as they report a device
// without network, and nothing is marked sent. The browser has no libcurl and no raw sockets;
// the next step (issue 14) is this same class over fetch() to an aggregator that serves CORS.
// Linked in place of sync/client/sync_client.cpp by the web build (platforms/web/CMakeLists.txt).
#include "sync/client/sync_client.h"

#include <atomic>
#include <mutex>

namespace ck::sync {

namespace {

SyncError notYet() {
    SyncError e;
    e.kind = SyncErrorKind::Unreachable;
    e.message =
        "Sync over the network is not available in the browser version yet. Your visits stay saved "
        "on this device; sync them from the desktop app.";
    return e;
}

}  // namespace

struct SyncClient::Impl {
    ServerAddress server;
    RetryPolicy retry;
    std::mutex progressMutex;
    ProgressFn progress;
};

SyncClient::SyncClient(ServerAddress server, RetryPolicy retry) : m_impl(std::make_unique<Impl>()) {
    m_impl->server = std::move(server);
    m_impl->retry = retry;
}

SyncClient::~SyncClient() = default;

SyncResult<std::string> SyncClient::fetchPublicKeyPin() { return notYet(); }

SyncResult<proto::EnrolReply> SyncClient::enrol(const std::string&, const std::vector<uint8_t>&, const std::string&,
                                                const proto::Signer&) {
    return notYet();
}

SyncResult<std::vector<UploadOutcome>> SyncClient::upload(const std::vector<SealedEnvelope>&,
                                                          const std::vector<uint8_t>&, const proto::Signer&, size_t,
                                                          std::vector<UploadOutcome>*) {
    return notYet();
}

SyncResult<proto::Updates> SyncClient::fetchUpdates(uint64_t, const std::vector<uint8_t>&, const proto::Signer&) {
    return notYet();
}

SyncResult<proto::Ok> SyncClient::uploadAttachment(const std::string&, const std::string&, const std::string&,
                                                   const std::vector<uint8_t>&, const std::vector<uint8_t>&,
                                                   const proto::Signer&) {
    return notYet();
}

void SyncClient::setProgress(ProgressFn fn) {
    std::lock_guard lock(m_impl->progressMutex);
    m_impl->progress = std::move(fn);
}

void SyncClient::cancel() {}

// Nothing ever leaves the browser through this client.
uint64_t SyncClient::bytesSent() const { return 0; }
uint64_t SyncClient::bytesReceived() const { return 0; }
uint64_t SyncClient::requestsDelivered() const { return 0; }

}  // namespace ck::sync
