package main

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"google.golang.org/genproto/googleapis/type/date"
	"google.golang.org/protobuf/proto"

	commonv1 "github.com/passage-cm/passage/proto/gen/passage/common/v1"
	intakev1 "github.com/passage-cm/passage/proto/gen/passage/intake/v1"
)

// Kind is what a call does to the server.
type Kind int

const (
	// KindNew registers a case for people never sent before.
	KindNew Kind = iota
	// KindReregister registers an earlier principal again (same passport) under a new request
	// id: duplicate detection must report the earlier case.
	KindReregister
	// KindReplay resends an earlier request unchanged: the server must answer with the case
	// it created the first time, as for a client retrying after a lost reply.
	KindReplay
)

func (k Kind) String() string {
	switch k {
	case KindNew:
		return "new"
	case KindReregister:
		return "re-register"
	case KindReplay:
		return "replay"
	}
	return fmt.Sprintf("Kind(%d)", int(k))
}

// Mix is the share of calls of each kind besides KindNew, as fractions of all calls.
type Mix struct {
	Reregister, Replay float64
}

// defaultMix re-registers 2% and replays 1%: enough for both paths to do real work under
// load without turning the benchmark into one of them.
var defaultMix = Mix{Reregister: 0.02, Replay: 0.01}

// memorySize is how many earlier registrations a client keeps to re-register or replay.
const memorySize = 256

// Call is one RegisterCase to send, with what the answer must show.
type Call struct {
	Kind Kind
	Req  *intakev1.RegisterCaseRequest
	// Earlier is the case id of the earlier registration a re-registration must be flagged
	// against, or that a replay must return.
	Earlier string
}

// Workload makes one client's calls. It is not safe for concurrent use: each client has its
// own, seeded apart, so a run is reproducible from its seed (request ids aside).
type Workload struct {
	rng          *rand.Rand
	mission      string
	hostCountry  string
	maxHousehold int
	mix          Mix
	today        time.Time
	newID        func() string

	// memory holds recent successful new registrations, as a ring.
	memory []registered
	next   int
}

type registered struct {
	req    *intakev1.RegisterCaseRequest
	caseID string
}

// WorkloadConfig configures NewWorkload.
type WorkloadConfig struct {
	// Seed and Client pick the random stream: clients of one run share the seed and differ
	// by Client.
	Seed, Client uint64
	Mission      string
	HostCountry  string
	// MaxHousehold is the largest household; each case has 0 to MaxHousehold members.
	MaxHousehold int
	Mix          Mix
	// Today is the registration day (UTC): dates of birth and consents are not after it.
	Today time.Time
	// NewID returns a fresh request id. Request ids are not derived from the seed: rerunning
	// a seed against the same database would otherwise replay the previous run.
	NewID func() string
}

// NewWorkload returns a client's workload.
func NewWorkload(c WorkloadConfig) *Workload {
	y, m, d := c.Today.UTC().Date()
	return &Workload{
		rng:          rand.New(rand.NewPCG(c.Seed, c.Client)),
		mission:      c.Mission,
		hostCountry:  c.HostCountry,
		maxHousehold: c.MaxHousehold,
		mix:          c.Mix,
		today:        time.Date(y, m, d, 0, 0, 0, 0, time.UTC),
		newID:        c.NewID,
	}
}

// Next returns the next call. Re-registrations and replays need an earlier success to refer
// to; until Remember has been called, every call is new.
func (w *Workload) Next() Call {
	r := w.rng.Float64()
	if len(w.memory) > 0 {
		switch {
		case r < w.mix.Replay:
			e := w.memory[w.rng.IntN(len(w.memory))]
			return Call{Kind: KindReplay, Req: e.req, Earlier: e.caseID}
		case r < w.mix.Replay+w.mix.Reregister:
			e := w.memory[w.rng.IntN(len(w.memory))]
			req := w.request(proto.CloneOf(e.req.GetPrincipal()))
			return Call{Kind: KindReregister, Req: req, Earlier: e.caseID}
		}
	}
	return Call{Kind: KindNew, Req: w.request(nil)}
}

// Remember records a successful call so that later calls can re-register or replay it. Only
// new registrations are kept: they are the ones with a single earlier case to point at.
func (w *Workload) Remember(c Call, caseID string) {
	if c.Kind != KindNew {
		return
	}
	e := registered{req: c.Req, caseID: caseID}
	if len(w.memory) < memorySize {
		w.memory = append(w.memory, e)
		return
	}
	w.memory[w.next] = e
	w.next = (w.next + 1) % memorySize
}

