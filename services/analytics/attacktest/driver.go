package attacktest

import (
	"context"
	"fmt"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	analyticsv1 "github.com/passage-cm/passage/proto/gen/passage/analytics/v1"
)

// Answerer answers an Aggregate request: the real service through its gRPC client
// (Client), or a model of a release policy (PerAnswer).
type Answerer func(ctx context.Context, req *analyticsv1.AggregateRequest) (*analyticsv1.AggregateResponse, error)

// Client answers through the AnalyticsService; ctx must carry an HQ analyst's token.
func Client(c analyticsv1.AnalyticsServiceClient) Answerer {
	return func(ctx context.Context, req *analyticsv1.AggregateRequest) (*analyticsv1.AggregateResponse, error) {
		return c.Aggregate(ctx, req)
	}
}

// Log is what a run asked and what was refused.
type Log struct {
	Asked int
	// Refused lists the requests refused with INVALID_ARGUMENT (a query the release
	// policy does not answer), each described with the refusal's message.
	Refused []string
}

// Run sends every request and gives each answer to a. A request refused with
// INVALID_ARGUMENT is logged and skipped; any other error ends the run.
func Run(ctx context.Context, answer Answerer, reqs []*analyticsv1.AggregateRequest, a *Attacker) (Log, error) {
	var log Log
	for _, req := range reqs {
		log.Asked++
		resp, err := answer(ctx, req)
		if status.Code(err) == codes.InvalidArgument {
			log.Refused = append(log.Refused, describe(req)+": "+status.Convert(err).Message())
			continue
		}
		if err != nil {
			return log, fmt.Errorf("%s: %w", describe(req), err)
		}
		if err := a.Observe(req, resp); err != nil {
			return log, err
		}
	}
	return log, nil
}
