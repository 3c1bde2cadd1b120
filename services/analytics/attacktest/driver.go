package attacktest

import (
	"context"
	"fmt"
	"sync"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	analyticsv1 "github.com/passage-cm/passage/proto/gen/passage/analytics/v1"
)

// Answerer answers an Aggregate request: the real service through its gRPC client
// (Client), or a model of a release policy (PerAnswer). It must be safe for concurrent use.
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

// inFlight is how many requests Run has outstanding at once.
const inFlight = 4

// Run sends every request (a few at a time) and gives the answers to a in the order of
// reqs. A request refused with INVALID_ARGUMENT is logged and skipped; any other error ends
// the run.
func Run(ctx context.Context, answer Answerer, reqs []*analyticsv1.AggregateRequest, a *Attacker) (Log, error) {
	type result struct {
		resp *analyticsv1.AggregateResponse
		err  error
	}
	results := make([]result, len(reqs))
	next := make(chan int)
	var wg sync.WaitGroup
	for range inFlight {
		wg.Go(func() {
			for i := range next {
				resp, err := answer(ctx, reqs[i])
				results[i] = result{resp, err}
			}
		})
	}
	for i := range reqs {
		next <- i
	}
	close(next)
	wg.Wait()
	var log Log
	for i, req := range reqs {
		log.Asked++
		r := results[i]
		if status.Code(r.err) == codes.InvalidArgument {
			log.Refused = append(log.Refused, describe(req)+": "+status.Convert(r.err).Message())
			continue
		}
		if r.err != nil {
			return log, fmt.Errorf("%s: %w", describe(req), r.err)
		}
		if err := a.Observe(req, r.resp); err != nil {
			return log, err
		}
	}
	return log, nil
}
