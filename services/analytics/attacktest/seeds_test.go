package attacktest_test

import (
	"context"
	"fmt"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/passage-cm/passage/services/analytics"
	"github.com/passage-cm/passage/services/analytics/attacktest"
)

// The many-caseload tests attack PASSAGE_ATTACK_SEEDS random scenarios (12 by default),
// seeds PASSAGE_ATTACK_FIRST_SEED (1) onwards, each sending at most PASSAGE_ATTACK_REQUESTS
// of its plan's requests (120 by default; 0 sends the whole plan). The defaults keep `make
// test` to a few seconds; issue 13 asks for hundreds of seeds, which is
//
//	PASSAGE_ATTACK_SEEDS=300 go test -count=1 -run OverManyCaseloads -v ./services/analytics/attacktest/
func scenarios(t *testing.T) []*attacktest.Scenario {
	t.Helper()
	env := func(name string, def int) int {
		v := os.Getenv(name)
		if v == "" {
			return def
		}
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 {
			t.Fatalf("%s=%q: want a number, 0 or more", name, v)
		}
		return n
	}
	n, first, maxRequests := env("PASSAGE_ATTACK_SEEDS", 12), env("PASSAGE_ATTACK_FIRST_SEED", 1), env("PASSAGE_ATTACK_REQUESTS", 120)
	out := make([]*attacktest.Scenario, n)
	for i := range out {
		s, err := attacktest.RandomScenario(uint64(first+i), maxRequests)
		if err != nil {
			t.Fatal(err)
		}
		out[i] = s
	}
	return out
}

// tally adds up the attacks of many scenarios for the test's log.
type tally struct {
	seeds, personsMin, personsMax, atomsMin, atomsMax      int
	asked, answered, refused, questions, disclosures       int
	existence, existenceSeeds, listedWithheld, listedEmpty int
	leakingSeeds                                           int
}

func (s *tally) add(sc *attacktest.Scenario, log attacktest.Log, a *attacktest.Attacker, rep attacktest.Report) {
	p, n := int(sc.Caseload.Persons()), sc.Caseload.Domain.Atoms()
	if s.seeds == 0 {
		s.personsMin, s.personsMax, s.atomsMin, s.atomsMax = p, p, n, n
	}
	s.seeds++
	s.personsMin, s.personsMax = min(s.personsMin, p), max(s.personsMax, p)
	s.atomsMin, s.atomsMax = min(s.atomsMin, n), max(s.atomsMax, n)
	s.asked += log.Asked
	s.answered += a.Answers
	s.refused += len(log.Refused)
	s.questions += rep.Questions
	s.disclosures += len(rep.Disclosures)
	if len(rep.Disclosures) > 0 {
		s.leakingSeeds++
	}
}

func (s *tally) String() string {
	return fmt.Sprintf("%d seeds, %d to %d persons, %d to %d atoms; %d requests: %d answered, %d refused; %d small counts asked, %d disclosed (in %d seeds)",
		s.seeds, s.personsMin, s.personsMax, s.atomsMin, s.atomsMax, s.asked, s.answered, s.refused, s.questions, s.disclosures, s.leakingSeeds)
}

// disclosures lists at most ten of a report's disclosures, one a line, each with the
// released numbers it is the difference of when it is that simple.
func disclosures(a *attacktest.Attacker, rep attacktest.Report) string {
	var b strings.Builder
	for i, d := range rep.Disclosures {
		if i == 10 {
			fmt.Fprintf(&b, "\n  ... and %d more", len(rep.Disclosures)-10)
			break
		}
		b.WriteString("\n  " + d.String())
		if e := a.Explain(d); e != "" {
			b.WriteString("\n    " + e)
		}
	}
	return b.String()
}

