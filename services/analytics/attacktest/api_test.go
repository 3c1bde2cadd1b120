package attacktest_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/passage-cm/passage/internal/auth"
	"github.com/passage-cm/passage/internal/bootstrap"
	"github.com/passage-cm/passage/internal/testserver"
	analyticsv1 "github.com/passage-cm/passage/proto/gen/passage/analytics/v1"
	"github.com/passage-cm/passage/services/analytics"
	"github.com/passage-cm/passage/services/analytics/attacktest"
	"github.com/passage-cm/passage/services/analytics/cube"
)

// server is the analytics service on a real database of its own, as an HQ analyst reaches
// it, holding one caseload of persons returned at a time.
type server struct {
	env     *testserver.Env
	client  analyticsv1.AnalyticsServiceClient
	analyst context.Context
	// loads counts the caseloads loaded: the sentinel's count (see load) changes with it.
	loads int64
}

// newServer starts the analytics service with an empty rollup.
func newServer(t *testing.T) *server {
	t.Helper()
	env := testserver.Start(t, testserver.Options{Services: []bootstrap.Service{analytics.Spec()}})
	return &server{env: env, client: analyticsv1.NewAnalyticsServiceClient(env.Conn),
		analyst: env.As(t, auth.RoleAnalyst, auth.MissionHQ)}
}

// sentinelYear is the year of the sentinel row: cases registered, one row, outside every
// caseload's measure, so that it touches none of the releases attacked.
const sentinelYear = 2000

// load replaces the service's caseload with c, written straight into analytics.rollup as a
// bulk loader does, and waits until the service's in-memory copy holds it. In one
// transaction every earlier row is set to 0 (the engine skips zero counts, and the loader
// reads the change like any other), c's rows are written, and a sentinel row of another
// measure gets a count that no earlier load gave it: the loader applies a transaction's rows
// in one refresh, so the service holds c once its answer about the sentinel is the new count.
// (The caseload's own grand total may be withheld, a block of it being small.)
func (s *server) load(t *testing.T, c *attacktest.Caseload) {
	t.Helper()
	rows, err := c.Rows("PERSONS_RETURNED", cube.Row{AgeBand: "30_38", Nationality: "UNKNOWN"})
	if err != nil {
		t.Fatal(err)
	}
	s.loads++
	sentinel := 100 + s.loads
	rows = append(rows, cube.Row{Measure: "CASES_REGISTERED", Year: sentinelYear, Programme: "AVRR", Sex: "UNKNOWN",
		AgeBand: "UNKNOWN", Nationality: "UNKNOWN", HostCountry: "MAR", Persons: sentinel})
	s.env.AsOwner(t, func(ctx context.Context, conn *pgx.Conn) {
		tx, err := conn.Begin(ctx)
		if err != nil {
			t.Fatal(err)
		}
		defer tx.Rollback(ctx) //nolint:errcheck // a no-op once committed
		batch := &pgx.Batch{}
		batch.Queue(`UPDATE analytics.rollup SET persons = 0, tx_id = pg_current_xact_id() WHERE persons <> 0`)
		for _, r := range rows {
			batch.Queue(`INSERT INTO analytics.rollup (measure, year, programme, sex, age_band, nationality, host_country,
return_country, vulnerabilities, assistance_type, exploitation_types, persons)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, '{}', '', '{}', $9)
ON CONFLICT ON CONSTRAINT rollup_pkey DO UPDATE SET persons = excluded.persons, tx_id = excluded.tx_id`,
				r.Measure, r.Year, r.Programme, r.Sex, r.AgeBand, r.Nationality, r.HostCountry, r.ReturnCountry, r.Persons)
		}
		if err := tx.SendBatch(ctx, batch).Close(); err != nil {
			t.Fatalf("write the caseload: %v", err)
		}
		if err := tx.Commit(ctx); err != nil {
			t.Fatalf("write the caseload: %v", err)
		}
	})
	for deadline := time.Now().Add(15 * time.Second); ; time.Sleep(10 * time.Millisecond) {
		resp, err := s.client.Aggregate(s.analyst, &analyticsv1.AggregateRequest{Measure: analyticsv1.Measure_MEASURE_CASES_REGISTERED})
		if err != nil {
			t.Fatal(err)
		}
		if len(resp.GetCells()) == 1 && resp.GetCells()[0].GetCount() == sentinel {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("the service does not hold caseload %d in time: the sentinel reads %v", s.loads, resp.GetCells())
		}
	}
}

