package country

import (
	"sync"

	"golang.org/x/text/language"
)

// Valid reports whether code is an assigned ISO 3166-1 alpha-3 country code, upper case,
// such as "NER" or "DEU". Region groupings ("EUR", UN M49 numbers), user-assigned codes
// ("XXA" for stateless, "ZZZ"), codes ISO no longer assigns ("SUN", "YUG") and lower case
// are not.
func Valid(code string) bool {
	if len(code) != 3 {
		return false
	}
	for i := 0; i < 3; i++ {
		if code[i] < 'A' || code[i] > 'Z' {
			return false
		}
	}
	if notAssigned[code] {
		return false
	}
	r, err := language.ParseRegion(code)
	if err != nil || !r.IsCountry() || r.IsPrivateUse() {
		return false
	}
	// ParseRegion also accepts deprecated codes and canonicalises them; only the code that
	// maps back to itself is the current assignment.
	return r.ISO3() == code
}

// notAssigned holds the codes CLDR (and so x/text) still knows as countries that map back
// to themselves, but that ISO 3166-1 does not assign to a country today: withdrawn codes
// (ISO 3166-3: the Soviet Union, Yugoslavia, Serbia and Montenegro, the Netherlands
// Antilles, Zaire, ...) and the alpha-3 forms CLDR gives to exceptionally reserved alpha-2
// codes (Ascension AC, Clipperton CP, Diego Garcia DG, Tristan da Cunha TA). A record
// names the state of today: the person from Zaire is recorded as from COD, from Ascension
// as from SHN. Without this list the 249 assigned codes came with these 28 besides.
var notAssigned = map[string]bool{
	"ANT": true, "ASC": true, "ATN": true, "BUR": true, "CPT": true, "CTE": true, "DDR": true,
	"DGA": true, "DHY": true, "FXX": true, "HVO": true, "JTN": true, "MID": true, "NHB": true,
	"NTZ": true, "PCI": true, "PCZ": true, "PUS": true, "RHO": true, "SCG": true, "SUN": true,
	"TAA": true, "TMP": true, "VDR": true, "WAK": true, "YMD": true, "YUG": true, "ZAR": true,
}

// All returns every code Valid accepts, sorted: the 249 countries ISO 3166-1 assigns.
// Reference data keyed by country (regions, for one) is checked against it.
func All() []string {
	return append([]string(nil), all()...)
}

var all = sync.OnceValue(func() []string {
	var codes []string
	b := []byte("AAA")
	for b[0] = 'A'; b[0] <= 'Z'; b[0]++ {
		for b[1] = 'A'; b[1] <= 'Z'; b[1]++ {
			for b[2] = 'A'; b[2] <= 'Z'; b[2]++ {
				if code := string(b); Valid(code) {
					codes = append(codes, code)
				}
			}
		}
	}
	return codes
})
