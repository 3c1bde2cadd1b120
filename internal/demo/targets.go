package demo

// The published figures the plan reproduces, from the seed document (IOM, 2015: the AVRR
// paragraph of target 10.7 and the HASM paragraph after it). Where the document gives a
// share only for the largest regions, the rest is spread over the other regions with the
// weights below: an illustrative choice, marked as such, not a published figure.

const (
	// avrrPersons: "approximately 69,000 migrants" returned with AVRR in 2015.
	avrrPersons = 69_000
	// avrrHostCountries, avrrOriginCountries: "from 98 host or transit countries to 157
	// countries of origin".
	avrrHostCountries   = 98
	avrrOriginCountries = 157
	// avrrMalePercent: "76 per cent of AVRR beneficiaries were male, 24 per cent were female".
	avrrMalePercent   = 76.0
	avrrFemalePercent = 24.0
	// hasmIndividuals, hasmNationalities: "524 stranded individuals of 43 different
	// nationalities".
	hasmIndividuals   = 524
	hasmNationalities = 43
	// minFullScale is the smallest scale at which the plan holds exactly 98 host and 157
	// origin countries (every chosen country needs at least one person).
	minFullScale = 0.05
)

// victimsAtFullScale is how many victim of trafficking cases the plan holds at scale 1. The
// seed document gives no count for 2015 ("one in seven victims identified worldwide"); this
// is an illustrative figure, enough for the VoT tables to have cells above k = 11.
const victimsAtFullScale = 2_000

// share is a region's share of a caseload, in per cent.
type share struct {
	region  string
	percent float64
}

// hostShares: "Most of AVRR beneficiaries (80.72 per cent) returned from the EU, Norway and
// Switzerland. The Middle East and North Africa and Asia and the Pacific were the next most
// important host regions (8.28 per cent and 4.91 per cent respectively)." The remaining
// 6.09 per cent is spread (illustrative).
var hostShares = []share{
	{"EEA", 80.72}, {"MENA", 8.28}, {"APAC", 4.91},
	{"SEEECA", 2.50}, {"CNAC", 1.50}, {"WCA", 0.80}, {"EHoA", 0.60}, {"SA", 0.45}, {"SAM", 0.24},
}

// returnShares: "Migrants assisted with AVRR mainly returned to Eastern, South Eastern Europe
// and Central Asia (60.59 per cent), followed by Asia and the Pacific (13.87 per cent) and
// the Middle East and North Africa (7.01 per cent)." The remaining 18.53 per cent is spread
// (illustrative).
var returnShares = []share{
	{"SEEECA", 60.59}, {"APAC", 13.87}, {"MENA", 7.01},
	{"WCA", 7.00}, {"SAM", 4.50}, {"EHoA", 3.00}, {"CNAC", 2.50}, {"SA", 1.00}, {"EEA", 0.53},
}

// spread is how many countries of a region the plan uses.
type spread struct {
	region    string
	countries int
}

// hostSpread sums to avrrHostCountries and originSpread to avrrOriginCountries
// (illustrative; a region with fewer countries passes the excess to the next with room).
var (
	hostSpread = []spread{
		{"EEA", 30}, {"MENA", 16}, {"APAC", 16}, {"SEEECA", 12}, {"CNAC", 8}, {"WCA", 6}, {"EHoA", 5}, {"SA", 3}, {"SAM", 2},
	}
	originSpread = []spread{
		{"SEEECA", 18}, {"APAC", 30}, {"MENA", 17}, {"WCA", 23}, {"EHoA", 12}, {"SAM", 11}, {"CNAC", 20}, {"SA", 10}, {"EEA", 16},
	}
)

// prominent lists, per region, the countries that carried most of the 2015 caseload, in
// falling order (illustrative, from the AVRR key highlights of those years): they come
// first and so get the largest shares of their region. Countries a region does not hold are
// skipped; the region's other countries follow in a seeded random order.
var (
	prominentHosts = map[string][]string{
		"EEA": {"DEU", "GRC", "BEL", "NLD", "AUT", "NOR", "GBR", "CHE", "FIN", "ITA", "ESP", "FRA", "SWE", "IRL", "POL", "HUN", "CZE", "PRT",
			"DNK", "LUX", "SVK", "SVN", "HRV", "MLT", "CYP", "EST", "LVA", "LTU", "ISL", "ROU", "BGR", "LIE"},
		"MENA":   {"YEM", "MAR", "EGY", "LBN", "JOR", "TUN", "LBY", "DZA", "IRQ"},
		"APAC":   {"AUS", "IDN", "THA", "MYS", "JPN", "KOR"},
		"SEEECA": {"TUR", "RUS", "UKR", "KAZ", "SRB"},
		"CNAC":   {"MEX", "USA", "CAN", "GTM"},
		"WCA":    {"NER", "MLI", "SEN"},
		"EHoA":   {"DJI", "ETH", "KEN"},
		"SA":     {"ZAF", "MOZ", "ZMB"},
		"SAM":    {"BRA", "ARG", "CHL"},
	}
	prominentOrigins = map[string][]string{
		"SEEECA": {"ALB", "SRB", "MKD", "UKR", "RUS", "GEO", "ARM", "BIH", "MDA", "TUR", "MNE", "KAZ", "AZE", "UZB", "TJK", "KGZ", "BLR", "TKM"},
		"APAC":   {"AFG", "PAK", "IRN", "BGD", "CHN", "MNG", "LKA", "IND", "NPL", "VNM", "IDN", "PHL", "MMR"},
		"MENA":   {"IRQ", "MAR", "DZA", "TUN", "EGY", "SYR", "LBN", "PSE", "SDN"},
		"WCA":    {"NGA", "SEN", "GIN", "GMB", "MLI", "CMR", "GHA", "CIV", "NER", "BFA"},
		"EHoA":   {"ETH", "ERI", "SOM", "SDN", "KEN", "UGA"},
		"SAM":    {"BRA", "COL", "PER", "ECU", "BOL", "PRY", "ARG", "CHL", "VEN"},
		"CNAC":   {"MEX", "HND", "GTM", "SLV", "DOM", "CUB", "NIC", "HTI"},
		"SA":     {"ZWE", "AGO", "MWI", "ZMB", "COD"},
		"EEA":    {"ROU", "BGR", "POL", "HUN", "LVA", "LTU", "SVK", "CZE", "EST", "HRV", "SVN", "PRT", "GRC", "ITA", "ESP", "CYP"},
	}
	// hasmHosts are places migrants were stranded in 2015 (illustrative).
	hasmHosts = []string{"YEM", "LBY", "NER", "DJI", "EGY", "MEX", "GTM", "THA", "MYS", "IDN", "ZAF", "MAR", "MLI", "SDN", "TUR"}
)

// The shares of cases (not persons) with a vulnerability, and of cases with household
// members: plausible small shares (illustrative; the seed document names the groups without
// figures).
const (
	umcCaseShare     = 0.020 // unaccompanied migrant children, single-person cases
	votCaseShare     = 0.012 // victims of trafficking returning through AVRR
	medicalCaseShare = 0.035 // migrants with medical needs
	hasmRejectShare  = 0.10  // HASM requests rejected at HQ, per approved request
)

// householdSizes are the chances of a case holding 1, 2, … people.
var householdSizes = []float64{0.82, 0.07, 0.05, 0.04, 0.02}

// hasmHouseholdSizes are the same for stranded migrants, who mostly travel alone.
var hasmHouseholdSizes = []float64{0.85, 0.10, 0.05}
