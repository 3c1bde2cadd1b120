package demo

import (
	"cmp"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"time"

	"github.com/google/uuid"

	"github.com/passage-cm/passage/internal/civildate"
	"github.com/passage-cm/passage/internal/country"
	commonv1 "github.com/passage-cm/passage/proto/gen/passage/common/v1"
	hasmv1 "github.com/passage-cm/passage/proto/gen/passage/hasm/v1"
	referralv1 "github.com/passage-cm/passage/proto/gen/passage/referral/v1"
	returnsv1 "github.com/passage-cm/passage/proto/gen/passage/returns/v1"
	traffickingv1 "github.com/passage-cm/passage/proto/gen/passage/trafficking/v1"
)

// Config says which caseload to plan.
type Config struct {
	// Year of the caseload: every date falls in it. Before the current year, so that no
	// date is in the future.
	Year int
	// Scale multiplies every count: 1 is the published year (about 69,000 AVRR persons),
	// 0.02 a quick demo. Shares stay as published at any scale.
	Scale float64
	// Seed makes the plan: the same seed, year and scale give the same plan, request ids
	// included.
	Seed uint64
}

// Region is an IOM regional office's grouping of countries (ISO 3166-1 alpha-3).
type Region struct {
	Code      string
	Countries []string
}

// Person is one synthetic person: names, date of birth and document are placeholders that
// no real person carries.
type Person struct {
	GivenName, FamilyName string
	Born                  time.Time
	Sex                   commonv1.Sex
	Nationality           string
	// Passport is a "DEMO…" number, or empty.
	Passport string
}

// AVRRCase is one assisted voluntary return: registered, found eligible, prepared and
// departed within the year.
type AVRRCase struct {
	// Serial numbers the plan's AVRR cases from 0; request ids derive from it.
	Serial int
	// Host is the host country and the mission that registers the case.
	Host, Return    string
	People          []Person // the principal applicant first
	Vulnerabilities []commonv1.Vulnerability
	Registered      time.Time
	Counselled      time.Time
	Decided         time.Time
	// Steps are the pre-departure steps in order: the safeguards the vulnerabilities require,
	// then the travel arrangements.
	Steps    []*returnsv1.PreDepartureStep
	Departed time.Time
}

// HASMCase is one stranded migrant's request: approved at HQ and departed, or rejected.
type HASMCase struct {
	Serial            int
	Host, Nationality string
	People            []Person
	Registered        time.Time
	StrandedReason    hasmv1.StrandedReason
	NoOtherAssistance hasmv1.NoOtherAssistanceReason
	// EstimatedCost in US cents.
	EstimatedCost int64
	Approve       bool
	Rejection     hasmv1.RejectionReason
	Departed      time.Time // zero when rejected
}

// VictimCase is one victim of trafficking: screened, with the exploitation recorded in the
// CTDC vocabulary and one assistance.
type VictimCase struct {
	Serial          int
	Host            string
	Person          Person
	Registered      time.Time
	Screened        time.Time
	Identification  traffickingv1.IdentificationStatus
	IdentifiedBy    traffickingv1.IdentifyingAuthority
	Exploitation    *traffickingv1.Exploitation
	Assistance      traffickingv1.AssistanceType
	AssistanceStart time.Time
	// ReferTo is the partner (an index in Plan.Partners) the victim is referred to for
	// shelter, with their consent to sharing with that category of partner; Referral is where
	// the referral ends: SENT (not answered), ACCEPTED, DECLINED or COMPLETED.
	ReferTo  int
	Referral referralv1.ReferralStatus
}

// Partner is an agency of the demo's referral registry.
type Partner struct {
	Code     string
	Category commonv1.PartnerCategory
	// Countries are where it works: every host country of the plan's victims.
	Countries []string
}

