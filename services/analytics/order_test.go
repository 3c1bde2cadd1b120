package analytics

import (
	"context"
	"log/slog"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/passage-cm/passage/internal/demo/aggbench"
	"github.com/passage-cm/passage/internal/disclosure"
	"github.com/passage-cm/passage/internal/region"
	analyticsv1 "github.com/passage-cm/passage/proto/gen/passage/analytics/v1"
	"github.com/passage-cm/passage/services/analytics/cube"
)

// TestSuppressedReleaseIsSorted: cells and totals come back sorted by their keys, and the
// distinct values counted per dimension are those of the cells listed.
func TestSuppressedReleaseIsSorted(t *testing.T) {
	t.Parallel()
	r := rand.New(rand.NewPCG(5, 5))
	c := cube.New(region.CodeOf)
	nats := []string{"AFG", "IRQ", "SYR", "NER", "MLI", "GIN", "BGD", "PAK"}
	var rows []cube.Row
	for range 400 {
		rows = append(rows, cube.Row{Measure: "PERSONS_RETURNED", Year: 2010 + r.IntN(5), Programme: "AVRR",
			Sex: []string{"MALE", "FEMALE"}[r.IntN(2)], AgeBand: []string{"18_20", "30_38"}[r.IntN(2)], Nationality: nats[r.IntN(len(nats))],
			HostCountry: []string{"DEU", "FRA", "ITA", "AUT"}[r.IntN(4)], ReturnCountry: nats[r.IntN(len(nats))],
			Persons: int64(1 + r.IntN(30))})
	}
	if err := c.Apply(rows); err != nil {
		t.Fatal(err)
	}
	s := &Service{cube: c}
	q, err := parseAggregate(analyticsv1.Measure_MEASURE_PERSONS_RETURNED, []analyticsv1.Dimension{
		analyticsv1.Dimension_DIMENSION_NATIONALITY, analyticsv1.Dimension_DIMENSION_YEAR}, nil)
	if err != nil {
		t.Fatal(err)
	}
	res, err := c.Aggregate(q.query)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := s.releaseSuppressed(q)
	if err != nil {
		t.Fatal(err)
	}
	byKeys := func(a, b *analyticsv1.Cell) int { return slices.Compare(a.GetKeys(), b.GetKeys()) }
	if len(resp.Cells) < 20 || !slices.IsSortedFunc(resp.Cells, byKeys) {
		t.Errorf("%d cells, sorted %v", len(resp.Cells), slices.IsSortedFunc(resp.Cells, byKeys))
	}
	if len(resp.Totals) < 10 || !slices.IsSortedFunc(resp.Totals, byKeys) {
		t.Errorf("%d totals, sorted %v", len(resp.Totals), slices.IsSortedFunc(resp.Totals, byKeys))
	}
	years := map[string]bool{}
	for _, c := range res.Cells {
		years[c.Keys[1]] = true
	}
	if got := resp.DistinctValues; len(got) != 2 || got[0] != int32(len(nats)) || got[1] != int32(len(years)) {
		t.Errorf("distinct values %v, want [%d %d]", got, len(nats), len(years))
	}
}

// TestBenchAsksWhatTheServiceAnswers: the bench's tables are the service's release tables,
// and every call it draws is accepted, so that the bench measures answers, not refusals.
func TestBenchAsksWhatTheServiceAnswers(t *testing.T) {
	t.Parallel()
	for m, measure := range measures {
		if m == analyticsv1.Measure_MEASURE_REFERRALS {
			continue // not drawn by the bench
		}
		var want [][]cube.Dim
		for _, tab := range aggbench.Tables[m] {
			var ds []cube.Dim
			for _, d := range tab {
				if fine(dims[d]) == dims[d] {
					ds = append(ds, dims[d])
				}
			}
			want = append(want, ds)
		}
		var got [][]cube.Dim
		for _, tab := range tablesOf(measure) {
			got = append(got, tab)
		}
		if !slices.EqualFunc(want, got, slices.Equal) {
			t.Errorf("%s: the bench's tables %v, the service's %v", measure, want, got)
		}
	}
	r := rand.New(rand.NewPCG(2, 2))
	for range 2000 {
		req := aggbench.Request(r, 3)
		q, err := parseAggregate(req.GetMeasure(), req.GetGroupBy(), req.GetFilter())
		if err == nil {
			_, err = tableFor(q)
		}
		if err != nil {
			t.Fatalf("%v: %v", req, err)
		}
	}
}

// TestReleasesFollowTheCube: keepReleases brings a release whose block changed up to date in
// the background, and a query never answers from a release behind its block.
func TestReleasesFollowTheCube(t *testing.T) {
	t.Parallel()
	c := cube.New(region.CodeOf)
	row := func(persons int64) cube.Row {
		return cube.Row{Measure: "PERSONS_RETURNED", Year: 2026, Programme: "AVRR", Sex: "FEMALE", AgeBand: "30_38",
			Nationality: "IRQ", HostCountry: "DEU", ReturnCountry: "IRQ", Persons: persons}
	}
	if err := c.Apply([]cube.Row{row(40)}); err != nil {
		t.Fatal(err)
	}
	s := &Service{cube: c, logger: slog.New(slog.DiscardHandler)}
	q, err := parseAggregate(analyticsv1.Measure_MEASURE_PERSONS_RETURNED, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	total := func() int64 {
		resp, err := s.releaseSuppressed(q)
		if err != nil {
			t.Fatal(err)
		}
		return resp.GetCells()[0].GetCount()
	}
	if got := total(); got != 40 {
		t.Fatalf("total %d, want 40", got)
	}
	key := releaseKey{"PERSONS_RETURNED", 2026, "AVRR", 0}
	computed := func() *disclosure.Release { r, _ := s.releases.slot(key).current(); return r }
	first := computed()

	// In the background: the changed block's release is recomputed without a query.
	if err := c.Apply([]cube.Row{row(55)}); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error, 1)
	go func() { done <- s.keepReleases(ctx, time.Millisecond) }()
	for deadline := time.Now().Add(10 * time.Second); computed() == first; time.Sleep(time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("the release was not recomputed")
		}
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if got := total(); got != 55 {
		t.Fatalf("total %d, want 55", got)
	}

	// Without it: a query does not answer from a release behind its block.
	if err := c.Apply([]cube.Row{row(70)}); err != nil {
		t.Fatal(err)
	}
	if got := total(); got != 70 {
		t.Fatalf("total %d right after a change, want 70", got)
	}
}
