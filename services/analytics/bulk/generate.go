package bulk

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"strings"

	"github.com/passage-cm/passage/internal/region"
	"github.com/passage-cm/passage/services/analytics/projector"
)

// Fact is one row of analytics.fact: one person counted by one measure, coded as the
// projector codes it ("" where a dimension does not apply, empty sets for none).
type Fact struct {
	EventID           int64
	Ordinal           int16
	Measure           string
	Year              int16
	Programme         string
	Sex               string
	AgeBand           string
	Nationality       string
	HostCountry       string
	ReturnCountry     string
	Vulnerabilities   []string
	AssistanceType    string
	ExploitationTypes []string
	MeansOfControl    []string
}

// RollupKey is a fact's key in analytics.rollup (every dimension but the means of control).
type RollupKey struct {
	Measure, Programme, Sex, AgeBand, Nationality, HostCountry, ReturnCountry string
	Year                                                                      int16
	Vulnerabilities, AssistanceType, ExploitationTypes                        string // sets joined by ","
}

// Key returns f's rollup key.
func (f *Fact) Key() RollupKey {
	return RollupKey{
		Measure: f.Measure, Year: f.Year, Programme: f.Programme, Sex: f.Sex, AgeBand: f.AgeBand,
		Nationality: f.Nationality, HostCountry: f.HostCountry, ReturnCountry: f.ReturnCountry,
		Vulnerabilities: join(f.Vulnerabilities), AssistanceType: f.AssistanceType,
		ExploitationTypes: join(f.ExploitationTypes),
	}
}

func join(s []string) string { return strings.Join(s, ",") }

// Config shapes the synthetic population.
type Config struct {
	Seed                uint64
	FirstYear, LastYear int
}

// DefaultConfig covers 2010 to 2025.
func DefaultConfig(seed uint64) Config { return Config{Seed: seed, FirstYear: 2010, LastYear: 2025} }

// weighted draws index i with probability w[i]/sum(w), by a cumulative table.
type weighted struct {
	cum []float64
}

func newWeighted(w []float64) weighted {
	cum := make([]float64, len(w))
	var s float64
	for i, x := range w {
		s += x
		cum[i] = s
	}
	for i := range cum {
		cum[i] /= s
	}
	return weighted{cum: cum}
}

func (w weighted) draw(r *rand.Rand) int {
	i, _ := slices.BinarySearch(w.cum, r.Float64())
	return min(i, len(w.cum)-1)
}

func zipf(n int, s float64) []float64 {
	w := make([]float64, n)
	for i := range w {
		w[i] = 1 / math.Pow(float64(i+1), s)
	}
	return w
}

// The seed's 2015 shares (host and return regions of AVRR); the rest spread over the
// other regions by rough size.
var (
	hostRegionShare   = map[string]float64{"EEA": 80.72, "MENA": 8.28, "APAC": 4.91, "SEEECA": 2.4, "CNAC": 1.3, "WCA": 0.9, "EHoA": 0.6, "SA": 0.5, "SAM": 0.39}
	returnRegionShare = map[string]float64{"SEEECA": 60.59, "APAC": 13.87, "MENA": 7.01, "WCA": 6.2, "EHoA": 4.1, "SAM": 3.3, "CNAC": 2.4, "SA": 1.6, "EEA": 0.93}
)

// countryPick draws a country: a region by share, then a country Zipf-distributed within
// it, in an order shuffled once per seed so that which countries are big is arbitrary.
type countryPick struct {
	regions   []region.Region
	byRegion  weighted
	inRegion  []weighted
	countries [][]string
}

func newCountryPick(r *rand.Rand, share map[string]float64) countryPick {
	var c countryPick
	var w []float64
	for _, reg := range region.All() {
		cs := slices.Clone(reg.Countries)
		r.Shuffle(len(cs), func(i, j int) { cs[i], cs[j] = cs[j], cs[i] })
		c.regions = append(c.regions, reg)
		c.countries = append(c.countries, cs)
		c.inRegion = append(c.inRegion, newWeighted(zipf(len(cs), 1.8)))
		w = append(w, share[reg.Code])
	}
	c.byRegion = newWeighted(w)
	return c
}

func (c countryPick) draw(r *rand.Rand) string {
	i := c.byRegion.draw(r)
	return c.countries[i][c.inRegion[i].draw(r)]
}

// Generator makes persons and their facts. It is deterministic: the persons of chunk n
// depend only on the configuration and n, so chunks can be made concurrently in any order.
type Generator struct {
	cfg         Config
	nationality countryPick
	host        countryPick
	corridors   map[string][]string // per nationality: its main host countries
	years       weighted
	ageBands    weighted
}

var ageBands = []string{"0_8", "9_17", "18_20", "21_23", "24_26", "27_29", "30_38", "39_47", "48_PLUS"}

