package attacktest

import (
	"context"
	"testing"

	analyticsv1 "github.com/passage-cm/passage/proto/gen/passage/analytics/v1"
)

// TestAttackerFindsPerAnswerLeaks: against answers each protected on its own (disclosure.Suppress
// per answer, today's policy), the attacker recovers small counts, with the grid of
// whole years, countries and regions alone and with every filter the API takes.
func TestAttackerFindsPerAnswerLeaks(t *testing.T) {
	t.Parallel()
	c, err := Returns(800, 1)
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		name string
		plan Plan
	}{
		{"grid", Plan{MaxGroupBy: 3, Grid: true}},
		{"every filter", Plan{MaxGroupBy: 3, Pairs: true}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			a := NewAttacker(c.Domain, analyticsv1.Measure_MEASURE_PERSONS_RETURNED)
			reqs := Queries(c.Domain, analyticsv1.Measure_MEASURE_PERSONS_RETURNED, tt.plan)
			log, err := Run(context.Background(), PerAnswer(c, 11), reqs, a)
			if err != nil {
				t.Fatal(err)
			}
			if err := a.Check(c); err != nil {
				t.Fatal(err)
			}
			rep, err := a.Attack(c, 11, false)
			if err != nil {
				t.Fatal(err)
			}
			withExistence, err := a.Attack(c, 11, true)
			if err != nil {
				t.Fatal(err)
			}
			t.Logf("%d requests (%d refused), %d numbers, %d distinct equations of rank %d over %d atoms, %d withheld; %d small counts asked: %d disclosed (%d if a listed cell is known to hold someone)",
				log.Asked, len(log.Refused), a.Numbers, rep.Equations, rep.Rank, c.Domain.Atoms(), rep.Withheld, rep.Questions, len(rep.Disclosures), len(withExistence.Disclosures))
			for i, d := range rep.Disclosures {
				if i < 5 {
					t.Logf("  %v", d)
				}
			}
			if len(rep.Disclosures) == 0 {
				t.Errorf("no disclosure found against per-answer suppression")
			}
		})
	}
}
