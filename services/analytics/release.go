package analytics

import (
	"context"
	"errors"
	"slices"
	"strconv"
	"strings"
	"time"

	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc/codes"

	"github.com/passage-cm/passage/internal/auth"
	"github.com/passage-cm/passage/internal/enumcode"
	"github.com/passage-cm/passage/internal/privacy"
	"github.com/passage-cm/passage/internal/rpcerr"
	analyticsv1 "github.com/passage-cm/passage/proto/gen/passage/analytics/v1"
	"github.com/passage-cm/passage/services/analytics/cube"
)

// releaseSuppressed releases q's answer from the protected releases (published.go): exact
// counts, with every number withheld that is, or adds up, an entry the releases withhold.
func (s *Service) releaseSuppressed(q aggregateQuery) (*analyticsv1.AggregateResponse, error) {
	cells, totals, err := s.published(q)
	if err != nil {
		return nil, err
	}
	return &analyticsv1.AggregateResponse{
		Cells:          cells,
		Totals:         totals,
		K:              DefaultK,
		DistinctValues: distinct(len(q.groupBy), cells),
	}, nil
}

func sortCells(cs []*analyticsv1.Cell) {
	slices.SortFunc(cs, func(a, b *analyticsv1.Cell) int { return slices.Compare(a.GetKeys(), b.GetKeys()) })
}

// distinct counts, per grouped dimension, the values its listed cells hold: withheld cells
// say a category is present, not how many are in it. It is worked out from the cells given,
// so that it tells nothing they do not.
func distinct(n int, cells []*analyticsv1.Cell) []int32 {
	out := make([]int32, n)
	for i := range n {
		seen := map[string]struct{}{}
		for _, c := range cells {
			if c.GetCount() > 0 || c.GetSuppressed() {
				seen[c.GetKeys()[i]] = struct{}{}
			}
		}
		out[i] = int32(len(seen))
	}
	return out
}

// vocabulary is how many values one person can hold at once of a multi-valued dimension: the
// codes of its enum (a person with none counts under NONE or UNKNOWN alone).
var vocabulary = map[cube.Dim]int64{cube.Vulnerability: 10, cube.ExploitationType: 8}

// releaseDP releases res under differential privacy (releaseNoisy). Totals are sums of the
// noisy cells over additive dimensions only (post-processing, free of privacy cost); a total
// over a multi-valued dimension is not released.
func (s *Service) releaseDP(ctx context.Context, claims auth.Claims, q aggregateQuery, res cube.Result, epsilon float64) (*analyticsv1.AggregateResponse, error) {
	rel, err := s.releaseNoisy(ctx, claims, q, res, epsilon, s.now(), describe(q))
	if err != nil {
		return nil, err
	}
	resp := &analyticsv1.AggregateResponse{Epsilon: epsilon, RemainingBudget: rel.remaining}
	for _, p := range rel.cells {
		resp.Cells = append(resp.Cells, &analyticsv1.Cell{Keys: p.Keys, Count: p.Count})
	}
	resp.Totals = additiveTotals(q.query.GroupBy, rel.cells)
	resp.DistinctValues = distinct(len(q.groupBy), resp.Cells)
	sortCells(resp.Cells)
	return resp, nil
}

// noisyRelease is one differentially private release of a table's cells.
type noisyRelease struct {
	// cells are the partitions selected, with their noisy counts, sorted by keys.
	cells []privacy.Partition
	// params are the release's parameters: the ε spent, the δ of partition selection.
	params privacy.Params
	// remaining is the caller's budget left for the year after this release.
	remaining float64
}

// dpOffered refuses differential privacy for a measure one person can count in any number of
// times: no release could bound their contribution. INVALID_ARGUMENT naming
// differential_privacy.
func dpOffered(q aggregateQuery) error {
	if unboundedPerPerson[q.measure] {
		return rpcerr.InvalidArgument(rpcerr.FieldViolation("differential_privacy",
			"not offered for "+q.measure+": one person may count any number of times; use suppression"))
	}
	return nil
}

