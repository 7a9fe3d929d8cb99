#pragma once
// Internal to core/crypto: the little-endian, length-prefixed byte layout shared by the vault
// record and the envelope encodings. The reader never trusts a length: every read is checked
// against what is left, so hostile bytes end in a failed read, never a crash or a huge
// allocation (nothing is allocated beyond the input's own size).
#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

namespace ck::wire {

// The layout, written to wherever `Out::raw` puts bytes: a buffer (Writer), a hash's state
// (a batch's digest hashes its envelopes' fields where they are), or a count (a buffer's size
// worked out before it is written).
template <typename Out>
class LayoutWriter {
public:
    void u8(uint8_t v) { out().raw(&v, 1); }
    void u32(uint32_t v) {
        uint8_t b[4];
        for (int i = 0; i < 4; ++i) b[i] = static_cast<uint8_t>(v >> (8 * i));
        out().raw(b, sizeof b);
    }
    void u64(uint64_t v) {
        uint8_t b[8];
        for (int i = 0; i < 8; ++i) b[i] = static_cast<uint8_t>(v >> (8 * i));
        out().raw(b, sizeof b);
    }
    // u32 length, then the bytes.
    void bytes(const uint8_t* data, size_t size) {
        u32(static_cast<uint32_t>(size));
        out().raw(data, size);
    }
    void bytes(const std::vector<uint8_t>& v) { bytes(v.data(), v.size()); }
    void text(const std::string& s) { bytes(reinterpret_cast<const uint8_t*>(s.data()), s.size()); }

private:
    Out& out() { return static_cast<Out&>(*this); }
};

class Writer : public LayoutWriter<Writer> {
public:
    // `expectedBytes`: room made at once, for a writer that knows how much it will write (an
    // envelope is a few KB: growing to that on the way cost more than writing it).
    explicit Writer(size_t expectedBytes = 0) { m_out.reserve(expectedBytes); }
    void raw(const void* data, size_t size) {
        const auto* p = static_cast<const uint8_t*>(data);
        m_out.insert(m_out.end(), p, p + size);
    }
    std::vector<uint8_t>& out() { return m_out; }

private:
    std::vector<uint8_t> m_out;
};

// Counts what a Writer would hold, writing nothing.
class SizeCounter : public LayoutWriter<SizeCounter> {
public:
    void raw(const void*, size_t size) { m_size += size; }
    size_t size() const { return m_size; }

private:
    size_t m_size = 0;
};

// Each read returns false (and leaves the output alone) when the input has too few bytes
// or a length is above `maxSize`; after one failure the reader stays failed.
class Reader {
public:
    Reader(const uint8_t* data, size_t size) : m_data(data), m_size(size) {}

    bool raw(void* out, size_t size) {
        if (!take(size)) return false;
        std::memcpy(out, m_data + m_pos - size, size);
        return true;
    }
    bool u8(uint8_t& v) { return raw(&v, 1); }
    bool u32(uint32_t& v) {
        uint8_t b[4];
        if (!raw(b, 4)) return false;
        v = 0;
        for (int i = 3; i >= 0; --i) v = (v << 8) | b[i];
        return true;
    }
    bool u64(uint64_t& v) {
        uint8_t b[8];
        if (!raw(b, 8)) return false;
        v = 0;
        for (int i = 7; i >= 0; --i) v = (v << 8) | b[i];
        return true;
    }
    bool bytes(std::vector<uint8_t>& v, size_t maxSize) {
        uint32_t n = 0;
        if (!u32(n)) return false;
        if (n > maxSize || n > remaining()) return fail();
        v.assign(m_data + m_pos, m_data + m_pos + n);
        m_pos += n;
        return true;
    }
    bool text(std::string& s, size_t maxSize) {
        uint32_t n = 0;
        if (!u32(n)) return false;
        if (n > maxSize || n > remaining()) return fail();
        s.assign(reinterpret_cast<const char*>(m_data + m_pos), n);
        m_pos += n;
        return true;
    }
    size_t remaining() const { return m_failed ? 0 : m_size - m_pos; }
    size_t position() const { return m_pos; }
    bool ok() const { return !m_failed; }

private:
    bool take(size_t n) {
        if (m_failed || n > m_size - m_pos) return fail();
        m_pos += n;
        return true;
    }
    bool fail() {
        m_failed = true;
        return false;
    }
    const uint8_t* m_data;
    size_t m_size;
    size_t m_pos = 0;
    bool m_failed = false;
};

}  // namespace ck::wire