// demoPartners are the agencies victims are referred to: an NGO running shelters and a
// government's social services, the two kinds a national referral mechanism involves most.
var demoPartners = []Partner{
	{Code: "DEMO-NGO-SHELTER", Category: commonv1.PartnerCategory_PARTNER_CATEGORY_NGO},
	{Code: "DEMO-GOV-SOCIAL", Category: commonv1.PartnerCategory_PARTNER_CATEGORY_GOVERNMENT},
}

// referralOutcomes are the referrals' ends, in turn.
var referralOutcomes = []referralv1.ReferralStatus{
	referralv1.ReferralStatus_REFERRAL_STATUS_COMPLETED, referralv1.ReferralStatus_REFERRAL_STATUS_ACCEPTED,
	referralv1.ReferralStatus_REFERRAL_STATUS_DECLINED, referralv1.ReferralStatus_REFERRAL_STATUS_SENT,
}

// Plan is the whole caseload, computed before anything is loaded.
type Plan struct {
	Config Config
	AVRR   []AVRRCase
	HASM   []HASMCase
	Victim []VictimCase
	// Partners are the agencies victims are referred to.
	Partners []Partner
	// FundCode and FundBudget are the HASM fund HQ decides against (US cents).
	FundCode   string
	FundBudget int64
	// Figures are what the plan adds up to, as analytics should count them.
	Figures Figures
	// namespace derives the request ids.
	namespace uuid.UUID
}

// Persons is how many people the plan registers.
func (p *Plan) Persons() int {
	n := len(p.Victim)
	for _, c := range p.AVRR {
		n += len(c.People)
	}
	for _, c := range p.HASM {
		n += len(c.People)
	}
	return n
}

// Cases is how many cases the plan registers.
func (p *Plan) Cases() int { return len(p.AVRR) + len(p.HASM) + len(p.Victim) }

// RequestID is the request id of one step of one case: a name-based UUID under the plan's
// namespace, so that running the plan again replays instead of writing twice.
func (p *Plan) RequestID(programme string, serial int, step string) string {
	return uuid.NewSHA1(p.namespace, fmt.Appendf(nil, "%s/%d/%s", programme, serial, step)).String()
}

// NewPlan computes the caseload for cfg over the IOM regions. It is deterministic: the same
// configuration and regions give the same plan.
func NewPlan(cfg Config, regions []Region) (*Plan, error) {
	if cfg.Year < 2000 || cfg.Year >= time.Now().UTC().Year() {
		return nil, fmt.Errorf("year %d: must be from 2000 to last year, so that no date is in the future", cfg.Year)
	}
	if !(cfg.Scale > 0) || cfg.Scale > 20 {
		return nil, fmt.Errorf("scale %g: must be above 0 and at most 20", cfg.Scale)
	}
	geo, err := newGeography(regions)
	if err != nil {
		return nil, err
	}
	p := &Plan{
		Config:    cfg,
		FundCode:  fmt.Sprintf("HASM-DEMO-%d", cfg.Year),
		namespace: uuid.NewSHA1(uuid.NameSpaceURL, fmt.Appendf(nil, "https://passage-cm.org/demo/seed/%d/%d/%g", cfg.Seed, cfg.Year, cfg.Scale)),
	}
	b := &builder{cfg: cfg, geo: geo, rng: rand.New(rand.NewPCG(cfg.Seed, 0x2015_a77e))}
	if p.AVRR, err = b.avrr(); err != nil {
		return nil, err
	}
	if p.HASM, err = b.hasm(); err != nil {
		return nil, err
	}
	p.Victim = b.victims()
	// Every victim is referred once, to each partner in turn, and the referrals end in each
	// outcome in turn: deterministic, and every status and partner type occurs.
	var hosts []string
	for _, v := range p.Victim {
		hosts = append(hosts, v.Host)
	}
	slices.Sort(hosts)
	hosts = slices.Compact(hosts)
	for _, pt := range demoPartners {
		pt.Countries = hosts
		p.Partners = append(p.Partners, pt)
	}
	for i := range p.Victim {
		p.Victim[i].ReferTo = i % len(p.Partners)
		p.Victim[i].Referral = referralOutcomes[(i/len(p.Partners))%len(referralOutcomes)]
	}
	for _, c := range p.HASM {
		if c.Approve {
			p.FundBudget += c.EstimatedCost
		}
	}
	p.Figures = figuresOf(p, geo)
	return p, nil
}

