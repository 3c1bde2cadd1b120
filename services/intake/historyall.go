package intake

import (
	"context"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	intakev1 "github.com/passage-cm/passage/proto/gen/passage/intake/v1"
)

// historyAllPage is how many events CaseHistory reads per query.
const historyAllPage = 500

// CaseHistory reads, through tx (declared for mission, on intake's role), every event of case
// id that mission keeps, oldest first, as GetCaseHistory shows them: for the operator's
// subject access export (internal/subjectaccess), which checks no caller and writes its own
// audit record.
func CaseHistory(ctx context.Context, tx pgx.Tx, mission string, id uuid.UUID) ([]*intakev1.CaseHistoryEntry, error) {
	var out []*intakev1.CaseHistoryEntry
	var after *historyPosition
	for {
		page, next, err := readHistory(ctx, tx, mission, id, after, historyAllPage)
		if err != nil {
			return nil, err
		}
		out = append(out, page...)
		if next == nil {
			return out, nil
		}
		after = next
	}
}
