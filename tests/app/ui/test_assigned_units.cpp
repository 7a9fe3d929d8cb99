// Assigned units from sync on the visits screen: listed, marked when visited, searchable,
// and "Start visit" pre-fills what the register knows where the template asks for it.
#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "tests/app/ui/ui_test_support.h"

using namespace ck;
using namespace ck::test;

namespace {

// As the aggregator sends them (a row of the cluster register, see core/register).
void putUnit(Store& store, const std::string& id, const std::string& name, const std::string& cluster,
             const std::string& district = "Tiruppur", const std::string& state = "Tamil Nadu") {
    nlohmann::json j{{"unit_id", id}, {"name", name},         {"cluster", cluster}, {"district", district},
                     {"state", state}, {"stratum", "micro"}, {"sector", "knitwear"}};
    store.putAssignment(id, j.dump());
}

const AssignedUnit* unitOf(AppModel& model, const std::string& id) {
    for (const auto& u : model.assignedUnits())
        if (u.unitId == id) return &u;
    return nullptr;
}

std::string textOf(const AppModel& model, const char* question) {
    const FormSession* s = model.session();
    REQUIRE(s);
    const Value& v = s->answer(s->survey().indexOf(question));
    return v.kind() == ValueKind::Text ? v.asText() : std::string(v.isEmpty() ? "<empty>" : "<not text>");
}

}  // namespace

TEST_CASE("assigned units are listed and marked by the visit made to them", "[ui][model][assigned]") {
    auto dir = scratchDir("assigned-list");
    FakeClock clock;
    AppModel model(makeConfig(dir, clock));
    createStore(model);
    CHECK(model.assignedUnits().empty());

    putUnit(*model.store(), "TUP-0001", "Sri Murugan Knits", "Tiruppur knitwear (Tamil Nadu)");
    putUnit(*model.store(), "TUP-0002", "Lakshmi Processors", "tiruppur_knitwear");
    putUnit(*model.store(), "TUP-0003", "Velavan Exports", "tiruppur_knitwear");
    model.store()->putAssignment("TUP-0004", "this is not json");
    // The store changed behind the model's back (as a sync does): the list refreshes with
    // the next visit change, so make one.
    REQUIRE(model.startVisit(kFlagshipId));
    // A visit made without the assignment: matched by the unit name (case and spaces aside).
    REQUIRE(model.answer("unit_name", Value::text("  lakshmi PROCESSORS ")).ok());
    model.closeVisit();
    // A visit matched by the register number although its name was typed differently.
    REQUIRE(model.startVisit(kFlagshipId));
    REQUIRE(model.answer("unit_name", Value::text("Velavan Export House")).ok());
    REQUIRE(model.answer("register_id", Value::text("tup-0003")).ok());
    std::string velavan = model.session()->recordId();
    model.closeVisit();

    const auto& units = model.assignedUnits();
    REQUIRE(units.size() == 4);
    const AssignedUnit* murugan = unitOf(model, "TUP-0001");
    REQUIRE(murugan);
    CHECK(murugan->name == "Sri Murugan Knits");
    CHECK(murugan->district == "Tiruppur");
    CHECK(murugan->state == "Tamil Nadu");
    CHECK(murugan->stratum == "micro");
    CHECK(murugan->visitId.empty());
    REQUIRE(unitOf(model, "TUP-0002"));
    CHECK_FALSE(unitOf(model, "TUP-0002")->visitId.empty());
    CHECK(unitOf(model, "TUP-0002")->visitStatus == VisitStatus::Draft);
    REQUIRE(unitOf(model, "TUP-0003"));
    CHECK(unitOf(model, "TUP-0003")->visitId == velavan);
    // A damaged assignment is listed with its problem; the others list normally.
    REQUIRE(unitOf(model, "TUP-0004"));
    CHECK_FALSE(unitOf(model, "TUP-0004")->error.empty());
    CHECK_FALSE(model.startAssignedVisit("TUP-0004"));
    CHECK_FALSE(model.error().empty());
    CHECK_FALSE(model.session());
    CHECK_FALSE(model.startAssignedVisit("NOT-ASSIGNED"));
    CHECK_FALSE(model.error().empty());
    CHECK_FALSE(model.session());
}

TEST_CASE("Start visit pre-fills only what the template asks and the value is valid for", "[ui][model][assigned]") {
    auto dir = scratchDir("assigned-start");
    FakeClock clock;
    AppModel model(makeConfig(dir, clock));
    createStore(model);
    putUnit(*model.store(), "TUP-0001", "Sri Murugan Knits", "Tiruppur knitwear (Tamil Nadu)");
    putUnit(*model.store(), "KNP-0009", "Kanpur Saddlery", "Kanpur leather", "Kanpur Nagar", "Uttar Pradesh");
    putUnit(*model.store(), "SRT-0002", "Surat Looms", "surat_textiles", "Surat", "Gujarat");

    REQUIRE(model.startAssignedVisit("TUP-0001"));
    CHECK(model.error().empty());
    REQUIRE(model.session());
    CHECK(model.screen() == Screen::Form);
    CHECK(model.session()->survey().id == kFlagshipId);
    CHECK(textOf(model, "unit_name") == "Sri Murugan Knits");
    CHECK(textOf(model, "register_id") == "TUP-0001");
    CHECK(textOf(model, "cluster") == "tiruppur_knitwear");  // found by its label
    CHECK(textOf(model, "visit_date") == "<empty>");        // the register does not know it
    std::string first = model.session()->recordId();
    model.closeVisit();
    // Started and closed with no answer of the officer's (a tap by mistake): nothing stored,
    // the unit is still to visit.
    CHECK_FALSE(model.store()->loadVisit(first).ok());
    CHECK(unitOf(model, "TUP-0001")->visitId.empty());
    REQUIRE(model.startAssignedVisit("TUP-0001"));
    first = model.session()->recordId();
    REQUIRE(model.answer("officer_id", Value::text("TUP-07")).ok());
    model.closeVisit();
    // Stored with the first answer, pre-filled answers too, and now the unit is marked as visited.
    auto stored = model.store()->loadVisit(first);
    REQUIRE(stored.ok());
    REQUIRE(stored.value().find("unit_name"));
    CHECK(unitOf(model, "TUP-0001")->visitId == first);

    // A cluster the template does not list is left for the officer; the visit still starts.
    REQUIRE(model.startAssignedVisit("KNP-0009"));
    CHECK(model.error().empty());
    CHECK(textOf(model, "unit_name") == "Kanpur Saddlery");
    CHECK(textOf(model, "cluster") == "<empty>");
    model.closeVisit();

    REQUIRE(model.startAssignedVisit("SRT-0002"));
    CHECK(textOf(model, "cluster") == "surat_textiles");  // found by its name
    model.closeVisit();
}