// geography is the regions, with only the countries the services accept.
type geography struct {
	codes    []string
	members  map[string][]string // region code -> valid countries, sorted
	regionOf map[string]string
}

func newGeography(regions []Region) (*geography, error) {
	g := &geography{members: map[string][]string{}, regionOf: map[string]string{}}
	for _, r := range regions {
		var cs []string
		for _, c := range r.Countries {
			if country.Valid(c) {
				cs = append(cs, c)
				g.regionOf[c] = r.Code
			}
		}
		slices.Sort(cs)
		g.members[r.Code] = cs
		g.codes = append(g.codes, r.Code)
	}
	for _, s := range append(slices.Clone(hostShares), returnShares...) {
		if len(g.members[s.region]) == 0 {
			return nil, fmt.Errorf("region %s: not among the regions, or without countries", s.region)
		}
	}
	return g, nil
}

type builder struct {
	cfg Config
	geo *geography
	rng *rand.Rand
	// hosts and origins are the AVRR plan's countries, where victims are identified and
	// where they come from.
	hosts, origins []string
}

// distinct returns the values of cs once each, sorted.
func distinct(cs []string) []string {
	out := slices.Clone(cs)
	slices.Sort(out)
	return slices.Compact(out)
}

func (b *builder) scaled(n int) int { return int(math.Round(float64(n) * b.cfg.Scale)) }

// pickCountries chooses, for each region in the spread, its countries in order of weight:
// the prominent ones the region holds first, then the others shuffled. A region with fewer
// countries than asked passes the excess on to the next regions with room.
func (b *builder) pickCountries(spreads []spread, prominent map[string][]string) map[string][]string {
	ordered := map[string][]string{}
	for _, s := range spreads {
		members := b.geo.members[s.region]
		var first []string
		for _, c := range prominent[s.region] {
			if slices.Contains(members, c) && !slices.Contains(first, c) {
				first = append(first, c)
			}
		}
		var rest []string
		for _, c := range members {
			if !slices.Contains(first, c) {
				rest = append(rest, c)
			}
		}
		b.rng.Shuffle(len(rest), func(i, j int) { rest[i], rest[j] = rest[j], rest[i] })
		ordered[s.region] = append(first, rest...)
	}
	want := map[string]int{}
	excess := 0
	for _, s := range spreads {
		n := min(s.countries, len(ordered[s.region]))
		want[s.region], excess = n, excess+s.countries-n
	}
	for _, s := range spreads {
		room := len(ordered[s.region]) - want[s.region]
		take := min(room, excess)
		want[s.region] += take
		excess -= take
	}
	out := map[string][]string{}
	for _, s := range spreads {
		out[s.region] = ordered[s.region][:want[s.region]]
	}
	return out
}

// allocate gives each region its persons by share (largest remainder), then each of the
// region's countries its persons (at least one each while the region has enough, else the
// first ones), falling with rank. It returns one country per person, in region order.
func (b *builder) allocate(total int, shares []share, countries map[string][]string) []string {
	weights := make([]float64, len(shares))
	for i, s := range shares {
		weights[i] = s.percent
	}
	perRegion := apportion(total, weights)
	var out []string
	for i, s := range shares {
		cs := countries[s.region]
		if perRegion[i] < len(cs) {
			cs = cs[:perRegion[i]]
		}
		counts, err := apportionAtLeastOne(perRegion[i], zipf(len(cs), 1.1))
		if err != nil { // unreachable: cs was cut to the region's persons
			panic(err)
		}
		for j, c := range cs {
			for range counts[j] {
				out = append(out, c)
			}
		}
	}
	return out
}

