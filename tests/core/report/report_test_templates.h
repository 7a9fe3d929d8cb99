#pragma once
// Templates and a fixed visit day shared by the report suites' test files.
#include <catch2/catch.hpp>

#include <memory>
#include <string>

#include "core/template/template_loader.h"

namespace ck::test {

inline const std::string kFlagship = std::string(CK_SOURCE_DIR) + "/survey-templates/cluster-diagnostic.json";
inline const ck::Date kDay = *ck::parseIsoDate("2026-11-20");

inline std::shared_ptr<const ck::Template> loadFile(const std::string& path) {
    auto r = ck::loadTemplateJsonFile(path);
    if (!r.ok()) FAIL(r.errors.front().toString());
    return r.survey;
}

}  // namespace ck::test