TEST_CASE("a visit started from an assigned unit carries its assignment token, through drafts to the finished record",
          "[ui][model][assigned]") {
    auto dir = scratchDir("assigned-token");
    FakeClock clock;
    AppModel model(makeConfig(dir, clock));
    createStore(model);
    nlohmann::json j{{"unit_id", "TUP-0001"}, {"name", "Sri Murugan Knits"}, {"cluster", "tiruppur_knitwear"},
                     {"district", "Tiruppur"}, {"state", "Tamil Nadu"}, {"stratum", "micro"},
                     {"sector", "knitwear"}, {"assignment_token", "A1.token-the-aggregator-made"}};
    model.store()->putAssignment("TUP-0001", j.dump());
    putUnit(*model.store(), "TUP-0002", "Lakshmi Processors", "tiruppur_knitwear");  // an older aggregator: no token
    REQUIRE(model.startVisit(kFlagshipId));
    model.closeVisit();
    REQUIRE(unitOf(model, "TUP-0001"));
    CHECK(unitOf(model, "TUP-0001")->assignmentToken == "A1.token-the-aggregator-made");

    REQUIRE(model.startAssignedVisit("TUP-0001"));
    CHECK(model.session()->assignment() == "A1.token-the-aggregator-made");
    std::string id = model.session()->recordId();
    // The officer changes the unit name: the visit still belongs to the unit by its token.
    REQUIRE(model.answer("unit_name", Value::text("Murugan Knit Works")).ok());
    REQUIRE(model.answer("register_id", Value()).ok());
    model.closeVisit();
    auto draft = model.store()->loadVisit(id);
    REQUIRE(draft.ok());
    CHECK(draft.value().assignment == "A1.token-the-aggregator-made");
    CHECK(unitOf(model, "TUP-0001")->visitId == id);
    // Resumed from the store, the token is still there.
    REQUIRE(model.resumeVisit(id));
    CHECK(model.session()->assignment() == "A1.token-the-aggregator-made");
    model.closeVisit();

    REQUIRE(model.startAssignedVisit("TUP-0002"));
    CHECK(model.session()->assignment().empty());
    model.closeVisit();
    // A visit started freely carries none.
    REQUIRE(model.startVisit(kFlagshipId));
    CHECK(model.session()->assignment().empty());
    model.closeVisit();
}

TEST_CASE("visits screen: assigned units listed, searched, started and then resumed", "[ui][view][assigned]") {
    auto dir = scratchDir("view-assigned");
    FakeClock clock;
    HeadlessImGui gui;
    FieldApp app(makeConfig(dir, clock));
    AppModel& model = app.model();
    createStore(model);
    putUnit(*model.store(), "TUP-0001", "Sri Murugan Knits", "tiruppur_knitwear");
    putUnit(*model.store(), "TUP-0002", "Lakshmi Processors", "tiruppur_knitwear");
    model.show(Screen::Sync);  // the sync screen and back: as after a sync
    model.show(Screen::Visits);
    REQUIRE(model.startVisit(kFlagshipId));  // an unrelated visit refreshes the lists
    model.closeVisit();
    gui.frames(app, 2);
    REQUIRE(app.itemRect("assigned_header"));
    CHECK(app.itemRect("start_unit_TUP-0001"));
    CHECK(app.itemRect("start_unit_TUP-0002"));

    gui.clickItem(app, "search");
    gui.type(app, "lakshmi");
    gui.frame(app);
    CHECK_FALSE(app.itemRect("start_unit_TUP-0001"));
    REQUIRE(app.itemRect("start_unit_TUP-0002"));
    gui.clickItem(app, "start_unit_TUP-0002");
    REQUIRE(model.session());
    CHECK(model.screen() == Screen::Form);
    CHECK(textOf(model, "unit_name") == "Lakshmi Processors");
    std::string id = model.session()->recordId();
    REQUIRE(model.answer("officer_id", Value::text("TUP-07")).ok());  // the first answer stores the visit
    gui.clickItem(app, "close_visit");
    REQUIRE(model.screen() == Screen::Visits);
    gui.frame(app);
    // Visited now: no second start, a resume of its draft instead.
    CHECK_FALSE(app.itemRect("start_unit_TUP-0002"));
    REQUIRE(app.itemRect("resume_unit_TUP-0002"));
    gui.clickItem(app, "resume_unit_TUP-0002");
    REQUIRE(model.session());
    CHECK(model.session()->recordId() == id);
}