// avrr plans the AVRR year: persons to host and return countries and sexes by the published
// shares, grouped into cases (households share host and return country), each with its
// vulnerabilities, dates and pre-departure steps.
func (b *builder) avrr() ([]AVRRCase, error) {
	persons := b.scaled(avrrPersons)
	if persons < 1 {
		return nil, errors.New("the scale leaves no AVRR person: raise it")
	}
	hosts := b.allocate(persons, hostShares, b.pickCountries(hostSpread, prominentHosts))
	returns := b.allocate(persons, returnShares, b.pickCountries(originSpread, prominentOrigins))
	b.rng.Shuffle(len(returns), func(i, j int) { returns[i], returns[j] = returns[j], returns[i] })
	// Nobody returns to the country they are in: swap such a return with another person's
	// where neither then matches. The country totals do not change.
	for i := range returns {
		if hosts[i] != returns[i] {
			continue
		}
		start := b.rng.IntN(len(returns))
		for k := range returns {
			j := (start + k) % len(returns)
			if hosts[j] != returns[i] && hosts[i] != returns[j] {
				returns[i], returns[j] = returns[j], returns[i]
				break
			}
		}
		if hosts[i] == returns[i] {
			return nil, fmt.Errorf("cannot plan %d persons without someone returning to their host country: raise the scale", persons)
		}
	}
	b.hosts, b.origins = distinct(hosts), distinct(returns)
	sexes := b.sexes(persons, avrrMalePercent, avrrFemalePercent)

	// Households: the people of a case share host and return country.
	type route struct{ host, ret string }
	byRoute := map[route][]int{}
	var routes []route
	for i := range hosts {
		r := route{hosts[i], returns[i]}
		if _, ok := byRoute[r]; !ok {
			routes = append(routes, r)
		}
		byRoute[r] = append(byRoute[r], i)
	}
	slices.SortFunc(routes, func(a, c route) int { return cmp.Or(cmp.Compare(a.host, c.host), cmp.Compare(a.ret, c.ret)) })
	var cases []AVRRCase
	for _, r := range routes {
		idx := byRoute[r]
		for len(idx) > 0 {
			size := min(len(idx), 1+b.pick(householdSizes))
			c := AVRRCase{Serial: len(cases), Host: r.host, Return: r.ret}
			for _, i := range idx[:size] {
				c.People = append(c.People, Person{Sex: sexes[i], Nationality: r.ret})
			}
			idx = idx[size:]
			cases = append(cases, c)
		}
	}
	// Registration order is not route order: shuffle, then number.
	b.rng.Shuffle(len(cases), func(i, j int) { cases[i], cases[j] = cases[j], cases[i] })
	for i := range cases {
		cases[i].Serial = i
	}
	b.vulnerabilities(cases)
	for i := range cases {
		b.avrrDetails(&cases[i])
	}
	return cases, nil
}

// sexes returns n sexes, male and female counts by the shares (largest remainder), shuffled.
func (b *builder) sexes(n int, male, female float64) []commonv1.Sex {
	counts := apportion(n, []float64{male, female})
	out := make([]commonv1.Sex, 0, n)
	for range counts[0] {
		out = append(out, commonv1.Sex_SEX_MALE)
	}
	for range counts[1] {
		out = append(out, commonv1.Sex_SEX_FEMALE)
	}
	b.rng.Shuffle(n, func(i, j int) { out[i], out[j] = out[j], out[i] })
	return out
}

// pick draws an index with the given chances.
func (b *builder) pick(chances []float64) int {
	x := b.rng.Float64()
	for i, c := range chances {
		if x < c {
			return i
		}
		x -= c
	}
	return len(chances) - 1
}