// TestNoSmallCountRecoverableOverManyCaseloads is issue 13's acceptance test over random
// caseloads and query sequences (attacktest.RandomScenario): one server, loaded with each
// caseload in turn, answers a random subset of the plan's requests in a random order; the
// attacker solves the system the answers form, and no count from 1 to k-1 of any combination
// of values, nor any number an answer withheld, may be pinned or bounded away from 0 and k.
// Questions crossing two release tables (nationality or age band with sex or a country) are
// refused and counted.
//
// With PASSAGE_ATTACK_EXISTENCE=1 it also logs, without asserting on it, what an attacker
// who takes every listed withheld cell to hold someone would conclude, and how often such a
// cell is in fact empty: the service lists the empty corners of its protection boxes as
// withheld, so that knowledge is not sound against it, and what the contract should promise
// there is still to be decided.
func TestNoSmallCountRecoverableOverManyCaseloads(t *testing.T) {
	t.Parallel()
	scs := scenarios(t)
	existence := os.Getenv("PASSAGE_ATTACK_EXISTENCE") == "1"
	srv := newServer(t)
	var sum tally
	start := time.Now()
	for _, sc := range scs {
		srv.load(t, sc.Caseload)
		a := attacktest.NewAttacker(sc.Caseload.Domain, sc.Requests[0].GetMeasure())
		log, err := attacktest.Run(srv.analyst, attacktest.Client(srv.client), sc.Requests, a)
		if err != nil {
			t.Fatalf("%v: %v", sc, err)
		}
		if err := a.Check(sc.Caseload); err != nil {
			t.Fatalf("%v: %v", sc, err)
		}
		rep, err := a.Attack(sc.Caseload, analytics.DefaultK, false)
		if err != nil {
			t.Fatalf("%v: %v", sc, err)
		}
		sum.add(sc, log, a, rep)
		if len(rep.Disclosures) > 0 {
			t.Errorf("%v: %d of %d small counts recoverable from %d answers (%d equations of rank %d):%s",
				sc, len(rep.Disclosures), rep.Questions, a.Answers, rep.Equations, rep.Rank, disclosures(a, rep))
		}
		var ex attacktest.Report
		cells, empty := a.ListedWithheld(sc.Caseload)
		sum.listedWithheld += cells
		sum.listedEmpty += empty
		if existence {
			if ex, err = a.Attack(sc.Caseload, analytics.DefaultK, true); err != nil {
				t.Fatalf("%v, with existence: %v", sc, err)
			}
			sum.existence += len(ex.Disclosures)
			if len(ex.Disclosures) > 0 {
				sum.existenceSeeds++
			}
		}
		if testing.Verbose() {
			t.Logf("%v: %d answered, %d refused; %d small counts asked, %d disclosed; %d with existence; %d listed withheld cells, %d of them empty",
				sc, a.Answers, len(log.Refused), rep.Questions, len(rep.Disclosures), len(ex.Disclosures), cells, empty)
		}
	}
	t.Logf("the service: %v; in %v", &sum, time.Since(start).Round(time.Millisecond))
	t.Logf("of %d cells listed as withheld, %d hold nobody", sum.listedWithheld, sum.listedEmpty)
	if existence {
		t.Logf("with existence (a listed withheld cell taken to hold someone; not asserted): %d disclosed in %d seeds",
			sum.existence, sum.existenceSeeds)
	}
	if sum.refused == 0 && sum.seeds >= 8 {
		t.Errorf("no question refused over %d scenarios: none crossed two release tables", sum.seeds)
	}
}

// TestPerAnswerLeaksOverManyCaseloads: the same scenarios answered by per-answer suppression
// (attacktest.PerAnswer, the policy before issue 13's fix) leak small counts. It asserts
// that the attacker finds them in most scenarios, which is what makes the test above
// meaningful: an attacker too weak to catch them would pass any service. Each attack stops
// at its first disclosure (Attacker.FirstLeak); PASSAGE_ATTACK_COUNT_ALL=1 counts them all,
// for the figures of docs/benchmarks/disclosure.md, at many times the cost.
func TestPerAnswerLeaksOverManyCaseloads(t *testing.T) {
	t.Parallel()
	scs := scenarios(t)
	all := os.Getenv("PASSAGE_ATTACK_COUNT_ALL") == "1"
	var sum tally
	start := time.Now()
	for _, sc := range scs {
		a := attacktest.NewAttacker(sc.Caseload.Domain, sc.Requests[0].GetMeasure())
		log, err := attacktest.Run(context.Background(), attacktest.PerAnswer(sc.Caseload, analytics.DefaultK), sc.Requests, a)
		if err != nil {
			t.Fatalf("%v: %v", sc, err)
		}
		if err := a.Check(sc.Caseload); err != nil {
			t.Fatalf("%v: %v", sc, err)
		}
		attack := a.FirstLeak
		if all {
			attack = func(c *attacktest.Caseload, k int64) (attacktest.Report, error) { return a.Attack(c, k, false) }
		}
		rep, err := attack(sc.Caseload, analytics.DefaultK)
		if err != nil {
			t.Fatalf("%v: %v", sc, err)
		}
		sum.add(sc, log, a, rep)
		if testing.Verbose() {
			t.Logf("%v: %d small counts asked, %d disclosed", sc, rep.Questions, len(rep.Disclosures))
		}
	}
	what := "each attack stopped at its first disclosure"
	if all {
		what = "every disclosure counted"
	}
	t.Logf("per-answer suppression (%s): %v; in %v", what, &sum, time.Since(start).Round(time.Millisecond))
	if 2*sum.leakingSeeds <= sum.seeds {
		t.Errorf("per-answer suppression leaks in %d of %d scenarios: the attacker should catch it in most", sum.leakingSeeds, sum.seeds)
	}
}
