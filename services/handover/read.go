package handover

import (
	"context"
	"fmt"

	"github.com/google/uuid"

	"github.com/passage-cm/passage/internal/auth"
	"github.com/passage-cm/passage/internal/pagetoken"
	"github.com/passage-cm/passage/internal/rpcerr"
	handoverv1 "github.com/passage-cm/passage/proto/gen/passage/handover/v1"
)

// GetHandover reads a hand-over the caller's mission sends or receives; any other is
// NOT_FOUND, as one that does not exist.
func (s *Service) GetHandover(ctx context.Context, req *handoverv1.GetHandoverRequest) (*handoverv1.GetHandoverResponse, error) {
	who, err := auth.Caller(ctx)
	if err != nil {
		return nil, err
	}
	id, err := rpcerr.ParseID("handover_id", req.GetHandoverId())
	if err != nil {
		return nil, err
	}
	h, err := getHandover(ctx, s.db.Mission(who.Mission), id, false)
	if err != nil {
		return nil, toStatus(err)
	}
	return &handoverv1.GetHandoverResponse{Handover: h}, nil
}

// ListHandovers lists the caller's mission's hand-overs, incoming, outgoing or both, newest
// first, by status if asked, a page at a time.
func (s *Service) ListHandovers(ctx context.Context, req *handoverv1.ListHandoversRequest) (*handoverv1.ListHandoversResponse, error) {
	who, err := auth.Caller(ctx)
	if err != nil {
		return nil, err
	}
	f := listFilter{mission: who.Mission, direction: req.GetDirection(), limit: pagetoken.Size(req.GetPageSize())}
	if req.GetStatus() != handoverv1.HandoverStatus_HANDOVER_STATUS_UNSPECIFIED {
		f.status = statusCode(req.GetStatus())
	}
	// A page token is bound to every filter of the request, so that it cannot be replayed
	// against others; the page size may change between pages.
	filter := pagetoken.Filter(fmt.Sprintf("%s|%d|%d", who.Mission, req.GetDirection(), req.GetStatus()))
	if tok := req.GetPageToken(); tok != "" {
		if f.after, err = pagetoken.Decode(tok, filter); err != nil {
			return nil, rpcerr.InvalidArgument(rpcerr.FieldViolation("page_token", pagetoken.Mismatch))
		}
	}
	// Read one more than a page to know whether another page follows.
	f.limit++
	hs, err := listHandovers(ctx, s.db.Mission(who.Mission), f)
	if err != nil {
		return nil, err
	}
	resp := &handoverv1.ListHandoversResponse{Handovers: hs}
	if len(hs) == f.limit {
		resp.Handovers = hs[:f.limit-1]
		last := resp.Handovers[len(resp.Handovers)-1]
		resp.NextPageToken = pagetoken.Encode(pagetoken.Cursor{Time: last.CreateTime.AsTime(), ID: uuid.MustParse(last.HandoverId)}, filter)
	}
	return resp, nil
}
