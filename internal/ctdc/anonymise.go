package ctdc

import (
	"errors"
	"fmt"
	"slices"
	"strings"

	"golang.org/x/text/language"

	"github.com/passage-cm/passage/internal/country"
)

// DefaultK is the CTDC's k: no combination of released values describes fewer than 11 people.
const DefaultK = 11

// VictimRecord is one identified victim as the analytics projection stores it: coded values
// only (internal/enumcode codes, ISO 3166-1 alpha-3 countries), never an identifier. Empty
// strings, an UNKNOWN code, an empty list or a zero year mean "not recorded".
type VictimRecord struct {
	Gender                string   // common.v1.Sex code: FEMALE, MALE, OTHER, UNKNOWN
	AgeBroad              string   // common.v1.AgeBand code at registration: 0_8 … 48_PLUS, UNKNOWN
	Citizenship           string   // alpha-3
	Exploitation          []string // trafficking.v1.ExploitationType codes
	MeansOfControl        []string // trafficking.v1.MeansOfControl codes
	CountryOfExploitation string   // alpha-3
	Year                  int      // year of registration
}

// Options tune Anonymise.
type Options struct {
	// K is the least number of released rows any combination of values may have. Zero means
	// DefaultK; anything below 2 is refused.
	K int
	// RegionOf gives the region code of an alpha-3 country (internal/region: Of(c).Code), the
	// level countries are generalised to before being suppressed. Nil, or a country it does
	// not know, means countries go straight to an empty value.
	RegionOf func(alpha3 string) (code string, ok bool)
}

// Release is an anonymised data set, ready to publish with WriteCSV.
type Release struct {
	// Rows are the released records in CTDC layout, sorted, so that nothing of the input's
	// order (such as the order of registration) survives.
	Rows []Row
	// K is the k the rows were anonymised to; WriteCSV verifies it again.
	K int
	// Input is how many records came in: Input = len(Rows) + Withheld.
	Input int
	// Generalised counts released records with at least one value made coarser but still
	// informative (broad age to majority status, a country to its region, the exploitation
	// types to the CTDC's three broad classes).
	Generalised int
	// Suppressed counts released records with at least one recorded value emptied. A record
	// can be both generalised and suppressed.
	Suppressed int
	// Withheld counts records left out entirely, the last resort.
	Withheld int
}

// ErrInvalidRecord is returned, wrapped with the record's index and the field's name (never
// its value), for a value the codebook does not know.
var ErrInvalidRecord = errors.New("ctdc: invalid record")

// Anonymise is AnonymiseWith with k and no region grouping.
func Anonymise(records []VictimRecord, k int) (Release, error) {
	return AnonymiseWith(records, Options{K: k})
}

// AnonymiseWith maps records to the CTDC layout and k-anonymises them by local recoding: the
// records whose combination of values occurs fewer than k times are generalised one step at a
// time along ladder, the others stay as they are; what is still rarer than k after every value
// has been suppressed is withheld. The result passes Verify, which is checked before it is
// returned; the input is not modified.
func AnonymiseWith(records []VictimRecord, opt Options) (Release, error) {
	k := opt.K
	if k == 0 {
		k = DefaultK
	}
	if k < 2 {
		return Release{}, fmt.Errorf("ctdc: k must be at least 2")
	}
	recs, err := parse(records, opt.RegionOf)
	if err != nil {
		return Release{}, err
	}

	keys := make([]key, len(recs))
	counts := make(map[key]int, len(recs))
	for i := range recs {
		keys[i] = recs[i].released()
		counts[keys[i]]++
	}
	unsafe := make([]int, 0)
	for i := range keys {
		if counts[keys[i]] < k {
			unsafe = append(unsafe, i)
		}
	}
	for _, step := range ladder {
		if len(unsafe) == 0 {
			break
		}
		// Every record of a class smaller than k moves at once, and only those: a class of k or
		// more is never left, only joined, so what is safe after a step stays as it is. (Moving
		// one record at a time would let a class reach k mid-step and then lose a member.)
		moved := make([]key, len(unsafe))
		for j, i := range unsafe {
			r := &recs[i]
			if r.lv[step.attr] < step.level {
				r.lv[step.attr] = step.level
			}
			moved[j] = r.released()
		}
		for j, i := range unsafe {
			if moved[j] == keys[i] {
				continue
			}
			if counts[keys[i]]--; counts[keys[i]] == 0 {
				delete(counts, keys[i])
			}
			keys[i] = moved[j]
			counts[moved[j]]++
		}
		still := unsafe[:0]
		for _, i := range unsafe {
			if counts[keys[i]] < k {
				still = append(still, i)
			}
		}
		unsafe = still
	}

	withheld := make([]bool, len(recs))
	for _, i := range unsafe {
		withheld[i] = true
	}
	rel := Release{K: k, Input: len(records), Withheld: len(unsafe)}
	for i := range recs {
		if withheld[i] {
			continue
		}
		g, s := recs[i].changes()
		if g {
			rel.Generalised++
		}
		if s {
			rel.Suppressed++
		}
	}
	// Every record of a class is withheld or none is, and the classes left at k or more are
	// exactly the released ones: render each once, sort, and repeat it as often as it occurs.
	type class struct {
		row Row
		n   int
	}
	classes := make([]class, 0, len(counts))
	for key, n := range counts {
		if n >= k {
			classes = append(classes, class{key.row(), n})
		}
	}
	slices.SortFunc(classes, func(a, b class) int { return slices.Compare(a.row[:], b.row[:]) })
	rel.Rows = make([]Row, 0, len(recs)-len(unsafe))
	for _, c := range classes {
		for range c.n {
			rel.Rows = append(rel.Rows, c.row)
		}
	}
	if err := Verify(rel.Rows, k); err != nil {
		// Unreachable unless the algorithm above is wrong; refusing is the only safe answer.
		return Release{}, fmt.Errorf("ctdc: anonymisation failed its own check: %w", err)
	}
	return rel, nil
}

