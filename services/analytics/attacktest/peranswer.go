package attacktest

import (
	"context"
	"slices"
	"strings"

	"github.com/passage-cm/passage/internal/disclosure"
	analyticsv1 "github.com/passage-cm/passage/proto/gen/passage/analytics/v1"
)

// PerAnswer answers from c as a service that protects each answer on its own would: the
// answer's cells and totals computed from the atoms, then disclosure.Suppress over them
// alone (k, primary and complementary), empty cells not listed, a table of no dimension its
// grand total withheld when small. It is the release policy issue 13 shows leaking, kept as
// a fixed target that proves the attacker finds what such a policy lets out.
func PerAnswer(c *Caseload, k int64) Answerer {
	return func(_ context.Context, req *analyticsv1.AggregateRequest) (*analyticsv1.AggregateResponse, error) {
		d := c.Domain
		filter, err := d.filter(req.GetFilter())
		if err != nil {
			return nil, err
		}
		groupBy := req.GetGroupBy()
		resp := &analyticsv1.AggregateResponse{K: int32(k)}
		if len(groupBy) == 0 {
			n := c.Count(filter)
			cell := &analyticsv1.Cell{Keys: []string{}, Count: n}
			if n > 0 && n < k {
				cell.Count, cell.Suppressed = 0, true
			}
			resp.Cells = []*analyticsv1.Cell{cell}
			return resp, nil
		}
		counts := map[string]int64{}
		for i := range filter.each {
			if c.Counts[i] == 0 {
				continue
			}
			keys := make([]string, len(groupBy))
			for j, dim := range groupBy {
				keys[j] = d.Value(i, dim)
			}
			counts[strings.Join(keys, "\x00")] += c.Counts[i]
		}
		t := disclosure.Table{Dimensions: len(groupBy)}
		for key, n := range counts {
			t.Cells = append(t.Cells, disclosure.Cell{Keys: strings.Split(key, "\x00"), Count: n})
		}
		slices.SortFunc(t.Cells, func(a, b disclosure.Cell) int { return slices.Compare(a.Keys, b.Keys) })
		released, err := disclosure.Suppress(t, k)
		if err != nil {
			return nil, err
		}
		distinct := make([]map[string]bool, len(groupBy))
		for i := range distinct {
			distinct[i] = map[string]bool{}
		}
		for _, r := range released {
			cell := &analyticsv1.Cell{Keys: r.Keys, Count: r.Count, Suppressed: r.Suppressed}
			switch {
			case r.Total:
				resp.Totals = append(resp.Totals, cell)
			case r.Count > 0 || r.Suppressed:
				resp.Cells = append(resp.Cells, cell)
				for i, key := range r.Keys {
					distinct[i][key] = true
				}
			}
		}
		for _, m := range distinct {
			resp.DistinctValues = append(resp.DistinctValues, int32(len(m)))
		}
		return resp, nil
	}
}
