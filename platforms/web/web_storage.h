#pragma once
// The officer's folder in a browser tab: /data in memory, copied to IndexedDB after each
// change by web_storage_pre.js (which says how and why). This is its C++ side: the app's
// StoreDurability ("saved" only once the copy holding the commit has completed), the storage
// status the screens show, and the test-only key derivation switch. Main thread only.
#include <cstdint>
#include <string>

#include "app/ui/store_durability.h"

namespace ck::web {

class WebStorage final : public StoreDurability {
public:
    uint64_t requestDurable() override;
    uint64_t durableTicket() const override;
    std::string failure() const override;

    // After each frame: copies what the frame (or a task it applied) changed in /data.
    void flushIfChanged();
    // Once the store is open in this page: asks the browser to keep the site's data when the
    // store was made in this page (the first run), otherwise only looks; then estimates.
    void checkPersistence(bool ask);
    void estimate();
    StorageStatus status() const;
    // Why the stored data could not be read at start ("" when it was): then nothing is copied,
    // so a new store made now cannot overwrite what the browser still holds.
    std::string loadError() const;
};

// `?ck-test-kdf` in the page's address on a loopback host (127.0.0.1, localhost): automated
// tests only, as the desktop's --test-kdf. Never on any other host.
bool testKdfRequested();

}  // namespace ck::web
