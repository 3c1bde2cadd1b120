package analytics

import (
	"context"

	"github.com/passage-cm/passage/internal/region"
	analyticsv1 "github.com/passage-cm/passage/proto/gen/passage/analytics/v1"
)

// ListRegions implements analyticsv1.AnalyticsServiceServer: the grouping the region
// dimensions and filters use, from internal/region.
func (s *Service) ListRegions(ctx context.Context, _ *analyticsv1.ListRegionsRequest) (*analyticsv1.ListRegionsResponse, error) {
	if _, err := requireHQ(ctx); err != nil {
		return nil, err
	}
	s.logger.InfoContext(ctx, "analytics: list regions", "method", "ListRegions")
	rs := region.All()
	out := make([]*analyticsv1.Region, len(rs))
	for i, r := range rs {
		out[i] = &analyticsv1.Region{Code: r.Code, Name: r.Name, Countries: r.Countries}
	}
	return &analyticsv1.ListRegionsResponse{Regions: out}, nil
}
