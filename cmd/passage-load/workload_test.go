package main

import (
	"fmt"
	"slices"
	"testing"
	"time"
	"unicode"
	"unicode/utf8"

	"buf.build/go/protovalidate"
	"github.com/google/go-cmp/cmp"
	"google.golang.org/protobuf/testing/protocmp"

	"github.com/passage-cm/passage/internal/ageband"
	"github.com/passage-cm/passage/internal/civildate"
	"github.com/passage-cm/passage/internal/country"
	commonv1 "github.com/passage-cm/passage/proto/gen/passage/common/v1"
	intakev1 "github.com/passage-cm/passage/proto/gen/passage/intake/v1"
)

// today is a day just after a leap day, where "age years ago" is easiest to get wrong.
var today = time.Date(2028, time.March, 1, 0, 0, 0, 0, time.UTC)

func testWorkload(seed uint64, household int, mix Mix) *Workload {
	n := 0
	return NewWorkload(WorkloadConfig{
		Seed: seed, Client: 3, Mission: "NER", HostCountry: "NER", MaxHousehold: household,
		Mix: mix, Today: today,
		NewID: func() string { n++; return fmt.Sprintf("00000000-0000-4000-8000-%012d", n) },
	})
}

// drawCalls draws n calls, treating each as successful with a made-up case id.
func drawCalls(w *Workload, n int) []Call {
	calls := make([]Call, n)
	for i := range calls {
		calls[i] = w.Next()
		w.Remember(calls[i], fmt.Sprintf("case-%d", i))
	}
	return calls
}

// TestWorkloadRequestsAreValid checks every generated request against the contract's rules
// and the server's own: a benchmark that sends invalid requests measures the error path.
func TestWorkloadRequestsAreValid(t *testing.T) {
	t.Parallel()
	v, err := protovalidate.New()
	if err != nil {
		t.Fatal(err)
	}
	for _, household := range []int{0, 2, 30} {
		for i, c := range drawCalls(testWorkload(7, household, defaultMix), 2000) {
			req := c.Req
			if err := v.Validate(req); err != nil {
				t.Fatalf("household %d, call %d: protovalidate: %v", household, i, err)
			}
			if problems := serverRules(req); len(problems) > 0 {
				t.Fatalf("household %d, call %d: %v", household, i, problems)
			}
			if n := len(req.GetHouseholdMembers()); n > household {
				t.Fatalf("household %d, call %d: %d members", household, i, n)
			}
		}
	}
}

// serverRules are the rules RegisterCase applies beyond protovalidate.
func serverRules(req *intakev1.RegisterCaseRequest) []string {
	var problems []string
	if !country.Valid(req.GetHostCountry()) {
		problems = append(problems, "host_country")
	}
	for i, p := range append([]*commonv1.Person{req.GetPrincipal()}, req.GetHouseholdMembers()...) {
		if dob := p.GetDateOfBirth(); dob != nil {
			if civildate.Check(dob) != nil || civildate.NotAfter(dob, today) != nil {
				problems = append(problems, fmt.Sprintf("person %d: date_of_birth", i))
			}
		}
		if n := p.GetNationality(); n != "" && !country.Valid(n) {
			problems = append(problems, fmt.Sprintf("person %d: nationality", i))
		}
		for _, d := range p.GetDocuments() {
			if !country.Valid(d.GetIssuingCountry()) {
				problems = append(problems, fmt.Sprintf("person %d: issuing_country", i))
			}
		}
	}
	assistance := false
	for _, c := range req.GetConsents() {
		if civildate.CheckFull(c.GetDate()) != nil || civildate.NotAfter(c.GetDate(), today) != nil {
			problems = append(problems, "consent date")
		}
		sharing := c.GetPurpose() == commonv1.ConsentPurpose_CONSENT_PURPOSE_DATA_SHARING
		if sharing != (c.GetPartner() != "") {
			problems = append(problems, "consent partner")
		}
		assistance = assistance || (c.GetPurpose() == commonv1.ConsentPurpose_CONSENT_PURPOSE_ASSISTANCE && c.GetGranted())
	}
	if !assistance {
		problems = append(problems, "no assistance consent")
	}
	if slices.Contains(req.GetVulnerabilities(), commonv1.Vulnerability_VULNERABILITY_UNACCOMPANIED_MIGRANT_CHILD) {
		band := ageband.At(req.GetPrincipal().GetDateOfBirth(), today)
		if band != commonv1.AgeBand_AGE_BAND_UNKNOWN && !ageband.IsChild(band) {
			problems = append(problems, "unaccompanied child is an adult")
		}
	}
	return problems
}