// NewGenerator prepares the distributions of cfg.
func NewGenerator(cfg Config) (*Generator, error) {
	if cfg.FirstYear < 1900 || cfg.LastYear > 2999 || cfg.LastYear < cfg.FirstYear {
		return nil, fmt.Errorf("bulk: years %d to %d", cfg.FirstYear, cfg.LastYear)
	}
	r := rand.New(rand.NewPCG(cfg.Seed, 0x5eed))
	g := &Generator{cfg: cfg, corridors: map[string][]string{}}
	g.nationality = newCountryPick(r, returnRegionShare)
	g.host = newCountryPick(r, hostRegionShare)
	// Each nationality travels mostly (90%) along two corridors (Iraqis from Germany, Albanians
	// from Greece...): that, not independence, is what keeps the rollup's combinations to
	// what a real caseload has.
	for _, cs := range g.nationality.countries {
		for _, c := range cs {
			g.corridors[c] = []string{g.host.draw(r), g.host.draw(r)}
		}
	}
	// More returns in later years.
	yw := make([]float64, cfg.LastYear-cfg.FirstYear+1)
	for i := range yw {
		yw[i] = 1 + 0.08*float64(i)
	}
	g.years = newWeighted(yw)
	g.ageBands = newWeighted([]float64{9, 6, 7, 10, 12, 11, 25, 13, 7})
	return g, nil
}

// ChunkSize is how many persons one chunk holds.
const ChunkSize = 10_000

// Chunk calls emit for every fact of the persons of chunk n (persons n*ChunkSize up to
// limit, exclusive) and returns how many persons it made. Person i's facts carry the event
// id below-(i+1): below is 0 or the smallest event id already loaded, so that loads add up
// without colliding. The Fact passed to emit is reused: copy what must outlive the call.
func (g *Generator) Chunk(n, limit, below int64, emit func(*Fact) error) (int64, error) {
	r := rand.New(rand.NewPCG(g.cfg.Seed, uint64(n)+1))
	first := n * ChunkSize
	last := min(first+ChunkSize, limit)
	var f Fact
	for id := first; id < last; id++ {
		if err := g.person(r, below-(id+1), &f, emit); err != nil {
			return id - first, err
		}
	}
	return max(last-first, 0), nil
}

var (
	vulnerabilityCodes = []string{"VICTIM_OF_TRAFFICKING", "UNACCOMPANIED_MIGRANT_CHILD", "MEDICAL_NEEDS", "SEPARATED_CHILD",
		"OLDER_PERSON", "DISABILITY", "PREGNANT_OR_LACTATING", "SINGLE_PARENT", "SURVIVOR_OF_GENDER_BASED_VIOLENCE", "MENTAL_HEALTH_NEEDS"}
	vulnerabilityWeights = newWeighted([]float64{8, 6, 30, 4, 10, 8, 6, 12, 6, 10})
	avrrAssistance       = []string{"AVRR_CASH", "AVRR_IN_KIND", "AVRR_BUSINESS_START_UP", "AVRR_VOCATIONAL_TRAINING", "AVRR_HOUSING",
		"AVRR_MEDICAL", "AVRR_EDUCATION", "AVRR_PSYCHOSOCIAL_SUPPORT", "AVRR_REFERRAL_TO_LOCAL_SERVICES", "AVRR_OTHER"}
	avrrAssistanceWeights = newWeighted([]float64{30, 15, 20, 8, 5, 6, 4, 5, 5, 2})
	votAssistance         = []string{"VOT_ACCOMMODATION", "VOT_MEDICAL", "VOT_PSYCHOSOCIAL", "VOT_LEGAL",
		"VOT_EDUCATION_AND_VOCATIONAL", "VOT_FINANCIAL", "VOT_RETURN_AND_REINTEGRATION", "VOT_OTHER"}
	votAssistanceWeights = newWeighted([]float64{25, 20, 20, 10, 8, 7, 8, 2})
	exploitationCodes    = []string{"SEXUAL_EXPLOITATION", "FORCED_LABOUR", "FORCED_MARRIAGE", "SLAVERY_AND_SIMILAR_PRACTICES",
		"FORCED_CRIMINAL_ACTIVITY", "FORCED_BEGGING", "REMOVAL_OF_ORGANS", "OTHER"}
	exploitationWeights = newWeighted([]float64{40, 38, 6, 4, 4, 4, 0.5, 3.5})
	meansWeights        = newWeighted(slices.Repeat([]float64{1}, 15))
	meansCodes          = []string{"DEBT_BONDAGE", "TAKES_EARNINGS", "RESTRICTS_FINANCIAL_ACCESS", "THREATS", "PSYCHOLOGICAL_ABUSE",
		"PHYSICAL_ABUSE", "SEXUAL_ABUSE", "FALSE_PROMISES", "PSYCHOACTIVE_SUBSTANCES", "RESTRICTS_MOVEMENT",
		"RESTRICTS_MEDICAL_CARE", "EXCESSIVE_WORKING_HOURS", "USES_CHILDREN", "THREAT_OF_LAW_ENFORCEMENT", "WITHHOLDS_NECESSITIES"}
)

