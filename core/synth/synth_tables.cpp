#include "core/synth/synth_tables.h"

#include <cmath>

namespace ck::synth {

double Rng::normal(double mean, double sd) {
    // Box-Muller; one of the pair is dropped to keep the state simple.
    double u1 = uniform(), u2 = uniform();
    if (u1 < 1e-300) u1 = 1e-300;
    return mean + sd * std::sqrt(-2.0 * std::log(u1)) * std::cos(6.283185307179586 * u2);
}

double Rng::logUniform(double lo, double hi) { return lo * std::exp(uniform() * std::log(hi / lo)); }

size_t Rng::weighted(const std::vector<double>& weights) {
    double total = 0;
    for (double w : weights) total += w;
    double x = uniform() * total;
    for (size_t i = 0; i < weights.size(); ++i) {
        if (x < weights[i]) return i;
        x -= weights[i];
    }
    return weights.size() - 1;
}

uint64_t hashText(std::string_view text, uint64_t seed) {
    uint64_t h = 1469598103934665603ull ^ seed;  // FNV-1a
    for (unsigned char c : text) h = (h ^ c) * 1099511628211ull;
    return h;
}

// Women's shares: knitwear, cashew and coir employ mostly women (Tiruppur's garment floors,
// Kollam's cashew processing); auto parts, foundries and chemicals employ few. Figures are
// rounded impressions from ASUSE/Annual Survey of Industries patterns, meant to look right
// in a demo, not to be cited.
const std::vector<SectorInfo>& sectors() {
    static const std::vector<SectorInfo> table = {
        {"knitwear", {"Knit Fashions", "Knits", "Garments", "Apparels"}, Family::Textile, 0.55, 0.50, 0.55, 60, 1.2e6, 0.25, 0.55, 0.04,
         {{"weaving_knitting", 0.2}, {"processing_dyeing", 0.1}, {"garmenting_assembly", 0.5}, {"job_work", 0.15}, {"design_branding", 0.05}},
         {"t_shirts", "innerwear", "nightwear", "kidswear", "sportswear", "knitted_fabric"}, "14309"},
        {"textiles", {"Textiles", "Fabrics", "Silk Mills", "Weaves"}, Family::Textile, 0.22, 0.45, 0.25, 35, 1.5e6, 0.35, 0.60, 0.07,
         {{"spinning", 0.1}, {"weaving_knitting", 0.45}, {"processing_dyeing", 0.25}, {"garmenting_assembly", 0.05}, {"job_work", 0.15}},
         {"woven_fabric", "processed_fabric", "yarn"}, "13121"},
        {"hosiery", {"Hosiery", "Knitwear", "Woollens"}, Family::Textile, 0.35, 0.45, 0.30, 40, 1.3e6, 0.25, 0.55, 0.04,
         {{"spinning", 0.05}, {"weaving_knitting", 0.35}, {"garmenting_assembly", 0.4}, {"job_work", 0.15}, {"design_branding", 0.05}},
         {"sweaters", "socks_hosiery", "innerwear", "t_shirts", "yarn"}, "14301"},
        {"chemicals", {"Chemicals", "Dyes & Intermediates", "Organics"}, Family::Chemical, 0.06, 0.35, 0.45, 45, 4.0e6, 0.45, 0.62, 0.08,
         {{"chemical_processing", 0.85}, {"job_work", 0.15}}, {"dyes_pigments", "specialty_chemicals"}, "20114"},
        {"auto_parts", {"Auto Components", "Engineering", "Precision Components"}, Family::Engineering, 0.08, 0.45, 0.30, 30, 2.0e6, 0.55, 0.55, 0.06,
         {{"casting_forging", 0.2}, {"machining", 0.45}, {"component_assembly", 0.25}, {"job_work", 0.1}},
         {"forgings", "machined_parts", "sheet_metal", "castings"}, "29301"},
        {"brass", {"Brass Works", "Handicrafts", "Metal Crafts", "Art Wares"}, Family::Craft, 0.15, 0.40, 0.55, 70, 0.9e6, 0.20, 0.50, 0.05,
         {{"casting_forging", 0.35}, {"design_branding", 0.15}, {"job_work", 0.3}, {"other", 0.2}},
         {"brass_artware", "metal_utensils", "castings"}, "25999"},
        {"engineering", {"Engineering Works", "Industries", "Pumps", "Tools"}, Family::Engineering, 0.06, 0.40, 0.25, 25, 1.6e6, 0.50, 0.52, 0.06,
         {{"casting_forging", 0.15}, {"machining", 0.45}, {"component_assembly", 0.3}, {"job_work", 0.1}},
         {"machined_parts", "castings", "sheet_metal"}, "28132"},
        {"glass", {"Glass Works", "Bangles", "Glass Industries"}, Family::Craft, 0.22, 0.40, 0.15, 20, 0.8e6, 0.35, 0.40, 0.18,
         {{"other", 0.6}, {"job_work", 0.3}, {"design_branding", 0.1}}, {}, "23109"},
        {"leather", {"Leather Works", "Tanners", "Leather Exports"}, Family::Chemical, 0.30, 0.45, 0.50, 65, 1.4e6, 0.30, 0.58, 0.05,
         {{"other", 0.6}, {"job_work", 0.25}, {"design_branding", 0.15}}, {}, "15114"},
        {"ceramics", {"Ceramics", "Tiles", "Vitrified"}, Family::Craft, 0.15, 0.40, 0.30, 25, 2.2e6, 0.60, 0.40, 0.22,
         {{"other", 0.8}, {"job_work", 0.2}}, {}, "23939"},
        {"sports_goods", {"Sports", "Sports Industries", "Sports Gear"}, Family::Craft, 0.30, 0.45, 0.50, 55, 0.9e6, 0.25, 0.50, 0.04,
         {{"other", 0.55}, {"job_work", 0.3}, {"design_branding", 0.15}}, {}, "32300"},
        {"footwear", {"Footwear", "Shoe Company", "Shoes"}, Family::Craft, 0.35, 0.50, 0.35, 45, 0.9e6, 0.20, 0.52, 0.03,
         {{"other", 0.6}, {"job_work", 0.3}, {"design_branding", 0.1}}, {}, "15201"},
        {"carpets", {"Carpets", "Rugs", "Carpet Exports"}, Family::Craft, 0.40, 0.40, 0.60, 75, 0.5e6, 0.15, 0.45, 0.02,
         {{"weaving_knitting", 0.6}, {"design_branding", 0.1}, {"job_work", 0.3}}, {}, "13931"},
        {"handloom", {"Handlooms", "Weaves", "Handloom Weavers"}, Family::Textile, 0.55, 0.35, 0.20, 40, 0.4e6, 0.15, 0.55, 0.02,
         {{"weaving_knitting", 0.7}, {"processing_dyeing", 0.1}, {"design_branding", 0.05}, {"job_work", 0.15}},
         {"woven_fabric", "yarn"}, "13121"},
        {"cashew", {"Cashew Industries", "Cashew Exports", "Cashews"}, Family::Food, 0.85, 0.30, 0.45, 50, 1.0e6, 0.20, 0.72, 0.03,
         {{"other", 0.8}, {"job_work", 0.2}}, {}, "10795"},
        {"coir", {"Coir Products", "Coir Mats", "Coir Industries"}, Family::Craft, 0.75, 0.30, 0.40, 55, 0.5e6, 0.15, 0.50, 0.04,
         {{"other", 0.7}, {"job_work", 0.3}}, {}, "13941"},
        {"foundry", {"Foundry", "Castings", "Alloys"}, Family::Engineering, 0.04, 0.40, 0.25, 25, 1.8e6, 0.55, 0.50, 0.15,
         {{"casting_forging", 0.8}, {"machining", 0.15}, {"job_work", 0.05}}, {"castings"}, "24319"},
        {"pharma", {"Pharmaceuticals", "Life Sciences", "Formulations"}, Family::Chemical, 0.25, 0.50, 0.35, 30, 3.5e6, 0.50, 0.50, 0.05,
         {{"chemical_processing", 0.9}, {"other", 0.1}}, {}, "21002"},
        {"food_processing", {"Foods", "Agro Products", "Food Products"}, Family::Food, 0.45, 0.40, 0.15, 25, 2.0e6, 0.30, 0.70, 0.05,
         {{"other", 0.85}, {"job_work", 0.15}}, {}, "10619"},
        {"toys", {"Toys", "Crafts", "Lacquerware"}, Family::Craft, 0.40, 0.35, 0.30, 40, 0.5e6, 0.20, 0.40, 0.05,
         {{"other", 0.6}, {"design_branding", 0.2}, {"job_work", 0.2}}, {}, "32401"},
    };
    return table;
}

const SectorInfo& sectorById(std::string_view id) {
    for (const auto& s : sectors())
        if (id == s.id) return s;
    return sectors()[6];  // engineering: a neutral, common sector
}

const std::vector<StateInfo>& states() {
    // Approximate district centres and PIN prefixes; port distances by road to the nearest
    // major port. Enough for GPS points and PIN codes that look right on a map.
    static const std::vector<StateInfo> table = {
        {"Tamil Nadu", "TN", 11.11, 77.34, "641", 330, 'S', {"Tiruppur", "Coimbatore", "Karur", "Salem", "Madurai", "Virudhunagar"}},
        {"Gujarat", "GJ", 21.17, 72.83, "395", 60, 'W', {"Surat", "Valsad", "Rajkot", "Morbi", "Jamnagar", "Ahmedabad"}},
        {"Punjab", "PB", 30.90, 75.85, "141", 1400, 'N', {"Ludhiana", "Jalandhar", "Batala", "Amritsar"}},
        {"Maharashtra", "MH", 18.52, 73.86, "411", 160, 'W', {"Pune", "Kolhapur", "Solapur", "Aurangabad", "Nashik"}},
        {"Uttar Pradesh", "UP", 28.84, 78.78, "244", 1300, 'N', {"Moradabad", "Firozabad", "Kanpur Nagar", "Agra", "Bhadohi", "Aligarh"}},
        {"Karnataka", "KA", 12.97, 77.59, "560", 360, 'S', {"Bengaluru Urban", "Ramanagara", "Belagavi", "Mysuru"}},
        {"Kerala", "KL", 8.89, 76.61, "691", 70, 'S', {"Kollam", "Alappuzha", "Ernakulam", "Kannur"}},
        {"West Bengal", "WB", 22.59, 88.31, "711", 30, 'E', {"Howrah", "Kolkata", "Hooghly"}},
        {"Haryana", "HR", 29.39, 76.97, "132", 1250, 'N', {"Panipat", "Faridabad", "Gurugram", "Yamunanagar"}},
        {"Rajasthan", "RJ", 26.91, 75.79, "302", 900, 'N', {"Jaipur", "Bhilwara", "Jodhpur"}},
        {"Telangana", "TS", 17.38, 78.48, "500", 620, 'S', {"Hyderabad", "Yadadri Bhuvanagiri", "Warangal"}},
        {"Himachal Pradesh", "HP", 30.91, 76.80, "173", 1500, 'N', {"Solan", "Una", "Kangra"}},
        {"Odisha", "OD", 20.46, 85.88, "753", 100, 'E', {"Cuttack", "Khordha", "Sambalpur"}},
        {"Madhya Pradesh", "MP", 22.72, 75.86, "452", 600, 'N', {"Indore", "Dhar", "Ashoknagar"}},
        {"Andhra Pradesh", "AP", 17.69, 83.22, "530", 20, 'S', {"Visakhapatnam", "Krishna", "Guntur"}},
        {"Bihar", "BR", 25.24, 86.98, "812", 450, 'E', {"Bhagalpur", "Muzaffarpur", "Patna"}},
        {"Assam", "AS", 26.14, 91.66, "781", 1100, 'E', {"Kamrup", "Nagaon", "Jorhat"}},
        {"Jharkhand", "JH", 22.80, 86.20, "831", 300, 'E', {"East Singhbhum", "Ranchi", "Bokaro"}},
        {"Chhattisgarh", "CG", 21.25, 81.63, "492", 550, 'E', {"Raipur", "Durg", "Bilaspur"}},
        {"Uttarakhand", "UK", 29.95, 78.16, "249", 1450, 'N', {"Haridwar", "Udham Singh Nagar", "Dehradun"}},
        {"Jammu and Kashmir", "JK", 34.08, 74.80, "190", 1700, 'N', {"Srinagar", "Jammu", "Anantnag"}},
        {"Delhi", "DL", 28.70, 77.10, "110", 1200, 'N', {"North West Delhi", "South Delhi", "Shahdara"}},
        {"Goa", "GA", 15.50, 73.83, "403", 10, 'W', {"North Goa", "South Goa"}},
        {"Tripura", "TR", 23.83, 91.28, "799", 1600, 'E', {"West Tripura", "Gomati"}},
        {"Manipur", "MN", 24.80, 93.94, "795", 1700, 'E', {"Imphal West", "Thoubal"}},
        {"Meghalaya", "ML", 25.57, 91.88, "793", 1300, 'E', {"East Khasi Hills", "Ri Bhoi"}},
        {"Nagaland", "NL", 25.67, 94.10, "797", 1500, 'E', {"Kohima", "Dimapur"}},
        {"Puducherry", "PY", 11.94, 79.81, "605", 160, 'S', {"Puducherry", "Karaikal"}},
        {"Chandigarh", "CH", 30.73, 76.78, "160", 1350, 'N', {"Chandigarh"}},
        {"Sikkim", "SK", 27.33, 88.61, "737", 700, 'E', {"East Sikkim", "South Sikkim"}},
    };
    return table;
}

const StateInfo* stateByName(std::string_view name) {
    for (const auto& s : states())
        if (name == s.name) return &s;
    return nullptr;
}

const std::vector<ClusterInfo>& knownClusters() {
    // In the order a register takes them: each state's best-known cluster first. The first
    // six are choices of the flagship template's `cluster` list.
    static const std::vector<ClusterInfo> table = {
        {"TN", "Tiruppur", "tiruppur_knitwear", "knitwear"},
        {"GJ", "Surat", "surat_textiles", "textiles"},
        {"PB", "Ludhiana", "ludhiana_hosiery", "hosiery"},
        {"MH", "Pune", "pune_auto", "auto_parts"},
        {"UP", "Moradabad", "moradabad_brass", "brass"},
        {"GJ", "Valsad", "vapi_chemicals", "chemicals"},
        {"GJ", "Rajkot", "rajkot_engineering", "engineering"},
        {"UP", "Firozabad", "firozabad_glass", "glass"},
        {"UP", "Kanpur Nagar", "kanpur_leather", "leather"},
        {"TN", "Coimbatore", "coimbatore_pumps", "engineering"},
        {"GJ", "Morbi", "morbi_ceramics", "ceramics"},
        {"PB", "Jalandhar", "jalandhar_sports_goods", "sports_goods"},
        {"MH", "Kolhapur", "kolhapur_foundry", "foundry"},
        {"UP", "Agra", "agra_footwear", "footwear"},
        {"UP", "Bhadohi", "bhadohi_carpets", "carpets"},
        {"KA", "Ramanagara", "channapatna_toys", "toys"},
        {"KA", "Belagavi", "belagavi_foundry", "foundry"},
        {"KL", "Kollam", "kollam_cashew", "cashew"},
        {"KL", "Alappuzha", "alappuzha_coir", "coir"},
        {"WB", "Howrah", "howrah_engineering", "engineering"},
        {"HR", "Panipat", "panipat_handloom", "handloom"},
        {"HR", "Faridabad", "faridabad_auto", "auto_parts"},
        {"RJ", "Jaipur", "sanganer_textiles", "textiles"},
        {"RJ", "Bhilwara", "bhilwara_textiles", "textiles"},
        {"TS", "Yadadri Bhuvanagiri", "pochampally_handloom", "handloom"},
        {"TS", "Hyderabad", "hyderabad_pharma", "pharma"},
        {"HP", "Solan", "baddi_pharma", "pharma"},
        {"MH", "Solapur", "solapur_textiles", "textiles"},
        {"TN", "Karur", "karur_home_textiles", "textiles"},
        {"UP", "Aligarh", "aligarh_locks", "engineering"},
        {"KA", "Bengaluru Urban", "peenya_engineering", "engineering"},
        {"OD", "Cuttack", "cuttack_engineering", "engineering"},
        {"MP", "Dhar", "pithampur_auto", "auto_parts"},
        {"MP", "Ashoknagar", "chanderi_handloom", "handloom"},
        {"BR", "Bhagalpur", "bhagalpur_silk", "handloom"},
        {"AS", "Kamrup", "sualkuchi_silk", "handloom"},
        {"JH", "East Singhbhum", "jamshedpur_engineering", "engineering"},
        {"AP", "Krishna", "kondapalli_toys", "toys"},
        {"UK", "Haridwar", "haridwar_pharma", "pharma"},
        {"JK", "Srinagar", "srinagar_carpets", "carpets"},
    };
    return table;
}

const std::vector<const char*>& personNames(char region) {
    static const std::vector<const char*> south = {"K. Senthilkumar", "R. Lakshmi", "S. Murugan", "P. Karthikeyan", "M. Revathi",
                                                   "A. Selvaraj", "V. Meena", "T. Ramesh", "G. Anitha", "N. Subramanian"};
    static const std::vector<const char*> west = {"Rajesh Patel", "Hetal Shah", "Suresh Desai", "Nilesh Joshi", "Priya Mehta",
                                                  "Sunil Patil", "Anjali Kulkarni", "Manoj Jadhav", "Kiran Chavan", "Vaishali Pawar"};
    static const std::vector<const char*> north = {"Harpreet Singh", "Manjit Kaur", "Rakesh Kumar", "Sunita Devi", "Amit Agarwal",
                                                   "Pooja Sharma", "Mohd. Imran", "Naseem Ahmad", "Vikas Gupta", "Rekha Verma"};
    static const std::vector<const char*> east = {"Subrata Das", "Mitali Ghosh", "Prasanta Mondal", "Ranjit Behera", "Smita Mohanty",
                                                  "Anil Mahato", "Rina Devi", "Bikash Saikia", "Puja Kalita", "Sanjay Oraon"};
    switch (region) {
        case 'S': return south;
        case 'W': return west;
        case 'E': return east;
        default: return north;
    }
}

const std::vector<const char*>& unitPrefixes(char region) {
    static const std::vector<const char*> south = {"Sri Murugan", "Sri Velavan", "Lakshmi", "Sree Annapoorna", "Kaveri",
                                                   "Sri Balaji", "Senthil", "Amman", "Vinayaga", "Sakthi"};
    static const std::vector<const char*> west = {"Shree Ganesh", "Om Sai", "Jay Ambe", "Patel", "Shah", "Mahavir", "Kohinoor",
                                                  "Navkar", "Shiv Shakti", "Gajanan"};
    static const std::vector<const char*> north = {"Shiva", "Durga", "Guru Nanak", "Bharat", "Sharma", "Agarwal", "Vishwakarma",
                                                   "Ganga", "Royal", "New Star"};
    static const std::vector<const char*> east = {"Maa Tara", "Jagannath", "Lokenath", "Kali Mata", "Shree Ram", "Ganapati",
                                                  "Bani", "Annapurna", "Biswakarma", "Brahmaputra"};
    switch (region) {
        case 'S': return south;
        case 'W': return west;
        case 'E': return east;
        default: return north;
    }
}

}  // namespace ck::synth