func TestWorkloadIsReproducible(t *testing.T) {
	t.Parallel()
	a := drawCalls(testWorkload(42, 2, defaultMix), 500)
	b := drawCalls(testWorkload(42, 2, defaultMix), 500)
	if diff := cmp.Diff(a, b, protocmp.Transform()); diff != "" {
		t.Errorf("same seed, different calls (-first +second):\n%s", diff)
	}
	c := drawCalls(testWorkload(43, 2, defaultMix), 500)
	if cmp.Equal(a, c, protocmp.Transform()) {
		t.Error("seeds 42 and 43 made the same calls")
	}
}

func TestWorkloadMix(t *testing.T) {
	t.Parallel()
	const n = 20000
	tests := []struct {
		name string
		mix  Mix
		// want is the expected count of each kind, within 15% (the draw is seeded, so the
		// result is fixed; the margin only keeps the test from pinning the generator).
		want map[Kind]int
	}{
		{"default", defaultMix, map[Kind]int{KindNew: n * 97 / 100, KindReregister: n * 2 / 100, KindReplay: n / 100}},
		{"new only", Mix{}, map[Kind]int{KindNew: n}},
		{"half replays", Mix{Replay: 0.5}, map[Kind]int{KindNew: n / 2, KindReplay: n / 2}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got := map[Kind]int{}
			for _, c := range drawCalls(testWorkload(1, 2, tt.mix), n) {
				got[c.Kind]++
			}
			for _, k := range []Kind{KindNew, KindReregister, KindReplay} {
				if w, g := float64(tt.want[k]), float64(got[k]); g < w*0.85 || g > w*1.15 {
					t.Errorf("%s: %v calls, want about %v (all: %v)", k, g, w, got)
				}
			}
		})
	}
}

func TestWorkloadRefersToEarlierCalls(t *testing.T) {
	t.Parallel()
	w := testWorkload(5, 2, Mix{Reregister: 0.3, Replay: 0.3})
	first := w.Next()
	if first.Kind != KindNew {
		t.Fatalf("first call is %s, want new: nothing to refer to yet", first.Kind)
	}
	byCase := map[string]*intakev1.RegisterCaseRequest{}
	ids := map[string]bool{}
	calls := drawCalls(w, 2000)
	for i, c := range calls {
		switch c.Kind {
		case KindNew:
			byCase[fmt.Sprintf("case-%d", i)] = c.Req
		case KindReplay:
			earlier, ok := byCase[c.Earlier]
			if !ok {
				t.Fatalf("call %d replays %q, which is not an earlier new case", i, c.Earlier)
			}
			if diff := cmp.Diff(earlier, c.Req, protocmp.Transform()); diff != "" {
				t.Fatalf("call %d: replay differs from the first request (-first +replay):\n%s", i, diff)
			}
			continue // a replay reuses its request id on purpose
		case KindReregister:
			earlier, ok := byCase[c.Earlier]
			if !ok {
				t.Fatalf("call %d re-registers %q, which is not an earlier new case", i, c.Earlier)
			}
			if diff := cmp.Diff(earlier.GetPrincipal(), c.Req.GetPrincipal(), protocmp.Transform()); diff != "" {
				t.Fatalf("call %d: re-registered principal differs (-first +again):\n%s", i, diff)
			}
		}
		if ids[c.Req.GetRequestId()] {
			t.Fatalf("call %d (%s) reuses request id %s", i, c.Kind, c.Req.GetRequestId())
		}
		ids[c.Req.GetRequestId()] = true
	}
}

func TestWorkloadPrincipalsCarryAPassport(t *testing.T) {
	t.Parallel()
	documents := map[string]bool{}
	for i, c := range drawCalls(testWorkload(9, 2, Mix{}), 2000) {
		docs := c.Req.GetPrincipal().GetDocuments()
		if len(docs) != 1 || docs[0].GetType() != commonv1.DocumentType_DOCUMENT_TYPE_PASSPORT {
			t.Fatalf("call %d: principal documents %v, want one passport", i, docs)
		}
		// New people must not match each other by document, or duplicates would be flagged
		// that the benchmark did not mean to make.
		key := docs[0].GetIssuingCountry() + docs[0].GetNumber()
		if documents[key] {
			t.Fatalf("call %d: passport repeats an earlier new person's", i)
		}
		documents[key] = true
	}
}

func TestName(t *testing.T) {
	t.Parallel()
	w := testWorkload(11, 0, Mix{})
	for range 1000 {
		n := w.name(3)
		first, _ := utf8.DecodeRuneInString(n)
		if !unicode.IsUpper(first) || utf8.RuneCountInString(n) < 3 {
			t.Fatalf("name %q is not a capitalised word of three syllables", n)
		}
	}
}