// The quasi-identifiers, each generalised along its own levels (0 is the value as recorded).
const (
	attrGender      = iota // 0 label, 1 empty
	attrAge                // 0 ageBroad and majorityStatus, 1 majorityStatus, 2 empty
	attrCitizenship        // 0 country and region, 1 region, 2 empty
	attrExploitCountry
	attrYear         // 0 year, 1 empty
	attrExploitation // 0 every flag, 1 the three broad classes, 2 empty
	attrControl      // 0 every flag, 1 empty
	numAttrs
)

// ladder is the order in which values of the records still rarer than k are given up. The
// means of control go first: seventeen flags make nearly every record unique and they are the
// least used in published analysis. Then the finer detail of exploitation, age and the two
// countries is coarsened, then those are emptied; year and gender, which every published CTDC
// table is broken down by, go last.
var ladder = []struct {
	attr  int
	level int8
}{
	{attrControl, 1},
	{attrExploitation, 1},
	{attrAge, 1},
	{attrCitizenship, 1},
	{attrExploitCountry, 1},
	{attrExploitation, 2},
	{attrAge, 2},
	{attrCitizenship, 2},
	{attrExploitCountry, 2},
	{attrYear, 1},
	{attrGender, 1},
}

// record is one victim in CTDC terms, with the level each quasi-identifier is released at.
type record struct {
	gender, broad, majority  string
	citizenship, citRegion   string // alpha-2, region code
	exploitCountry, exRegion string
	year                     int
	exploit                  uint16 // bit per CTDC flag; valid when exploitKnown
	exploitKnown             bool
	control                  uint32 // bit per controlCodes entry; valid when controlKnown
	controlKnown             bool
	lv                       [numAttrs]int8
}

// key is exactly what a record releases at its levels; equal keys make equal rows.
type key struct {
	gender, broad, majority  string
	citizenship, citRegion   string
	exploitCountry, exRegion string
	year                     int
	exploit, exploitMask     uint16 // flags, and which flags carry a value
	control                  uint32
	controlState             int8 // controlReleased, controlNotSpecified or controlWithheld
}

const (
	controlReleased = iota
	controlNotSpecified
	controlWithheld
)

func (r *record) released() key {
	var k key
	if r.lv[attrGender] == 0 {
		k.gender = r.gender
	}
	switch r.lv[attrAge] {
	case 0:
		k.broad, k.majority = r.broad, r.majority
	case 1:
		k.majority = r.majority
	}
	switch r.lv[attrCitizenship] {
	case 0:
		k.citizenship, k.citRegion = r.citizenship, r.citRegion
	case 1:
		k.citRegion = r.citRegion
	}
	switch r.lv[attrExploitCountry] {
	case 0:
		k.exploitCountry, k.exRegion = r.exploitCountry, r.exRegion
	case 1:
		k.exRegion = r.exRegion
	}
	if r.lv[attrYear] == 0 {
		k.year = r.year
	}
	if r.exploitKnown {
		switch r.lv[attrExploitation] {
		case 0:
			k.exploit = r.exploit
			k.exploitMask = (1<<numExploit - 1) &^ (1 << exForcedMilitary)
		case 1:
			for f := range numExploit {
				if r.exploit&(1<<f) != 0 {
					k.exploit |= 1 << coarseExploit[f]
				}
				if releasedAtCoarse[f] {
					k.exploitMask |= 1 << f
				}
			}
		}
	}
	switch {
	case r.lv[attrControl] > 0:
		k.controlState = controlWithheld
	case !r.controlKnown:
		k.controlState = controlNotSpecified
	default:
		k.control = r.control
	}
	return k
}