// request builds a registration; principal, when not nil, is an earlier principal coming
// back, with a new household and new consents.
func (w *Workload) request(principal *commonv1.Person) *intakev1.RegisterCaseRequest {
	req := &intakev1.RegisterCaseRequest{
		RequestId:   w.newID(),
		Mission:     w.mission,
		Programme:   w.programme(),
		HostCountry: w.hostCountry,
		Consents:    w.consents(),
	}
	child := false
	if principal == nil {
		age := w.principalAge()
		child = age < 18
		principal = w.person(age, "", child)
		principal.Documents = []*commonv1.IdentityDocument{w.document(commonv1.DocumentType_DOCUMENT_TYPE_PASSPORT, principal.GetNationality())}
		if w.chance(0.6) {
			principal.Phone = w.phone()
		}
	}
	req.Principal = principal
	req.Vulnerabilities = w.vulnerabilities(req.GetProgramme(), child)
	// An unaccompanied child comes alone; anyone else with the household they travel with.
	if !child {
		n := w.rng.IntN(w.maxHousehold + 1)
		for range n {
			req.HouseholdMembers = append(req.HouseholdMembers, w.member(principal))
		}
	}
	return req
}

func (w *Workload) chance(p float64) bool { return w.rng.Float64() < p }

func (w *Workload) programme() commonv1.Programme {
	switch r := w.rng.Float64(); {
	case r < 0.60:
		return commonv1.Programme_PROGRAMME_AVRR
	case r < 0.85:
		return commonv1.Programme_PROGRAMME_HASM
	default:
		return commonv1.Programme_PROGRAMME_VOT
	}
}

// principalAge is mostly young adults, with some older people and a few adolescents
// travelling alone.
func (w *Workload) principalAge() int {
	switch r := w.rng.Float64(); {
	case r < 0.05:
		return 14 + w.rng.IntN(4)
	case r < 0.85:
		return 18 + w.rng.IntN(23)
	default:
		return 41 + w.rng.IntN(30)
	}
}

// member is a household member: mostly children, sometimes a spouse or a parent.
func (w *Workload) member(principal *commonv1.Person) *commonv1.Person {
	age := w.rng.IntN(18)
	if w.chance(0.35) {
		age = 18 + w.rng.IntN(50)
	}
	family := principal.GetFamilyName()
	if w.chance(0.2) {
		family = w.name(2 + w.rng.IntN(2))
	}
	p := w.person(age, family, false)
	if w.chance(0.85) {
		p.Nationality = principal.GetNationality()
	}
	switch r := w.rng.Float64(); {
	case r < 0.4:
		p.Documents = []*commonv1.IdentityDocument{w.document(commonv1.DocumentType_DOCUMENT_TYPE_PASSPORT, p.GetNationality())}
	case r < 0.6 && age < 18:
		p.Documents = []*commonv1.IdentityDocument{w.document(commonv1.DocumentType_DOCUMENT_TYPE_BIRTH_CERTIFICATE, p.GetNationality())}
	}
	return p
}

// person makes up a person of the given age; family is their family name, or "" to make
// one up. exactBirth forces a full date of birth (an unaccompanied child's age must be known).
func (w *Workload) person(age int, family string, exactBirth bool) *commonv1.Person {
	given := w.name(2 + w.rng.IntN(2))
	if w.chance(0.25) {
		given += " " + w.name(2+w.rng.IntN(2))
	}
	if family == "" && w.chance(0.95) {
		family = w.name(2 + w.rng.IntN(2))
	}
	p := &commonv1.Person{
		GivenName:   given,
		FamilyName:  family,
		DateOfBirth: w.birth(age, exactBirth),
		Sex:         w.sex(),
	}
	if w.chance(0.97) {
		p.Nationality = nationalities[w.rng.IntN(len(nationalities))]
	}
	return p
}

// birth returns a date of birth for someone age years old today: full for most people, year
// and month or year alone for some, none for a few. A partial date never lies after today.
func (w *Workload) birth(age int, exact bool) *date.Date {
	born := w.today.AddDate(-age, 0, -w.rng.IntN(365))
	y, m, d := born.Date()
	full := &date.Date{Year: int32(y), Month: int32(m), Day: int32(d)}
	if exact {
		return full
	}
	switch r := w.rng.Float64(); {
	case r < 0.75:
		return full
	case r < 0.87:
		return &date.Date{Year: int32(y), Month: int32(m)}
	case r < 0.95:
		return &date.Date{Year: int32(y)}
	default:
		return nil
	}
}

func (w *Workload) sex() commonv1.Sex {
	switch r := w.rng.Float64(); {
	case r < 0.47:
		return commonv1.Sex_SEX_FEMALE
	case r < 0.94:
		return commonv1.Sex_SEX_MALE
	case r < 0.95:
		return commonv1.Sex_SEX_OTHER
	case r < 0.98:
		return commonv1.Sex_SEX_UNKNOWN
	default:
		return commonv1.Sex_SEX_UNSPECIFIED
	}
}

// Syllables that names are made from. They make pronounceable strings, not anyone's name;
// a few carry accents so that the blind indexes' normalisation has work to do.
var syllables = []string{
	"a", "ba", "bou", "da", "di", "dja", "fa", "fi", "ga", "ha", "i", "ka", "kha", "ki", "la",
	"li", "ma", "mi", "mo", "mou", "na", "ni", "nou", "o", "ra", "ri", "sa", "se", "si", "sou",
	"ta", "ti", "tou", "wa", "ya", "yé", "za", "zi", "dé", "lè", "ï", "rou", "ssa", "mane",
}

