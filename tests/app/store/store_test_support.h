#pragma once
// Shared by the store's tests: scratch folders, the flagship template and the knitwear
// answers, and raw SQLite access for tests that play the attacker or the broken disk.
#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "app/store/store.h"

namespace ck::test {

inline constexpr const char* kPassphrase = "tiruppur-knits-2026";
inline constexpr const char* kFlagshipId = "cluster-diagnostic";

// A fresh, empty folder under CK_BINARY_DIR/test-scratch/store/.
std::filesystem::path scratchDir(const std::string& name);
std::string readText(const std::filesystem::path& path);
std::string flagshipJson();
std::string knitwearAnswersJson();

// A new store (kFastKdf) at dir/officer.ckstore with the flagship template imported.
Store makeStore(const std::filesystem::path& dir);
// A new visit filled with the knitwear answers (today 2026-11-23) and saved as a draft.
FormSession startKnitwear(Store& store);

// Raw SQLite, outside the store: what an attacker or a damaged disk does to the file.
void rawExec(const std::filesystem::path& file, const std::string& sql);
std::vector<uint8_t> rawBlob(const std::filesystem::path& file, const std::string& sql);
void rawSetBlob(const std::filesystem::path& file, const std::string& sql, const std::vector<uint8_t>& blob);

}  // namespace ck::test
