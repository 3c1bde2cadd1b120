package analytics

import (
	"context"
	"slices"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/passage-cm/passage/internal/auth"
	analyticsv1 "github.com/passage-cm/passage/proto/gen/passage/analytics/v1"
	"github.com/passage-cm/passage/services/analytics/cube"
)

// releaseSuppressed releases res with every count below k withheld.
func (s *Service) releaseSuppressed(q aggregateQuery, res cube.Result, k int64) (*analyticsv1.AggregateResponse, error) {
	cells, totals := suppress(res, k)
	return &analyticsv1.AggregateResponse{
		Cells:          cells,
		Totals:         totals,
		K:              int32(k),
		DistinctValues: distinct(len(q.groupBy), res.Cells),
	}, nil
}

// suppress applies primary suppression: a count from 1 to k-1 is withheld (count 0,
// suppressed). It does not yet withhold complements, so a suppressed cell can be recovered
// from a total by subtraction: internal/disclosure replaces it.
func suppress(res cube.Result, k int64) (cells, totals []*analyticsv1.Cell) {
	out := func(cs []cube.Cell) []*analyticsv1.Cell {
		o := make([]*analyticsv1.Cell, len(cs))
		for i, c := range cs {
			o[i] = &analyticsv1.Cell{Keys: c.Keys, Count: c.Count}
			if c.Count > 0 && c.Count < k {
				o[i].Count, o[i].Suppressed = 0, true
			}
		}
		return o
	}
	return out(res.Cells), out(res.Totals)
}

// distinct counts, per grouped dimension, the values its cells hold: suppressed cells say a
// category is present, not how many are in it.
func distinct(n int, cells []cube.Cell) []int32 {
	out := make([]int32, n)
	for i := range n {
		var vs []string
		for _, c := range cells {
			if c.Count > 0 {
				vs = append(vs, c.Keys[i])
			}
		}
		slices.Sort(vs)
		out[i] = int32(len(slices.Compact(vs)))
	}
	return out
}

// releaseDP releases res under differential privacy, spending epsilon from the caller's
// yearly budget. It needs internal/privacy, which is not in this build yet.
func (s *Service) releaseDP(_ context.Context, _ auth.Claims, _ aggregateQuery, _ cube.Result, _ float64) (*analyticsv1.AggregateResponse, error) {
	return nil, status.Error(codes.Unimplemented, "differential privacy releases are not available in this build")
}
