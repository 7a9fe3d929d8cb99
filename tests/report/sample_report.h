#pragma once
// A hand-built baseline report with every kind of cell, flag and chart the formats must
// draw, so the renderers are tested apart from the statistics. Figures are made up but
// consistent (intervals around their values).
#include "core/report/baseline_report.h"

namespace ck::test {

inline report::Estimate sampleEstimate(double value, double se, uint64_t n,
                                       report::Precision p = report::Precision::Publish,
                                       report::Suppression s = report::Suppression::None) {
    report::Estimate e;
    e.observations = n;
    e.weightedUnits = double(n) * 3.5;
    e.weighted = true;
    e.precision = p;
    e.suppression = s;
    if (s == report::Suppression::None) {
        e.value = value;
        e.se = se;
        e.low = value - report::kZ95 * se;
        e.high = value + report::kZ95 * se;
        e.cv = se / value;
    }
    return e;
}

inline report::BaselineReport sampleReport() {
    using namespace report;
    BaselineReport r;
    r.title = "Tiruppur knitwear (tiruppur_knitwear): cluster baseline";
    r.scope = {ScopeLevel::Cluster, "tiruppur_knitwear"};
    r.scopeLabel = "Cluster tiruppur_knitwear, Tiruppur district, Tamil Nadu";
    r.templateId = "cluster-diagnostic";
    r.templateVersion = "2026.1";
    r.builtAt = 1795000000;
    r.inputsHash = "3f9a0c51d2e4b6a8c0e2f4a6b8d0c2e4f6a8b0d2c4e6f8a0b2d4c6e8f0a2b4c6";
    r.weighted = true;
    r.visits = 212;
    r.responded = 188;
    r.methodNotes = {"Weights: units per size class in the cluster register divided by units interviewed.",
                     "Intervals are 95% intervals; <b>ratios</b> by linearisation & medians by Woodruff's method."};

    Section glance{"glance", "1. The cluster at a glance", {"188 of 212 units visited answered (88.7%)."}, {}};
    Table units{"glance_units", "Units surveyed and the register", "Counts, not weighted.", {"Units"}, {}, {}};
    units.rows.push_back({"register", "Units in the register", {Cell::ofNumber(1240, "units")}, false});
    units.rows.push_back({"visited", "Units visited", {Cell::ofNumber(212, "units")}, false});
    units.rows.push_back({"responded", "Units interviewed", {Cell::ofNumber(188, "units")}, true});
    glance.tables.push_back(units);
    Table sizes{"glance_size", "Size classes", "Share of firms, weighted.", {"Share"}, {}, {}};
    sizes.rows.push_back({"micro", "Micro (सूक्ष्म)", {Cell::ofEstimate(sampleEstimate(78.4, 2.9, 150), "%")}, false});
    sizes.rows.push_back({"small", "Small", {Cell::ofEstimate(sampleEstimate(18.1, 2.6, 31, Precision::Publish), "%")}, false});
    sizes.rows.push_back({"medium", "Medium", {Cell::ofEstimate(sampleEstimate(3.5, 1.3, 7, Precision::Suppress, Suppression::TooFewObservations), "%")}, false});
    sizes.chart = {ChartSpec::Kind::Bars, {0}, "% of firms"};
    glance.tables.push_back(sizes);
    r.sections.push_back(glance);

    Section outcomes{"outcomes", "2. Outcomes: exports, jobs, productivity", {"Women hold 41.2% of full-time jobs."}, {}};
    Table out{"outcomes", "Outcomes", "", {"Estimate"}, {}, {}};
    out.rows.push_back({"exporter_share", "Exporter share", {Cell::ofEstimate(sampleEstimate(36.2, 3.4, 188), "%")}, false});
    out.rows.push_back({"women_share_jobs", "Women's share of full-time jobs", {Cell::ofEstimate(sampleEstimate(41.2, 5.1, 180, Precision::Caution), "%")}, false});
    out.rows.push_back({"gva_per_worker", "Gross value added per worker", {Cell::ofEstimate(sampleEstimate(412345.0, 30000.0, 170), "INR per worker")}, false});
    out.rows.push_back({"coinvest_total", "Co-investment offered", {Cell::ofEstimate(sampleEstimate(0, 0, 12, Precision::Publish, Suppression::Dominance), "INR")}, false});
    out.rows.push_back({"employment_growth", "Employment growth", {Cell::ofEstimate(sampleEstimate(-2.5, 0.6, 120), "% per year")}, false});
    outcomes.tables.push_back(out);
    r.sections.push_back(outcomes);

    Section constraints{"constraints", "4. Binding constraints", {"Electricity is the obstacle most often rated major (52.0%)."}, {}};
    Table obs{"constraints_ranked", "Obstacles rated major or very severe", "Ranked by share, 95% intervals.", {"Share"}, {}, {}};
    obs.rows.push_back({"obs_electricity_major", "Electricity", {Cell::ofEstimate(sampleEstimate(52.0, 3.6, 188), "%")}, false});
    obs.rows.push_back({"obs_finance_major", "Access to finance", {Cell::ofEstimate(sampleEstimate(33.3, 3.4, 188), "%")}, false});
    obs.rows.push_back({"obs_tax_major", "Tax rates", {Cell::ofEstimate(sampleEstimate(4.0, 1.9, 188, Precision::Suppress, Suppression::Imprecise), "%")}, false});
    obs.chart = {ChartSpec::Kind::BarsWithIntervals, {0}, "% of firms"};
    constraints.tables.push_back(obs);
    r.sections.push_back(constraints);

    Section convergence{"convergence", "5. Convergence: schemes and co-investment", {}, {}};
    Table schemes{"schemes", "Scheme awareness and receipt", "", {"Aware", "Received"}, {}, {}};
    schemes.rows.push_back({"zed", "ZED certification", {Cell::ofEstimate(sampleEstimate(61.0, 3.5, 188), "%"), Cell::ofEstimate(sampleEstimate(9.5, 2.1, 188, Precision::Caution), "%")}, false});
    schemes.rows.push_back({"cgtmse", "CGTMSE", {Cell::ofEstimate(sampleEstimate(48.0, 3.6, 188), "%"), Cell::ofEstimate(sampleEstimate(14.2, 2.5, 188), "%")}, false});
    schemes.chart = {ChartSpec::Kind::PairedBars, {0, 1}, "% of firms"};
    convergence.tables.push_back(schemes);
    r.sections.push_back(convergence);

    Section comparison{"comparison", "6. Comparison", {}, {}};
    Table cmp{"comparison", "This cluster, its state and its sector", "", {"This cluster", "Tamil Nadu", "Knitwear (India)"}, {}, {}};
    cmp.rows.push_back({"exporter_share", "Exporter share", {Cell::ofEstimate(sampleEstimate(36.2, 3.4, 188), "%"), Cell::ofEstimate(sampleEstimate(30.1, 1.2, 900), "%"), Cell::ofEstimate(sampleEstimate(28.0, 0.9, 2100), "%")}, false});
    Cell hidden = Cell::ofNumber(0, "INR");
    hidden.suppression = Suppression::Secondary;
    cmp.rows.push_back({"gva_total", "Gross value added <total>", {Cell::ofNumber(5.4e9, "INR"), hidden, Cell::ofText("n/a")}, true});
    comparison.tables.push_back(cmp);
    r.sections.push_back(comparison);

    Section quality{"data_quality", "7. Data quality", {}, {}};
    Table officers{"officers", "Visits per officer", "", {"Visits"}, {}, {}};
    officers.rows.push_back({"OFF-07", "OFF-07", {Cell::ofNumber(120, "visits")}, false});
    officers.rows.push_back({"OFF-11", "OFF-11", {Cell::ofNumber(92, "visits")}, false});
    quality.tables.push_back(officers);
    r.sections.push_back(quality);
    return r;
}

}  // namespace ck::test
