package demo

import "strings"

// fixtureRegions stands in for internal/region until it lands.
func fixtureRegions() []Region {
	m := map[string]string{
		"EEA":    "AUT BEL BGR HRV CYP CZE DNK EST FIN FRA DEU GRC HUN IRL ITA LVA LTU LUX MLT NLD POL PRT ROU SVK SVN ESP SWE NOR CHE ISL LIE GBR",
		"SEEECA": "ALB BIH MNE MKD SRB TUR UKR MDA BLR RUS ARM AZE GEO KAZ KGZ TJK TKM UZB",
		"MENA":   "DZA BHR EGY IRQ JOR KWT LBN LBY MAR OMN PSE QAT SAU SDN SYR TUN ARE YEM",
		"APAC":   "AFG AUS BGD BTN BRN KHM CHN FJI IND IDN IRN JPN KIR PRK KOR LAO MYS MDV MHL FSM MNG MMR NRU NPL NZL PAK PLW PNG PHL WSM SGP SLB LKA THA TLS TON TUV VUT VNM",
		"WCA":    "BEN BFA CPV CMR CAF TCD COG COD CIV GNQ GAB GMB GHA GIN GNB LBR MLI MRT NER NGA STP SEN SLE TGO",
		"EHoA":   "BDI DJI ERI ETH KEN RWA SOM SSD TZA UGA",
		"SA":     "AGO BWA COM SWZ LSO MDG MWI MUS MOZ NAM SYC ZAF ZMB ZWE",
		"CNAC":   "ATG BHS BRB BLZ CAN CRI CUB DMA DOM SLV GRD GTM HTI HND JAM MEX NIC PAN KNA LCA VCT TTO USA",
		"SAM":    "ARG BOL BRA CHL COL ECY ECU GUY PRY PER SUR URY VEN",
	}
	var out []Region
	for _, code := range []string{"EEA", "SEEECA", "MENA", "APAC", "WCA", "EHoA", "SA", "CNAC", "SAM"} {
		out = append(out, Region{Code: code, Countries: strings.Fields(m[code])})
	}
	return out
}

func testRegions(t interface{ Helper() }) []Region {
	t.Helper()
	return fixtureRegions()
}