// vulnerabilities marks the vulnerable cases: unaccompanied children among the
// single-person cases, victims of trafficking and medical needs among the others.
func (b *builder) vulnerabilities(cases []AVRRCase) {
	order := b.rng.Perm(len(cases))
	umc := int(math.Round(umcCaseShare * float64(len(cases))))
	vot := int(math.Round(votCaseShare * float64(len(cases))))
	medical := int(math.Round(medicalCaseShare * float64(len(cases))))
	for _, i := range order {
		c := &cases[i]
		switch {
		case umc > 0 && len(c.People) == 1:
			c.Vulnerabilities = []commonv1.Vulnerability{commonv1.Vulnerability_VULNERABILITY_UNACCOMPANIED_MIGRANT_CHILD}
			umc--
		case vot > 0:
			c.Vulnerabilities = []commonv1.Vulnerability{commonv1.Vulnerability_VULNERABILITY_VICTIM_OF_TRAFFICKING}
			vot--
			if medical > 0 && b.rng.IntN(4) == 0 { // some victims also have medical needs
				c.Vulnerabilities = append(c.Vulnerabilities, commonv1.Vulnerability_VULNERABILITY_MEDICAL_NEEDS)
				medical--
			}
		case medical > 0:
			c.Vulnerabilities = []commonv1.Vulnerability{commonv1.Vulnerability_VULNERABILITY_MEDICAL_NEEDS}
			medical--
		}
	}
}

// avrrDetails fills in a case's people, dates and pre-departure steps.
func (b *builder) avrrDetails(c *AVRRCase) {
	year := b.startOfYear()
	days := b.daysInYear()
	// Departure from the 61st day on, registration 20 to 59 days before it, counselling and
	// the decision within the next eight days, the steps between the decision and departure.
	c.Departed = year.AddDate(0, 0, 60+b.rng.IntN(days-60))
	c.Registered = c.Departed.AddDate(0, 0, -(20 + b.rng.IntN(40)))
	c.Counselled = c.Registered.AddDate(0, 0, 1+b.rng.IntN(3))
	c.Decided = c.Counselled.AddDate(0, 0, 1+b.rng.IntN(5))
	child := slices.Contains(c.Vulnerabilities, commonv1.Vulnerability_VULNERABILITY_UNACCOMPANIED_MIGRANT_CHILD)
	family := fmt.Sprintf("Demo-A%06d", c.Serial)
	for k := range c.People {
		p := &c.People[k]
		switch {
		case k == 0 && child:
			p.Born = b.bornAged(c.Registered, 14, 17)
		case k <= 1:
			p.Born = b.bornAged(c.Registered, 18, 55)
		default:
			p.Born = b.bornAged(c.Registered, 0, 17)
		}
		p.GivenName, p.FamilyName = b.givenName(), family
		if k == 0 {
			p.Passport = fmt.Sprintf("DEMO%07d", c.Serial)
		}
	}
	gap := int(c.Departed.Sub(c.Decided).Hours()/24) - 1
	stepDay := func() time.Time { return c.Decided.AddDate(0, 0, 1+b.rng.IntN(max(gap, 1))) }
	var steps []*returnsv1.PreDepartureStep
	add := func(s *returnsv1.PreDepartureStep) { steps = append(steps, s) }
	for _, v := range c.Vulnerabilities {
		switch v {
		case commonv1.Vulnerability_VULNERABILITY_UNACCOMPANIED_MIGRANT_CHILD:
			add(&returnsv1.PreDepartureStep{Step: &returnsv1.PreDepartureStep_GuardianAppointed{GuardianAppointed: &returnsv1.GuardianAppointed{}}})
			add(&returnsv1.PreDepartureStep{Step: &returnsv1.PreDepartureStep_BestInterestsAssessment{BestInterestsAssessment: returnsv1.BestInterests_BEST_INTERESTS_RETURN_IN_BEST_INTERESTS}})
		case commonv1.Vulnerability_VULNERABILITY_VICTIM_OF_TRAFFICKING:
			add(&returnsv1.PreDepartureStep{Step: &returnsv1.PreDepartureStep_RiskAssessment{RiskAssessment: returnsv1.RiskLevel(1 + b.rng.IntN(3))}})
		case commonv1.Vulnerability_VULNERABILITY_MEDICAL_NEEDS:
			add(&returnsv1.PreDepartureStep{Step: &returnsv1.PreDepartureStep_FitToTravel{FitToTravel: returnsv1.FitToTravel_FIT_TO_TRAVEL_PASSED}})
			add(&returnsv1.PreDepartureStep{Step: &returnsv1.PreDepartureStep_MedicalEscort{MedicalEscort: &returnsv1.MedicalEscortArranged{}}})
		}
	}
	if b.rng.IntN(3) == 0 { // a third need a travel document issued
		add(&returnsv1.PreDepartureStep{Step: &returnsv1.PreDepartureStep_TravelDocument{TravelDocument: commonv1.DocumentType_DOCUMENT_TYPE_EMERGENCY_TRAVEL_DOCUMENT}})
	}
	mode := returnsv1.TravelMode_TRAVEL_MODE_AIR
	if b.rng.IntN(10) == 0 {
		mode = returnsv1.TravelMode_TRAVEL_MODE_LAND
	}
	add(&returnsv1.PreDepartureStep{Step: &returnsv1.PreDepartureStep_Booking{Booking: mode}})
	on := make([]time.Time, len(steps))
	for i := range on {
		on[i] = stepDay()
	}
	slices.SortFunc(on, func(x, y time.Time) int { return x.Compare(y) })
	for i, s := range steps {
		s.Date = civildate.FromTime(on[i])
	}
	c.Steps = steps
}

