package hxl

import (
	"strings"

	"golang.org/x/text/language"
	"golang.org/x/text/language/display"

	"github.com/passage-cm/passage/internal/country"
	"github.com/passage-cm/passage/internal/region"
)

// Names is the Namer Passage publishes with: a region's name from internal/region (the IOM
// regional offices), a country's English short name from CLDR (golang.org/x/text), as the
// portals show them.
func Names(dimension, code string) (string, bool) {
	switch {
	case strings.HasSuffix(dimension, "_REGION"):
		r, ok := region.ByCode(code)
		return r.Name, ok
	case dimension == "NATIONALITY" || strings.HasSuffix(dimension, "_COUNTRY"):
		if !country.Valid(code) {
			return "", false
		}
		r, err := language.ParseRegion(code)
		if err != nil {
			return "", false
		}
		return display.English.Regions().Name(r), true
	}
	return "", false
}