// serve starts the analytics service holding c as persons returned. It returns the client
// and an HQ analyst's context.
func serve(t *testing.T, c *attacktest.Caseload) (analyticsv1.AnalyticsServiceClient, context.Context) {
	t.Helper()
	s := newServer(t)
	s.load(t, c)
	return s.client, s.analyst
}

// TestNoSmallCountRecoverableFromAnswers is issue 13's acceptance test: an analyst asks the
// real Aggregate API every question it accepts about a seeded caseload of persons returned
// (every group-by of up to three of year, programme, sex, host country and region, return
// country and region; no filter, one year, one value or every value but one of a dimension,
// one year with one value) and solves the system the answers form. No count from 1 to k-1 of
// any combination of values, nor any number an answer withheld, may be pinned or bounded
// away from 0 and k. Refused queries are logged and skipped; differentially private answers
// are noisy and stay out of the system.
func TestNoSmallCountRecoverableFromAnswers(t *testing.T) {
	t.Parallel()
	c, err := attacktest.Returns(800, 1)
	if err != nil {
		t.Fatal(err)
	}
	client, analyst := serve(t, c)
	measure := analyticsv1.Measure_MEASURE_PERSONS_RETURNED
	reqs := attacktest.Queries(c.Domain, measure, attacktest.Plan{MaxGroupBy: 3, Pairs: true})
	// Two differentially private releases: answered, and left out of the system.
	for _, eps := range []float64{0.25, 0.25} {
		reqs = append(reqs, &analyticsv1.AggregateRequest{Measure: measure,
			GroupBy: []analyticsv1.Dimension{analyticsv1.Dimension_DIMENSION_HOST_COUNTRY, analyticsv1.Dimension_DIMENSION_RETURN_COUNTRY},
			Release: &analyticsv1.AggregateRequest_DifferentialPrivacy{DifferentialPrivacy: &analyticsv1.DifferentialPrivacy{Epsilon: eps}}})
	}
	a := attacktest.NewAttacker(c.Domain, measure)
	log, err := attacktest.Run(analyst, attacktest.Client(client), reqs, a)
	if err != nil {
		t.Fatal(err)
	}
	if err := a.Check(c); err != nil {
		t.Fatal(err)
	}
	if a.Noisy != 2 {
		t.Errorf("%d differentially private answers read, want 2", a.Noisy)
	}
	rep, err := a.Attack(c, analytics.DefaultK, false)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("%d requests: %d answered, %d refused, %d noisy; %d numbers, %d distinct equations of rank %d over %d atoms, %d withheld; %d small counts asked, %d disclosed",
		log.Asked, a.Answers, len(log.Refused), a.Noisy, a.Numbers, rep.Equations, rep.Rank, c.Domain.Atoms(), rep.Withheld, rep.Questions, len(rep.Disclosures))
	for i, r := range log.Refused {
		if i == 3 {
			t.Logf("  ... and %d more refused", len(log.Refused)-3)
			break
		}
		t.Logf("  refused: %s", r)
	}
	if n := len(rep.Disclosures); n > 0 {
		var b strings.Builder
		for i, d := range rep.Disclosures {
			if i == 20 {
				b.WriteString("\n  ...")
				break
			}
			b.WriteString("\n  " + d.String())
		}
		t.Errorf("%d of %d small counts recoverable from the answers:%s", n, rep.Questions, b.String())
	}
}
