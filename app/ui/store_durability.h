#pragma once
// Where the platform keeps the officer's store, and when a commit is safe there.
//
// On desktop a commit is on the disk when SQLite returns (WAL, synchronous=FULL): the app is
// given no StoreDurability and shows "saved" at once. In a browser the store's files live in
// the page's memory and are copied to the browser's storage (IndexedDB) afterwards: the app
// asks for that copy right after each autosave and shows "saved" only once the copy that holds
// the commit has completed (platforms/web/web_storage.cpp). Until then the form says "saving".
#include <cstdint>
#include <optional>
#include <string>

namespace ck {

class StoreDurability {
public:
    virtual ~StoreDurability() = default;
    // Called on the UI thread right after a commit: a ticket that is durable once
    // durableTicket() reaches it. Every commit made before the call is in that copy.
    virtual uint64_t requestDurable() = 0;
    // The newest ticket whose copy has completed (read on the UI thread, at each frame).
    virtual uint64_t durableTicket() const = 0;
    // Why the last copy failed, in the browser's words ("" when it did not); a later request
    // tries again.
    virtual std::string failure() const = 0;
};

// What the platform knows about its storage, for the officer (visits and settings screens).
struct StorageStatus {
    // The browser promised not to clear the store on its own (navigator.storage.persist()).
    // nullopt: not known yet, or a platform where the question does not arise (desktop).
    std::optional<bool> persistent;
    // The browser's estimate of what the site uses and may use, in bytes (-1: unknown).
    int64_t usageBytes = -1, quotaBytes = -1;
};

}  // namespace ck
