// The cluster register as programmes keep it: a spreadsheet saved as CSV. What a good one
// reads as, and every way a bad one is named row by row.
#include <catch2/catch.hpp>

#include "core/register/cluster_register.h"

using namespace ck;

TEST_CASE("a register written and read back is the same", "[core][register]") {
    std::vector<RegisterUnit> units{
        {"TN-001-0001", "Lakshmi Knit Fashions", "tiruppur_knitwear", "Tiruppur", "Tamil Nadu", "micro", "knitwear"},
        {"TN-001-0002", "Sri \"Balaji\" Knits, Pvt Ltd", "tiruppur_knitwear", "Tiruppur", "Tamil Nadu", "small", ""},
    };
    std::string csv = clusterRegisterCsv(units);
    CHECK(csv.rfind("unit_id,name,cluster,district,state,stratum,sector\n", 0) == 0);
    auto parsed = parseClusterRegister(csv, "register.csv");
    INFO((parsed.problems.empty() ? "" : parsed.problems.front()));
    REQUIRE(parsed.ok());
    CHECK(parsed.units == units);
}

TEST_CASE("a spreadsheet's CSV reads: any column order, BOM, CRLF, blank lines, spaces", "[core][register]") {
    std::string csv = "\xEF\xBB\xBF" "state,unit_id,name,cluster,district,stratum\r\n"
                      "Gujarat, GJ-7 ,Vapi Chem Works,vapi_chemicals,Valsad,small\r\n"
                      ",,,,,\r\n"
                      "\r\n"
                      "Gujarat,GJ-8,\"Patel Dyes, Unit 2\",vapi_chemicals,Valsad,micro\r\n";
    auto parsed = parseClusterRegister(csv, "r.csv");
    REQUIRE(parsed.ok());
    REQUIRE(parsed.units.size() == 2);
    CHECK(parsed.units[0].unitId == "GJ-7");
    CHECK(parsed.units[0].state == "Gujarat");
    CHECK(parsed.units[1].name == "Patel Dyes, Unit 2");
    CHECK(parsed.units[1].sector.empty());
}

TEST_CASE("every bad row is named with its line, a bad header stops at once", "[core][register]") {
    std::string csv = "unit_id,name,cluster,district,state,stratum\n"
                      "A1,One,c,d,s,micro\n"
                      "A1,Again,c,d,s,micro\n"         // 3: duplicate id
                      "A2,Two,c,d,s\n"                 // 4: too few fields
                      "A3,,c,d,s,micro\n"              // 5: empty name
                      "../x,Bad,c,d,s,micro\n"         // 6: id with a slash
                      "A4,\"Open quote,c,d,s,micro\n"  // 7: unclosed quote
                      "A5,Five,c,d,s,small\n";
    auto parsed = parseClusterRegister(csv, "r.csv");
    REQUIRE(parsed.problems.size() == 5);
    CHECK(parsed.problems[0] == "r.csv:3: unit_id 'A1' appears already on line 2");
    CHECK(parsed.problems[1] == "r.csv:4: has 5 fields, the header 6");
    CHECK(parsed.problems[2] == "r.csv:5: empty name");
    CHECK_THAT(parsed.problems[3], Catch::StartsWith("r.csv:6: unit_id '../x' must be"));
    CHECK(parsed.problems[4] == "r.csv:7: a quoted field is not closed");
    CHECK(parsed.units.size() == 2);  // the good rows, for a caller that wants to show them

    auto header = parseClusterRegister("unit_id,name,cluster,state\nA,B,C,D\n", "h.csv");
    REQUIRE(header.problems.size() == 1);
    CHECK(header.problems[0] == "h.csv:1: the header lacks district, stratum "
                                "(expected unit_id,name,cluster,district,state,stratum[,sector])");
    CHECK(parseClusterRegister("", "e.csv").problems == std::vector<std::string>{"e.csv: the file is empty (expected a header line, then units)"});
    CHECK(parseClusterRegister("unit_id,name,cluster,district,state,stratum\n", "n.csv").problems ==
          std::vector<std::string>{"n.csv: no units below the header"});
}