func (b *builder) startOfYear() time.Time {
	return time.Date(b.cfg.Year, time.January, 1, 0, 0, 0, 0, time.UTC)
}

func (b *builder) daysInYear() int {
	return int(b.startOfYear().AddDate(1, 0, 0).Sub(b.startOfYear()).Hours() / 24)
}

// bornAged returns a date of birth for someone aged lo to hi (whole years) on day at.
func (b *builder) bornAged(at time.Time, lo, hi int) time.Time {
	age := lo + b.rng.IntN(hi-lo+1)
	return at.AddDate(-age, 0, -b.rng.IntN(365))
}

// syllables make the placeholder given names: pronounceable, and no one's.
var syllables = []string{"Ka", "Lo", "Mi", "Ru", "Te", "Sa", "No", "Vi", "Da", "Pe", "Zu", "Fo", "Bi", "Xa"}

func (b *builder) givenName() string {
	n := 2 + b.rng.IntN(2)
	s := ""
	for i := range n {
		syl := syllables[b.rng.IntN(len(syllables))]
		if i > 0 {
			syl = string(syl[0]+'a'-'A') + syl[1:]
		}
		s += syl
	}
	return s
}

// hasm plans the HASM year: the individuals spread over the nationalities (every one
// present), grouped in small households stranded in a handful of countries, each request
// approved; then the rejected requests, single people of the same nationalities.
func (b *builder) hasm() ([]HASMCase, error) {
	individuals := b.scaled(hasmIndividuals)
	if individuals == 0 {
		return nil, nil
	}
	nationalities := b.hasmNationalities(min(hasmNationalities, individuals))
	counts, err := apportionAtLeastOne(individuals, zipf(len(nationalities), 0.8))
	if err != nil {
		return nil, err
	}
	var cases []HASMCase
	for i, nat := range nationalities {
		left := counts[i]
		for left > 0 {
			size := min(left, 1+b.pick(hasmHouseholdSizes))
			left -= size
			cases = append(cases, HASMCase{Nationality: nat, People: make([]Person, size), Approve: true})
		}
	}
	approved := len(cases)
	rejected := max(1, int(math.Round(hasmRejectShare*float64(approved))))
	for range rejected {
		nat := nationalities[b.rng.IntN(len(nationalities))]
		cases = append(cases, HASMCase{Nationality: nat, People: make([]Person, 1),
			Rejection: []hasmv1.RejectionReason{
				hasmv1.RejectionReason_REJECTION_REASON_OTHER_ASSISTANCE_AVAILABLE,
				hasmv1.RejectionReason_REJECTION_REASON_NOT_ELIGIBLE,
				hasmv1.RejectionReason_REJECTION_REASON_COST_NOT_JUSTIFIED,
			}[b.rng.IntN(3)]})
	}
	b.rng.Shuffle(len(cases), func(i, j int) { cases[i], cases[j] = cases[j], cases[i] })
	hosts := slices.DeleteFunc(slices.Clone(hasmHosts), func(c string) bool { return !country.Valid(c) })
	year, days := b.startOfYear(), b.daysInYear()
	for i := range cases {
		c := &cases[i]
		c.Serial = i
		for c.Host = hosts[b.rng.IntN(len(hosts))]; c.Host == c.Nationality; c.Host = hosts[b.rng.IntN(len(hosts))] {
		}
		c.Registered = year.AddDate(0, 0, b.rng.IntN(days-45))
		if c.Approve {
			c.Departed = c.Registered.AddDate(0, 0, 7+b.rng.IntN(30))
		}
		c.StrandedReason = hasmv1.StrandedReason(1 + b.rng.IntN(7))
		c.NoOtherAssistance = hasmv1.NoOtherAssistanceReason(1 + b.rng.IntN(3))
		family := fmt.Sprintf("Demo-H%05d", c.Serial)
		for k := range c.People {
			p := &c.People[k]
			p.GivenName, p.FamilyName, p.Nationality = b.givenName(), family, c.Nationality
			p.Sex = []commonv1.Sex{commonv1.Sex_SEX_MALE, commonv1.Sex_SEX_MALE, commonv1.Sex_SEX_FEMALE}[b.rng.IntN(3)]
			if k == 0 {
				p.Born = b.bornAged(c.Registered, 18, 60)
				p.Passport = fmt.Sprintf("DEMO%07d", 5_000_000+c.Serial)
			} else {
				p.Born = b.bornAged(c.Registered, 0, 40)
			}
			c.EstimatedCost += int64(30_000 + b.rng.IntN(150_000)) // 300 to 1,800 USD a person
		}
	}
	return cases, nil
}

