package casenote

import (
	"context"
	"time"

	"github.com/google/uuid"

	"github.com/passage-cm/passage/internal/auth"
	"github.com/passage-cm/passage/internal/pagetoken"
	"github.com/passage-cm/passage/internal/rpcerr"
	commonv1 "github.com/passage-cm/passage/proto/gen/passage/common/v1"
)

// CaseList is a validated request for a page of what the caller's mission keeps on a case
// (its notes, its documents), newest first: who asks, the case, and the page.
type CaseList struct {
	Who    auth.Claims
	CaseID uuid.UUID
	// Limit is the page's size; After the last record of the previous page, if any.
	Limit int
	After *pagetoken.Cursor
	hash  []byte // the filter the page tokens carry: the case
}

// ParseCaseList validates a list request: an authenticated caller, a purpose (noPurpose when
// none is stated), the case id and the page token, which must be one of this case's.
func ParseCaseList(ctx context.Context, caseID string, purpose commonv1.AccessPurpose, pageSize int32, pageToken string,
	noPurpose error,
) (CaseList, error) {
	who, err := auth.Caller(ctx)
	if err != nil {
		return CaseList{}, err
	}
	if purpose == commonv1.AccessPurpose_ACCESS_PURPOSE_UNSPECIFIED {
		return CaseList{}, noPurpose
	}
	id, err := parseCaseID(caseID)
	if err != nil {
		return CaseList{}, err
	}
	l := CaseList{Who: who, CaseID: id, Limit: pagetoken.Size(pageSize), hash: pagetoken.Filter(id.String())}
	if pageToken != "" {
		if l.After, err = pagetoken.Decode(pageToken, l.hash); err != nil {
			return CaseList{}, rpcerr.InvalidArgument(rpcerr.FieldViolation("page_token", pagetoken.Mismatch))
		}
	}
	return l, nil
}

// NextToken is the token of the page after one whose last record was created at t with id.
func (l CaseList) NextToken(t time.Time, id uuid.UUID) string {
	return pagetoken.Encode(pagetoken.Cursor{Time: t, ID: id}, l.hash)
}

// AfterArgs are the keyset query's arguments for the page's start: the previous page's last
// creation time (nil on the first page) and id.
func (l CaseList) AfterArgs() (*time.Time, uuid.UUID) {
	if l.After == nil {
		return nil, uuid.Nil
	}
	return &l.After.Time, l.After.ID
}
