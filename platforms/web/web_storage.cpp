#include "platforms/web/web_storage.h"

#include <array>

#include <emscripten.h>

namespace ck::web {

namespace {

// CKStore's failure (which 0) or load error (which 1) as text, cut at 511 bytes.
std::string storeText(int which) {
    std::array<char, 512> text{};
    EM_ASM({ stringToUTF8(String(($0 ? CKStore.loadError : CKStore.failure) || ""), $1, $2); }, which, text.data(),
           int(text.size()));
    return std::string(text.data());
}

}  // namespace

uint64_t WebStorage::requestDurable() { return uint64_t(EM_ASM_DOUBLE({ return CKStore.request(); })); }

uint64_t WebStorage::durableTicket() const { return uint64_t(EM_ASM_DOUBLE({ return CKStore.durable; })); }

std::string WebStorage::failure() const { return storeText(0); }

void WebStorage::flushIfChanged() { EM_ASM({ CKStore.flushIfChanged(); }); }

void WebStorage::checkPersistence(bool ask) { EM_ASM({ CKStore.checkPersistence($0 != 0); }, ask ? 1 : 0); }

void WebStorage::estimate() { EM_ASM({ CKStore.estimate(); }); }

StorageStatus WebStorage::status() const {
    StorageStatus s;
    const int persisted = EM_ASM_INT({ return CKStore.persisted === null ? -1 : (CKStore.persisted ? 1 : 0); });
    if (persisted >= 0) s.persistent = persisted == 1;
    s.usageBytes = int64_t(EM_ASM_DOUBLE({ return CKStore.usage; }));
    s.quotaBytes = int64_t(EM_ASM_DOUBLE({ return CKStore.quota; }));
    return s;
}

std::string WebStorage::loadError() const { return storeText(1); }

bool testKdfRequested() {
    return EM_ASM_INT({
        var host = location.hostname;
        return new URLSearchParams(location.search).has("ck-test-kdf") && (host === "127.0.0.1" || host === "localhost");
    });
}

}  // namespace ck::web