// hasmNationalities chooses n countries of origin outside the EU, Norway and Switzerland,
// the prominent AVRR origins first.
func (b *builder) hasmNationalities(n int) []string {
	var pool []string
	for _, s := range returnShares {
		if s.region == "EEA" {
			continue
		}
		for _, c := range prominentOrigins[s.region] {
			if slices.Contains(b.geo.members[s.region], c) && !slices.Contains(pool, c) {
				pool = append(pool, c)
			}
		}
	}
	var rest []string
	for _, code := range b.geo.codes {
		if code == "EEA" {
			continue
		}
		for _, c := range b.geo.members[code] {
			if !slices.Contains(pool, c) {
				rest = append(rest, c)
			}
		}
	}
	b.rng.Shuffle(len(pool), func(i, j int) { pool[i], pool[j] = pool[j], pool[i] })
	b.rng.Shuffle(len(rest), func(i, j int) { rest[i], rest[j] = rest[j], rest[i] })
	return append(pool, rest...)[:n]
}

// exploitationTypes are the CTDC types with their chances among victims assisted by IOM
// (illustrative, after the CTDC's published breakdown: forced labour and sexual
// exploitation first).
var exploitationTypes = []struct {
	t      traffickingv1.ExploitationType
	chance float64
}{
	{traffickingv1.ExploitationType_EXPLOITATION_TYPE_FORCED_LABOUR, 0.45},
	{traffickingv1.ExploitationType_EXPLOITATION_TYPE_SEXUAL_EXPLOITATION, 0.38},
	{traffickingv1.ExploitationType_EXPLOITATION_TYPE_FORCED_CRIMINAL_ACTIVITY, 0.04},
	{traffickingv1.ExploitationType_EXPLOITATION_TYPE_FORCED_BEGGING, 0.04},
	{traffickingv1.ExploitationType_EXPLOITATION_TYPE_FORCED_MARRIAGE, 0.03},
	{traffickingv1.ExploitationType_EXPLOITATION_TYPE_SLAVERY_AND_SIMILAR_PRACTICES, 0.03},
	{traffickingv1.ExploitationType_EXPLOITATION_TYPE_OTHER, 0.03},
}

