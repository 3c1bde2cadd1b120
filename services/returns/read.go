package returns

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/google/uuid"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	returnsv1 "github.com/passage-cm/passage/proto/gen/passage/returns/v1"
)

const (
	defaultPageSize = 25
	maxPageSize     = 100
)

// GetReturn reads a return of the caller's mission with every fact recorded on it.
func (s *Service) GetReturn(ctx context.Context, req *returnsv1.GetReturnRequest) (*returnsv1.GetReturnResponse, error) {
	who, err := caller(ctx)
	if err != nil {
		return nil, err
	}
	id, err := parseCaseID(req.GetCaseId())
	if err != nil {
		return nil, err
	}
	rec, err := s.read(ctx, who.Mission, id)
	if err != nil {
		return nil, toStatus(err)
	}
	return &returnsv1.GetReturnResponse{Return: rec.ret}, nil
}

// ListReturns lists the caller's mission's returns, newest first, without their facts.
func (s *Service) ListReturns(ctx context.Context, req *returnsv1.ListReturnsRequest) (*returnsv1.ListReturnsResponse, error) {
	who, err := caller(ctx)
	if err != nil {
		return nil, err
	}
	mission := req.GetMission()
	if mission == "" {
		mission = who.Mission
	}
	if !who.InMission(mission) {
		return nil, status.Error(codes.PermissionDenied, "mission: only the caller's mission can be listed")
	}
	f := listFilter{mission: mission, limit: int(req.GetPageSize())}
	if f.limit == 0 {
		f.limit = defaultPageSize
	}
	f.limit = min(f.limit, maxPageSize)
	if req.GetStatus() != returnsv1.ReturnStatus_RETURN_STATUS_UNSPECIFIED {
		f.status = code(req.GetStatus(), statusPrefix)
	}
	filter := listFilterHash(mission, req.GetStatus())
	if tok := req.GetPageToken(); tok != "" {
		if f.after, err = decodePageToken(tok, filter); err != nil {
			var v violations
			v.add("page_token", "is not a token from a previous response with the same filters")
			return nil, v.err()
		}
	}
	// Read one more than a page to know whether another page follows.
	f.limit++
	returns, err := listReturns(ctx, s.pool, f)
	if err != nil {
		return nil, err
	}
	resp := &returnsv1.ListReturnsResponse{Returns: returns}
	if len(returns) == f.limit {
		resp.Returns = returns[:f.limit-1]
		last := resp.Returns[len(resp.Returns)-1]
		resp.NextPageToken = encodePageToken(cursor{CreatedAt: last.CreateTime.AsTime(), CaseID: uuid.MustParse(last.CaseId)}, filter)
	}
	return resp, nil
}

// pageToken is the opaque next_page_token: the cursor, and a hash of the filters it was
// issued for so that it cannot be replayed against other filters.
type pageToken struct {
	cursor
	Filter []byte `json:"f"`
}

func listFilterHash(mission string, st returnsv1.ReturnStatus) []byte {
	h := sha256.Sum256(fmt.Appendf(nil, "%s|%d", mission, st))
	return h[:8]
}

func encodePageToken(c cursor, filter []byte) string {
	b, _ := json.Marshal(pageToken{cursor: c, Filter: filter}) // a time, a UUID and bytes always marshal
	return base64.RawURLEncoding.EncodeToString(b)
}

func decodePageToken(tok string, filter []byte) (*cursor, error) {
	b, err := base64.RawURLEncoding.DecodeString(tok)
	if err != nil {
		return nil, err
	}
	var p pageToken
	if err := json.Unmarshal(b, &p); err != nil {
		return nil, err
	}
	if string(p.Filter) != string(filter) || p.CaseID == uuid.Nil {
		return nil, errors.New("page token for other filters")
	}
	return &p.cursor, nil
}