// changes reports whether the record, at its final levels, had a value generalised (made
// coarser but kept) and whether it had a recorded value suppressed.
func (r *record) changes() (generalised, suppressed bool) {
	base := *r
	base.lv = [numAttrs]int8{}
	was, is := base.released(), r.released()
	if was.gender != is.gender || was.year != is.year {
		suppressed = true
	}
	if was.broad != is.broad {
		if is.majority != "" {
			generalised = true
		} else {
			suppressed = true
		}
	}
	if was.citizenship != is.citizenship {
		if is.citRegion != "" {
			generalised = true
		} else {
			suppressed = true
		}
	}
	if was.exploitCountry != is.exploitCountry {
		if is.exRegion != "" {
			generalised = true
		} else {
			suppressed = true
		}
	}
	if was.exploitMask != is.exploitMask {
		if is.exploitMask != 0 {
			generalised = true
		} else {
			suppressed = true
		}
	}
	if was.controlState != is.controlState {
		suppressed = true
	}
	return generalised, suppressed
}

// parse maps each record's codes to the CTDC's, refusing a code the codebook does not know.
func parse(in []VictimRecord, regionOf func(string) (string, bool)) ([]record, error) {
	type place struct{ alpha2, region string }
	places := map[string]place{}
	lookup := func(i int, field, alpha3 string) (place, error) {
		if alpha3 == "" {
			return place{}, nil
		}
		if p, ok := places[alpha3]; ok {
			return p, nil
		}
		if !country.Valid(alpha3) {
			return place{}, fmt.Errorf("%w %d: %s is not an ISO 3166-1 alpha-3 country", ErrInvalidRecord, i, field)
		}
		reg, err := language.ParseRegion(alpha3)
		if err != nil {
			return place{}, fmt.Errorf("%w %d: %s", ErrInvalidRecord, i, field)
		}
		p := place{alpha2: reg.String()}
		if regionOf != nil {
			if code, ok := regionOf(alpha3); ok && code != "" {
				p.region = code
			}
		}
		places[alpha3] = p
		return p, nil
	}

	out := make([]record, len(in))
	for i, v := range in {
		r := &out[i]
		var ok bool
		if r.gender, ok = genders[v.Gender]; !ok && v.Gender != "" {
			return nil, fmt.Errorf("%w %d: unknown gender code", ErrInvalidRecord, i)
		}
		age, ok := ageBands[v.AgeBroad]
		if !ok && v.AgeBroad != "" {
			return nil, fmt.Errorf("%w %d: unknown ageBroad code", ErrInvalidRecord, i)
		}
		r.broad, r.majority = age.broad, age.majority

		p, err := lookup(i, "citizenship", v.Citizenship)
		if err != nil {
			return nil, err
		}
		r.citizenship, r.citRegion = p.alpha2, p.region
		if p, err = lookup(i, "countryOfExploitation", v.CountryOfExploitation); err != nil {
			return nil, err
		}
		r.exploitCountry, r.exRegion = p.alpha2, p.region

		if v.Year != 0 && (v.Year < 1900 || v.Year > 2999) {
			return nil, fmt.Errorf("%w %d: year out of range", ErrInvalidRecord, i)
		}
		r.year = v.Year

		for _, c := range v.Exploitation {
			f, ok := exploitationFlags[c]
			if !ok {
				return nil, fmt.Errorf("%w %d: unknown exploitation code", ErrInvalidRecord, i)
			}
			r.exploit |= 1 << f
			r.exploitKnown = true
		}
		if r.exploit&(1<<exSexualExploit) != 0 && r.exploit&(1<<exForcedLabour) != 0 {
			r.exploit |= 1 << exSexAndLabour
		}
		for _, c := range v.MeansOfControl {
			b, ok := controlBit[c]
			if !ok {
				return nil, fmt.Errorf("%w %d: unknown means of control code", ErrInvalidRecord, i)
			}
			r.control |= b
			r.controlKnown = true
		}
	}
	return out, nil
}

// Row is one released record: a value per column of Columns.
type Row [numColumns]string

// String is the row as CSV-like text, for test failures.
func (r Row) String() string { return strings.Join(r[:], ",") }

func (k key) row() Row {
	var r Row
	r[colDatasource] = datasource
	if k.year != 0 {
		r[colYear] = fmt.Sprint(k.year)
	}
	r[colGender] = k.gender
	r[colAgeBroad] = k.broad
	r[colMajority] = k.majority
	r[colCitizenship] = k.citizenship
	r[colCitizenshipRegion] = k.citRegion
	r[colCountryOfExploitation] = k.exploitCountry
	r[colExploitationRegion] = k.exRegion
	for f := range numExploit {
		if k.exploitMask&(1<<f) != 0 {
			r[colExploit+f] = oneZero(k.exploit&(1<<f) != 0)
		}
	}
	switch k.controlState {
	case controlReleased:
		for i := range numControl {
			r[colControl+i] = oneZero(k.control&(1<<i) != 0)
		}
		r[colControlNotSpecified] = "0"
	case controlNotSpecified:
		r[colControlNotSpecified] = "1"
	}
	return r
}

func oneZero(b bool) string {
	if b {
		return "1"
	}
	return "0"
}