// victims plans the victims of trafficking: identified (or presumed) in a host country of
// the AVRR plan, from one of its countries of origin, with the exploitation's types, means
// of control, countries and years, and one assistance.
func (b *builder) victims() []VictimCase {
	n := b.scaled(victimsAtFullScale)
	sexes := b.sexes(n, 40, 60)
	hosts, origins := b.hosts, b.origins
	chances := make([]float64, len(exploitationTypes))
	for i, e := range exploitationTypes {
		chances[i] = e.chance
	}
	year, days := b.startOfYear(), b.daysInYear()
	out := make([]VictimCase, n)
	for i := range out {
		v := &out[i]
		v.Serial = i
		v.Host = hosts[b.rng.IntN(len(hosts))]
		nat := origins[b.rng.IntN(len(origins))]
		for nat == v.Host {
			nat = origins[b.rng.IntN(len(origins))]
		}
		v.Registered = year.AddDate(0, 0, b.rng.IntN(days-30))
		v.Screened = v.Registered.AddDate(0, 0, b.rng.IntN(10))
		v.AssistanceStart = v.Screened.AddDate(0, 0, b.rng.IntN(10))
		child := b.rng.IntN(10) == 0
		v.Person = Person{GivenName: b.givenName(), FamilyName: fmt.Sprintf("Demo-V%05d", i), Sex: sexes[i], Nationality: nat}
		if child {
			v.Person.Born = b.bornAged(v.Registered, 12, 17)
		} else {
			v.Person.Born = b.bornAged(v.Registered, 18, 45)
		}
		v.Identification = traffickingv1.IdentificationStatus_IDENTIFICATION_STATUS_IDENTIFIED_VICTIM
		if b.rng.IntN(7) == 0 {
			v.Identification = traffickingv1.IdentificationStatus_IDENTIFICATION_STATUS_PRESUMED_VICTIM
		}
		v.IdentifiedBy = traffickingv1.IdentifyingAuthority(1 + b.rng.IntN(3))
		types := []traffickingv1.ExploitationType{exploitationTypes[b.pick(chances)].t}
		if b.rng.IntN(7) == 0 {
			if t := exploitationTypes[b.pick(chances)].t; t != types[0] {
				types = append(types, t)
			}
		}
		means := map[traffickingv1.MeansOfControl]bool{}
		for range 1 + b.rng.IntN(3) {
			means[traffickingv1.MeansOfControl(1+b.rng.IntN(16))] = true
		}
		meansList := make([]traffickingv1.MeansOfControl, 0, len(means))
		for m := range means {
			meansList = append(meansList, m)
		}
		slices.Sort(meansList)
		countries := []string{v.Host}
		if b.rng.IntN(5) == 0 {
			countries = []string{nat}
		}
		start := b.cfg.Year - b.rng.IntN(3)
		v.Exploitation = &traffickingv1.Exploitation{
			Types: types, MeansOfControl: meansList, CountriesOfExploitation: countries,
			StartYear: int32(start), EndYear: int32(b.cfg.Year), ChildAtExploitation: child,
			RecruiterRelationship: traffickingv1.RecruiterRelationship(1 + b.rng.IntN(5)),
		}
		v.Assistance = []traffickingv1.AssistanceType{
			traffickingv1.AssistanceType_ASSISTANCE_TYPE_ACCOMMODATION,
			traffickingv1.AssistanceType_ASSISTANCE_TYPE_MEDICAL,
			traffickingv1.AssistanceType_ASSISTANCE_TYPE_PSYCHOSOCIAL,
			traffickingv1.AssistanceType_ASSISTANCE_TYPE_LEGAL,
		}[b.rng.IntN(4)]
	}
	return out
}
