#pragma once
// The sample bilingual XLSForm (English + Hindi) and the JSON template it must import as.
// The same workbook is checked in as tests/data/xlsform/sample-bilingual.xlsx for survey
// authors (regenerate with: test_xlsform "[.generate]").
#include <nlohmann/json.hpp>

#include "xlsx_fixture.h"

namespace ck::test {

inline std::vector<Sheet> bilingualForm() {
    Sheet survey{"survey",
                 {
                     {"type", "name", "label::English (en)", "label::Hindi (hi)", "hint::English (en)",
                      "hint::Hindi (hi)", "required", "relevant", "constraint", "constraint_message::English (en)",
                      "constraint_message::Hindi (hi)", "calculation", "choice_filter", "appearance", "pii",
                      "allow_dont_know"},
                     {"select_one yes_no", "consent", "Does the unit agree to the interview?",
                      "क्या इकाई साक्षात्कार के लिए सहमत है?", {}, {}, "yes", {}, {}, {}, {}, {}, {}, {}, {}, "no"},
                     {"text", "unit_name", "Name of the unit", "इकाई का नाम", {}, {}, "yes", "${consent} = 'yes'", {},
                      {}, {}, {}, {}, {}, "yes"},
                     {"begin group", "workforce", "Workforce", "कार्यबल", {}, {}, {}, "${consent} = 'yes'", {}, {}, {},
                      {}, {}, "field-list"},
                     {"integer", "workers", "Full-time workers", "पूर्णकालिक कामगार", "On the rolls today",
                      "आज रजिस्टर में", "yes", {}, ". >= 0 and . <= 100000", "Between 0 and 100,000",
                      "0 से 100,000 के बीच"},
                     {"integer", "women", "Women among them", "उनमें महिलाएँ", {}, {}, "${workers} > 0", {},
                      ". <= ${workers}", "Cannot exceed the workers", "कामगारों से अधिक नहीं हो सकता"},
                     {"calculate", "women_share", {}, {}, {}, {}, {}, {}, {}, {}, {},
                      "if(${workers} > 0, ${women} * 100 div ${workers}, 0)"},
                     {"end group"},
                     {"begin group", "products", "Products", "उत्पाद"},
                     {"select_multiple segment", "segments", "Segments the unit works in", "इकाई के खंड", {}, {},
                      "yes"},
                     {"begin repeat", "product_lines", "Product lines", "उत्पाद लाइनें"},
                     {"select_one segment", "product", "Product", "उत्पाद", {}, {}, "yes", {}, {}, {}, {}, {},
                      "selected(${segments}, name)"},
                     {"money", "line_sales", "Sales last year (INR)", "पिछले वर्ष की बिक्री (रुपये)", {}, {}, {}, {},
                      ". >= 0", "Not negative", "ऋणात्मक नहीं"},
                     {"end repeat"},
                     {"scale severity", "finance_obstacle", "How severe is access to finance?",
                      "वित्त तक पहुँच कितनी गंभीर बाधा है?"},
                     {"end group"},
                     {"geopoint", "location", "Location of the unit", "इकाई का स्थान", {}, {}, {}, {}, {}, {}, {}, {},
                      {}, {}, "yes"},
                     {"note", "thanks", "Thank the respondent", "उत्तरदाता को धन्यवाद दें"},
                 }};
    Sheet choices{"choices",
                  {
                      {"list_name", "name", "label::English (en)", "label::Hindi (hi)", "stage"},
                      {"yes_no", "yes", "Yes", "हाँ"},
                      {"yes_no", "no", "No", "नहीं"},
                      {"segment", "knitting", "Knitting", "बुनाई", "upstream"},
                      {"segment", "garmenting", "Garmenting", "परिधान निर्माण", "midstream"},
                      {"severity", 0, "No obstacle", "कोई बाधा नहीं"},
                      {"severity", 1, "Minor", "मामूली"},
                      {"severity", 2, "Severe", "गंभीर"},
                  }};
    Sheet settings{"settings",
                   {
                       {"form_title", "form_title::Hindi (hi)", "form_id", "version", "default_language"},
                       {"Cluster diagnostic (sample)", "क्लस्टर नैदानिक (नमूना)", "cluster-sample", 2026.1,
                        "English (en)"},
                   }};
    return {survey, choices, settings};
}

inline nlohmann::json bilingualFormJson() {
    return nlohmann::json::parse(R"json({
  "id": "cluster-sample",
  "version": "2026.1",
  "languages": ["en", "hi"],
  "title": {"en": "Cluster diagnostic (sample)", "hi": "क्लस्टर नैदानिक (नमूना)"},
  "choices": {
    "yes_no": [
      {"name": "yes", "label": {"en": "Yes", "hi": "हाँ"}},
      {"name": "no", "label": {"en": "No", "hi": "नहीं"}}
    ],
    "segment": [
      {"name": "knitting", "label": {"en": "Knitting", "hi": "बुनाई"}, "properties": {"stage": "upstream"}},
      {"name": "garmenting", "label": {"en": "Garmenting", "hi": "परिधान निर्माण"}, "properties": {"stage": "midstream"}}
    ],
    "severity": [
      {"name": "0", "label": {"en": "No obstacle", "hi": "कोई बाधा नहीं"}},
      {"name": "1", "label": {"en": "Minor", "hi": "मामूली"}},
      {"name": "2", "label": {"en": "Severe", "hi": "गंभीर"}}
    ]
  },
  "sections": [
    {"id": "main", "label": {"en": "Cluster diagnostic (sample)", "hi": "क्लस्टर नैदानिक (नमूना)"},
     "questions": [
       {"id": "consent", "type": "select_one", "choices": "yes_no",
        "label": {"en": "Does the unit agree to the interview?", "hi": "क्या इकाई साक्षात्कार के लिए सहमत है?"},
        "required": true, "allow_dont_know": false},
       {"id": "unit_name", "type": "text", "label": {"en": "Name of the unit", "hi": "इकाई का नाम"},
        "required": true, "relevant": "${consent} = 'yes'", "pii": true}
     ]},
    {"id": "workforce", "label": {"en": "Workforce", "hi": "कार्यबल"}, "relevant": "${consent} = 'yes'",
     "appearance": "field-list",
     "questions": [
       {"id": "workers", "type": "integer", "label": {"en": "Full-time workers", "hi": "पूर्णकालिक कामगार"},
        "hint": {"en": "On the rolls today", "hi": "आज रजिस्टर में"}, "required": true,
        "constraint": ". >= 0 and . <= 100000",
        "constraint_message": {"en": "Between 0 and 100,000", "hi": "0 से 100,000 के बीच"}},
       {"id": "women", "type": "integer", "label": {"en": "Women among them", "hi": "उनमें महिलाएँ"},
        "required": "${workers} > 0", "constraint": ". <= ${workers}",
        "constraint_message": {"en": "Cannot exceed the workers", "hi": "कामगारों से अधिक नहीं हो सकता"}},
       {"id": "women_share", "type": "calculate",
        "calculation": "if(${workers} > 0, ${women} * 100 div ${workers}, 0)"}
     ]},
    {"id": "products", "label": {"en": "Products", "hi": "उत्पाद"},
     "questions": [
       {"id": "segments", "type": "select_multiple", "choices": "segment",
        "label": {"en": "Segments the unit works in", "hi": "इकाई के खंड"}, "required": true},
       {"id": "product_lines", "type": "repeat", "label": {"en": "Product lines", "hi": "उत्पाद लाइनें"},
        "questions": [
          {"id": "product", "type": "select_one", "choices": "segment", "label": {"en": "Product", "hi": "उत्पाद"},
           "required": true, "choice_filter": "selected(${segments}, name)"},
          {"id": "line_sales", "type": "money",
           "label": {"en": "Sales last year (INR)", "hi": "पिछले वर्ष की बिक्री (रुपये)"},
           "constraint": ". >= 0", "constraint_message": {"en": "Not negative", "hi": "ऋणात्मक नहीं"}}
        ]},
       {"id": "finance_obstacle", "type": "scale", "choices": "severity",
        "label": {"en": "How severe is access to finance?", "hi": "वित्त तक पहुँच कितनी गंभीर बाधा है?"}}
     ]},
    {"id": "main_2", "label": {"en": "Cluster diagnostic (sample)", "hi": "क्लस्टर नैदानिक (नमूना)"},
     "questions": [
       {"id": "location", "type": "gps", "label": {"en": "Location of the unit", "hi": "इकाई का स्थान"}, "pii": true},
       {"id": "thanks", "type": "note", "label": {"en": "Thank the respondent", "hi": "उत्तरदाता को धन्यवाद दें"}}
     ]}
  ]
})json");
}

}  // namespace ck::test
