package country

import "golang.org/x/text/language"

// Valid reports whether code is an assigned ISO 3166-1 alpha-3 country code, upper case,
// such as "NER" or "DEU". Region groupings ("EUR", UN M49 numbers), user-assigned codes
// ("XXA" for stateless, "ZZZ") and lower case are not.
func Valid(code string) bool {
	if len(code) != 3 {
		return false
	}
	for i := 0; i < 3; i++ {
		if code[i] < 'A' || code[i] > 'Z' {
			return false
		}
	}
	r, err := language.ParseRegion(code)
	if err != nil || !r.IsCountry() || r.IsPrivateUse() {
		return false
	}
	// ParseRegion also accepts deprecated codes and canonicalises them; only the code that
	// maps back to itself is the current assignment.
	return r.ISO3() == code
}
