package demo

import (
	"slices"

	"github.com/passage-cm/passage/internal/region"
)

// IOMRegions are the IOM regional offices' groupings (internal/region), without the
// territories where no one plausibly comes from or is assisted in (uninhabited, or
// dependencies whose people the tables count under the sovereign state): a plan picks its
// host and origin countries among these.
func IOMRegions() []Region {
	var out []Region
	for _, r := range region.All() {
		out = append(out, Region{Code: r.Code, Countries: slices.DeleteFunc(slices.Clone(r.Countries), func(c string) bool {
			return slices.Contains(territories, c)
		})})
	}
	return out
}

// territories are left out of plans: Antarctica and uninhabited islands, and dependent
// territories (ISO 3166-1 assigns them codes of their own).
var territories = []string{
	"ATA", "BVT", "HMD", "SGS", "ATF", "UMI", "IOT", "PCN", "TKL", "NFK", "CCK", "CXR",
	"ALA", "FRO", "GGY", "GIB", "GLP", "GUF", "IMN", "JEY", "MAF", "MTQ", "MYT", "REU", "SJM", "VAT",
	"ASM", "COK", "GUM", "MNP", "NCL", "NIU", "PYF", "WLF", "SHN", "ESH",
	"ABW", "AIA", "BES", "BLM", "BMU", "CUW", "CYM", "GRL", "MSR", "PRI", "SPM", "SXM", "TCA", "VGB", "VIR", "FLK",
}
