#include "core/crypto/secret_bytes.h"

#include <cstring>
#include <new>
#include <stdexcept>
#include <utility>

#include <sodium.h>

namespace ck {

void ensureSodium() {
    // A function-local static is initialised exactly once, even when threads race here;
    // sodium_init() is itself idempotent, so this only saves the repeated calls.
    static const int status = sodium_init();
    if (status < 0) throw std::runtime_error("libsodium could not be initialised (no safe random source)");
}

SecretBytes::SecretBytes(size_t size) {
    if (size == 0) return;
    // sodium_malloc needs the page size that sodium_init records.
    ensureSodium();
    void* p = sodium_malloc(size);
    if (p == nullptr) throw std::bad_alloc();
    // sodium_malloc fills with 0xdb to expose use of uninitialised memory; the contract is zeros.
    sodium_memzero(p, size);
    m_data = static_cast<uint8_t*>(p);
    m_size = size;
}

SecretBytes::~SecretBytes() { release(); }

SecretBytes::SecretBytes(SecretBytes&& other) noexcept
    : m_data(std::exchange(other.m_data, nullptr)), m_size(std::exchange(other.m_size, 0)) {}

SecretBytes& SecretBytes::operator=(SecretBytes&& other) noexcept {
    if (this != &other) {
        release();
        m_data = std::exchange(other.m_data, nullptr);
        m_size = std::exchange(other.m_size, 0);
    }
    return *this;
}

bool SecretBytes::equals(const SecretBytes& other) const {
    if (m_size != other.m_size) return false;  // sizes are not secret
    if (m_size == 0) return true;
    return sodium_memcmp(m_data, other.m_data, m_size) == 0;
}

SecretBytes SecretBytes::clone() const {
    SecretBytes copy(m_size);
    if (m_size != 0) std::memcpy(copy.m_data, m_data, m_size);
    return copy;
}

void SecretBytes::release() noexcept {
    // sodium_free wipes the region before unmapping it.
    if (m_data != nullptr) sodium_free(m_data);
    m_data = nullptr;
    m_size = 0;
}

}  // namespace ck