// set draws 0..max distinct codes (k of them with probability p^k), sorted.
func set(r *rand.Rand, codes []string, w weighted, p float64, most int) []string {
	var out []string
	for len(out) < most && r.Float64() < p {
		c := codes[w.draw(r)]
		if !slices.Contains(out, c) {
			out = append(out, c)
		}
	}
	slices.Sort(out)
	if out == nil {
		out = []string{}
	}
	return out
}

// person emits the facts of one person. Persons come in households: a person is the
// principal of their case with probability 0.6 (so a case has 1.7 persons on average);
// CASES_REGISTERED counts principals only.
func (g *Generator) person(r *rand.Rand, event int64, f *Fact, emit func(*Fact) error) error {
	*f = Fact{EventID: event}
	switch x := r.Float64(); {
	case x < 0.82:
		f.Programme = "AVRR"
	case x < 0.92:
		f.Programme = "VOT"
	default:
		f.Programme = "HASM"
	}
	f.Nationality = g.nationality.draw(r)
	if r.Float64() < 0.9 {
		f.HostCountry = g.corridors[f.Nationality][r.IntN(2)]
	} else {
		f.HostCountry = g.host.draw(r)
	}
	if f.HostCountry == f.Nationality {
		f.HostCountry = g.host.draw(r)
	}
	female := 0.24
	if f.Programme == "VOT" {
		female = 0.7
	}
	switch x := r.Float64(); {
	case x < 0.005:
		f.Sex = "UNKNOWN"
	case x < 0.005+female:
		f.Sex = "FEMALE"
	default:
		f.Sex = "MALE"
	}
	f.AgeBand = ageBands[g.ageBands.draw(r)]
	f.Vulnerabilities = set(r, vulnerabilityCodes, vulnerabilityWeights, 0.08, 2)
	if f.Programme == "VOT" && !slices.Contains(f.Vulnerabilities, "VICTIM_OF_TRAFFICKING") {
		f.Vulnerabilities = append(f.Vulnerabilities, "VICTIM_OF_TRAFFICKING")
		slices.Sort(f.Vulnerabilities)
	}
	f.ExploitationTypes, f.MeansOfControl = []string{}, []string{}
	year := g.cfg.FirstYear + g.years.draw(r)
	principal := r.Float64() < 0.6

	ordinal := int16(0)
	out := func(measure string, y int, ret, assistance string) error {
		f.Measure, f.Year, f.ReturnCountry, f.AssistanceType, f.Ordinal = measure, int16(y), ret, assistance, ordinal
		ordinal++
		return emit(f)
	}
	if principal {
		if err := out(projector.CasesRegistered, year, "", ""); err != nil {
			return err
		}
	}
	// Most return home; a few to a third country.
	ret := f.Nationality
	if r.Float64() < 0.01 {
		ret = g.nationality.draw(r)
	}
	later := func() int { return min(year+r.IntN(2), g.cfg.LastYear) }
	switch f.Programme {
	case "AVRR":
		if r.Float64() < 0.88 {
			departed := later()
			if err := out(projector.PersonsReturned, departed, ret, ""); err != nil {
				return err
			}
			for _, a := range set(r, avrrAssistance, avrrAssistanceWeights, 0.55, 3) {
				if err := out(projector.PersonsAssisted, min(departed+r.IntN(2), g.cfg.LastYear), ret, a); err != nil {
					return err
				}
			}
		}
	case "HASM":
		if principal {
			m := projector.HASMRequestsApproved
			if r.Float64() < 0.15 {
				m = projector.HASMRequestsRejected
			}
			if err := out(m, year, "", ""); err != nil {
				return err
			}
			if m == projector.HASMRequestsRejected {
				return nil
			}
		}
		if r.Float64() < 0.9 {
			if err := out(projector.PersonsReturned, later(), ret, ""); err != nil {
				return err
			}
		}
	case "VOT":
		if principal && r.Float64() < 0.8 {
			f.ExploitationTypes = set(r, exploitationCodes, exploitationWeights, 0.75, 3)
			f.MeansOfControl = set(r, meansCodes, meansWeights, 0.7, 4)
			if err := out(projector.VictimsIdentified, year, "", ""); err != nil {
				return err
			}
			f.ExploitationTypes, f.MeansOfControl = []string{}, []string{}
		}
		// The trafficking service records direct assistance for the victim, the principal.
		if principal {
			for _, a := range set(r, votAssistance, votAssistanceWeights, 0.6, 3) {
				if err := out(projector.PersonsAssisted, later(), "", a); err != nil {
					return err
				}
			}
		}
		if r.Float64() < 0.3 {
			if err := out(projector.PersonsReturned, later(), ret, ""); err != nil {
				return err
			}
		}
	}
	return nil
}
