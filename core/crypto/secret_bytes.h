#pragma once
// Secret key material in libsodium's guarded memory: allocated with sodium_malloc (guard
// pages, mlock where the OS allows), wiped and freed on release, never copied implicitly.
// Move-only, like every handle in ClusterKit.
#include <cstddef>
#include <cstdint>

namespace ck {

class SecretBytes {
public:
    SecretBytes() = default;
    // `size` bytes of guarded memory, zero-filled. Throws std::bad_alloc when the OS refuses.
    explicit SecretBytes(size_t size);
    ~SecretBytes();
    SecretBytes(const SecretBytes&) = delete;
    SecretBytes& operator=(const SecretBytes&) = delete;
    SecretBytes(SecretBytes&& other) noexcept;
    SecretBytes& operator=(SecretBytes&& other) noexcept;

    uint8_t* data() { return m_data; }
    const uint8_t* data() const { return m_data; }
    size_t size() const { return m_size; }
    bool empty() const { return m_size == 0; }
    // Constant-time comparison (sodium_memcmp).
    bool equals(const SecretBytes& other) const;
    // An explicit copy in fresh guarded memory, for the rare holder that must outlive the
    // original (copying is never implicit so that a key is never duplicated by accident).
    SecretBytes clone() const;

private:
    void release() noexcept;
    uint8_t* m_data = nullptr;
    size_t m_size = 0;
};

// Calls sodium_init() once; throws std::runtime_error when libsodium cannot start (no safe
// randomness: nothing can go on).
void ensureSodium();

}  // namespace ck