// releaseNoisy is the differentially private release Aggregate and ExportAggregate share:
// the caller's yearly budget is spent first, at the time at and described by what for the
// ledger (RESOURCE_EXHAUSTED, with the remaining budget in its details and nothing released,
// when it would be overspent), then internal/privacy selects partitions and noises their
// counts, one person contributing to at most as many cells as the vocabularies of the
// multi-valued dimensions grouped by allow.
func (s *Service) releaseNoisy(ctx context.Context, claims auth.Claims, q aggregateQuery, res cube.Result, epsilon float64, at time.Time, what string) (noisyRelease, error) {
	bounds := make([]int64, 0, len(q.query.GroupBy))
	for _, d := range q.query.GroupBy {
		if v, ok := vocabulary[d]; ok {
			bounds = append(bounds, v)
		} else {
			bounds = append(bounds, 1)
		}
	}
	bound, err := privacy.ContributionBound(bounds...)
	if err != nil {
		return noisyRelease{}, err
	}
	params := privacy.Params{Epsilon: epsilon, Delta: privacy.DefaultDelta, MaxPartitionsContributed: bound}
	remaining, err := s.ledger.Spend(ctx, claims.Subject, at, epsilon, what)
	var exhausted *privacy.ExhaustedError
	switch {
	case errors.As(err, &exhausted):
		left := exhausted.Remaining()
		return noisyRelease{}, rpcerr.WithDetails(codes.ResourceExhausted, "the yearly privacy budget is spent: "+strconv.FormatFloat(left, 'f', -1, 64)+" left",
			&errdetails.ErrorInfo{Reason: "PRIVACY_BUDGET_EXHAUSTED", Domain: errorDomain,
				Metadata: map[string]string{"remaining": strconv.FormatFloat(left, 'f', -1, 64)}},
			&errdetails.QuotaFailure{Violations: []*errdetails.QuotaFailure_Violation{{
				Subject: "differential_privacy.epsilon", Description: "more than the yearly budget left"}}})
	case errors.Is(err, privacy.ErrInvalid):
		return noisyRelease{}, rpcerr.InvalidArgument(rpcerr.FieldViolation("differential_privacy.epsilon", "out of range"))
	case err != nil:
		return noisyRelease{}, err
	}
	parts := make([]privacy.Partition, len(res.Cells))
	for i, c := range res.Cells {
		parts[i] = privacy.Partition{Keys: c.Keys, Count: c.Count}
	}
	noisy, err := privacy.Release(params, parts)
	if err != nil {
		return noisyRelease{}, err
	}
	return noisyRelease{cells: noisy, params: params, remaining: remaining}, nil
}

// additiveTotals sums released partitions into every marginal total that adds over additive
// dimensions only.
func additiveTotals(dims []cube.Dim, parts []privacy.Partition) []*analyticsv1.Cell {
	n := len(dims)
	var out []*analyticsv1.Cell
	for mask := (1 << n) - 2; mask >= 0; mask-- {
		ok := true
		for i, d := range dims {
			if mask&(1<<i) == 0 && d.MultiValued() {
				ok = false
			}
		}
		if !ok {
			continue
		}
		sums := map[string]int64{}
		for _, p := range parts {
			keys := make([]string, n)
			for i := range n {
				if mask&(1<<i) != 0 {
					keys[i] = p.Keys[i]
				}
			}
			sums[strings.Join(keys, "\x00")] += p.Count
		}
		for k, v := range sums {
			keys := strings.Split(k, "\x00")
			out = append(out, &analyticsv1.Cell{Keys: keys, Count: v})
		}
		if len(parts) == 0 && mask == 0 {
			out = append(out, &analyticsv1.Cell{Keys: make([]string, n)})
		}
	}
	sortCells(out)
	return out
}

// describe is the ledger's coded description of a release, e.g.
// "measure=PERSONS_RETURNED;group_by=YEAR,SEX".
func describe(q aggregateQuery) string {
	dims := enumcode.Codes(q.groupBy)
	return "measure=" + q.measure + ";group_by=" + strings.Join(dims, ",")
}

// GetPrivacyBudget implements analyticsv1.AnalyticsServiceServer.
func (s *Service) GetPrivacyBudget(ctx context.Context, req *analyticsv1.GetPrivacyBudgetRequest) (*analyticsv1.GetPrivacyBudgetResponse, error) {
	claims, err := requireHQ(ctx)
	if err != nil {
		return nil, err
	}
	s.logger.InfoContext(ctx, "analytics: privacy budget", "method", "GetPrivacyBudget")
	year := int(req.GetYear())
	if year == 0 {
		year = s.now().UTC().Year()
	}
	spent, remaining, err := s.ledger.Remaining(ctx, claims.Subject, year)
	if err != nil {
		return nil, err
	}
	return &analyticsv1.GetPrivacyBudgetResponse{Year: int32(year), Budget: s.ledger.Budget(), Spent: spent, Remaining: remaining}, nil
}