// name joins n syllables into a capitalised word.
func (w *Workload) name(n int) string {
	var b strings.Builder
	for range n {
		b.WriteString(syllables[w.rng.IntN(len(syllables))])
	}
	s := b.String()
	r, size := utf8.DecodeRuneInString(s)
	return string(unicode.ToUpper(r)) + s[size:]
}

// nationalities are assigned ISO 3166-1 alpha-3 codes of countries whose nationals IOM often
// assists on the central Mediterranean and Sahel routes, and a few others.
var nationalities = []string{
	"NER", "NGA", "MLI", "GIN", "SEN", "CIV", "CMR", "GMB", "BFA", "TCD", "SDN", "GHA",
	"ERI", "ETH", "SOM", "BGD", "PAK", "AFG", "SYR", "IRQ", "YEM", "MAR", "DZA", "TUN",
	"LBY", "EGY", "COD", "SLE", "LBR", "TGO", "BEN", "MRT",
}

// document makes up a document issued by country (or by a random one when it is empty):
// two letters and seven digits, unique enough that only re-registrations match.
func (w *Workload) document(t commonv1.DocumentType, country string) *commonv1.IdentityDocument {
	if country == "" {
		country = nationalities[w.rng.IntN(len(nationalities))]
	}
	return &commonv1.IdentityDocument{
		Type: t,
		Number: fmt.Sprintf("%c%c%07d", 'A'+rune(w.rng.IntN(26)), 'A'+rune(w.rng.IntN(26)),
			w.rng.IntN(10_000_000)),
		IssuingCountry: country,
	}
}

func (w *Workload) phone() string {
	return fmt.Sprintf("+227 %02d %02d %02d %02d", 80+w.rng.IntN(20), w.rng.IntN(100), w.rng.IntN(100), w.rng.IntN(100))
}

var partners = []string{"UNHCR", "UNICEF", "IFRC", "MSF"}

// consents always grant assistance (registration requires it), often record the statistics
// choice, and sometimes allow sharing with a partner.
func (w *Workload) consents() []*commonv1.Consent {
	today := &date.Date{Year: int32(w.today.Year()), Month: int32(w.today.Month()), Day: int32(w.today.Day())}
	cs := []*commonv1.Consent{{Purpose: commonv1.ConsentPurpose_CONSENT_PURPOSE_ASSISTANCE, Granted: true, Date: today}}
	if w.chance(0.6) {
		cs = append(cs, &commonv1.Consent{Purpose: commonv1.ConsentPurpose_CONSENT_PURPOSE_STATISTICS, Granted: w.chance(0.9), Date: today})
	}
	if w.chance(0.1) {
		cs = append(cs, &commonv1.Consent{Purpose: commonv1.ConsentPurpose_CONSENT_PURPOSE_DATA_SHARING, Granted: true, Date: today,
			Partner: partners[w.rng.IntN(len(partners))]})
	}
	return cs
}

// adultVulnerabilities are the ones any case may carry (the unaccompanied child's is only
// for a principal under 18).
var adultVulnerabilities = []commonv1.Vulnerability{
	commonv1.Vulnerability_VULNERABILITY_MEDICAL_NEEDS,
	commonv1.Vulnerability_VULNERABILITY_OLDER_PERSON,
	commonv1.Vulnerability_VULNERABILITY_DISABILITY,
	commonv1.Vulnerability_VULNERABILITY_PREGNANT_OR_LACTATING,
	commonv1.Vulnerability_VULNERABILITY_SINGLE_PARENT,
	commonv1.Vulnerability_VULNERABILITY_SURVIVOR_OF_GENDER_BASED_VIOLENCE,
	commonv1.Vulnerability_VULNERABILITY_MENTAL_HEALTH_NEEDS,
}

// vulnerabilities: victims of trafficking are coded as such, children alone as unaccompanied,
// and about three cases in ten carry one or two other vulnerable situations.
func (w *Workload) vulnerabilities(p commonv1.Programme, unaccompaniedChild bool) []commonv1.Vulnerability {
	var vs []commonv1.Vulnerability
	if p == commonv1.Programme_PROGRAMME_VOT {
		vs = append(vs, commonv1.Vulnerability_VULNERABILITY_VICTIM_OF_TRAFFICKING)
	}
	if unaccompaniedChild {
		vs = append(vs, commonv1.Vulnerability_VULNERABILITY_UNACCOMPANIED_MIGRANT_CHILD)
	}
	if w.chance(0.3) {
		first := w.rng.IntN(len(adultVulnerabilities))
		vs = append(vs, adultVulnerabilities[first])
		if w.chance(0.3) {
			// A different one: the list must not repeat a code.
			second := (first + 1 + w.rng.IntN(len(adultVulnerabilities)-1)) % len(adultVulnerabilities)
			vs = append(vs, adultVulnerabilities[second])
		}
	}
	return vs
}
