package search

import (
	"context"
	"fmt"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/passage-cm/passage/internal/audit"
	"github.com/passage-cm/passage/internal/auth"
	"github.com/passage-cm/passage/internal/database"
	"github.com/passage-cm/passage/internal/enumcode"
	"github.com/passage-cm/passage/internal/vault"
	commonv1 "github.com/passage-cm/passage/proto/gen/passage/common/v1"
	intakev1 "github.com/passage-cm/passage/proto/gen/passage/intake/v1"
	searchv1 "github.com/passage-cm/passage/proto/gen/passage/search/v1"
)

// SearchPersons finds the people of the caller's mission who match the request's criterion.
//
// One transaction, declared for the caller's mission (row-level security hides every other
// mission's indexes and cases), reads the matches and the caller's access to each case, writes
// the audit records, and only then decrypts the identities the caller may read: if the
// records cannot be written, nothing is returned.
func (s *Service) SearchPersons(ctx context.Context, req *searchv1.SearchPersonsRequest) (*searchv1.SearchPersonsResponse, error) {
	who, err := auth.Caller(ctx)
	if err != nil {
		return nil, err
	}
	now := database.Timestamp(s.now())
	l, err := s.criterion(req, now)
	if err != nil {
		return nil, err
	}
	purpose := req.GetPurpose()
	resp := &searchv1.SearchPersonsResponse{}
	err = s.db.MissionTx(ctx, who.Mission, func(tx pgx.Tx) error {
		found, err := findMatches(ctx, tx, who, l, now)
		if err != nil {
			return err
		}
		// Reset: the transaction may be retried (a serialization failure).
		resp.Matches, resp.Truncated = nil, len(found) > maxMatches
		found = found[:min(len(found), maxMatches)]
		// The search's own record (its purpose, the kind of criterion and how many matches it
		// returned, never a value or an id), then one per case whose identity is returned, as
		// GetCase's full view writes.
		outcome := fmt.Sprintf("%s SEARCH by=%s matched=%d", purpose, l.by, len(found))
		if resp.Truncated {
			outcome += " truncated"
		}
		entries := []audit.Entry{audit.For(audit.WithReason(ctx, outcome), who, who.Mission, uuid.Nil)}
		var open []uuid.UUID
		for _, f := range found {
			if f.readable(purpose) {
				entries = append(entries, audit.For(audit.WithReason(ctx, purpose.String()), who, who.Mission, f.caseID))
				open = append(open, f.subjectID)
			}
		}
		if err := writeRecords(ctx, tx, entries); err != nil {
			return err
		}
		identities, err := s.open(ctx, tx, open)
		if err != nil {
			return err
		}
		for _, f := range found {
			m := &searchv1.PersonMatch{CaseId: f.caseID.String(), SubjectId: f.subjectID.String(), Rule: rules[f.rank-1],
				Programme: enumcode.Value[commonv1.Programme](f.programme), Status: enumcode.Value[intakev1.CaseStatus](f.status)}
			if f.readable(purpose) {
				m.Identity = identities[f.subjectID]
			}
			resp.Matches = append(resp.Matches, m)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return resp, nil
}

// writeRecords writes a search's audit records through tx, in one round trip, before it
// returns anything.
func writeRecords(ctx context.Context, tx pgx.Tx, entries []audit.Entry) error {
	var st database.Statement
	audit.Add(&st, entries)
	b := &pgx.Batch{}
	st.Queue(b)
	if err := tx.SendBatch(ctx, b).Close(); err != nil {
		return fmt.Errorf("search: write audit records: %w", err)
	}
	return nil
}

// open decrypts the identities of subjects, read through tx.
func (s *Service) open(ctx context.Context, tx pgx.Tx, subjects []uuid.UUID) (map[uuid.UUID]*commonv1.Person, error) {
	out := map[uuid.UUID]*commonv1.Person{}
	if len(subjects) == 0 {
		return out, nil
	}
	sealed, err := vault.Get(ctx, tx, subjects)
	if err != nil {
		return nil, err
	}
	for id, sl := range sealed {
		p, err := s.keys.Open(id, sl)
		if err != nil {
			return nil, fmt.Errorf("search: open identity: %w", err)
		}
		out[id] = p
	}
	return out, nil
}

// found is one person of one case whose index matched, with the caller's access to the case.
type found struct {
	rank                 int // 1-based position of the best kind matched in ranked
	caseID, subjectID    uuid.UUID
	programme, status    string
	worksOn, grantIsLive bool
}

// readable reports whether the caller may read the case's identity for purpose, the rule of
// intake's GetCase (services/intake/access.go): working on the case, or, for
// ACCESS_PURPOSE_BREAK_GLASS and only for it, a live break-glass grant.
func (f found) readable(purpose commonv1.AccessPurpose) bool {
	if purpose == commonv1.AccessPurpose_ACCESS_PURPOSE_BREAK_GLASS {
		return f.grantIsLive
	}
	return f.worksOn
}

// findMatches reads the people of the caller's mission whose indexes of the ranked kinds
// equal l's digests, best rank first, then by case: at most maxMatches+1 rows, the last
// telling that more matched. Access facts are the caller's mission's own, as readAccess reads
// them in intake.
//
// The digests are an index condition on vault.blind_index's primary key (digest first), and
// the few hits are materialised before the joins, so that the plan does not depend on the
// size of the mission's register.
func findMatches(ctx context.Context, tx pgx.Tx, who auth.Claims, l lookup, now time.Time) ([]found, error) {
	rows, err := tx.Query(ctx, `WITH hits AS MATERIALIZED (
  SELECT subject_id, min(array_position($3::text[], kind)) AS rank
  FROM vault.blind_index WHERE mission = $1 AND digest = ANY($2::bytea[]) AND kind = ANY($3::text[])
  GROUP BY subject_id
)
SELECT h.rank, m.case_id, m.subject_id, c.programme, c.status,
  c.created_by = $4
    OR EXISTS (SELECT 1 FROM intake.case_assignment a WHERE a.case_id = c.case_id AND a.mission = $1 AND a.staff_id = $4),
  EXISTS (SELECT 1 FROM intake.break_glass_grant g
          WHERE g.case_id = c.case_id AND g.mission = $1 AND g.grantee = $4 AND g.expires_at > $5)
FROM hits h JOIN intake.case_member m ON m.subject_id = h.subject_id
JOIN intake."case" c ON c.case_id = m.case_id
WHERE c.mission = $1 AND ($6 = '' OR m.nationality = $6)
ORDER BY h.rank, m.case_id, m.position
LIMIT $7`, who.Mission, l.digests, rankedKinds, who.Subject, now, l.nationality, maxMatches+1)
	if err != nil {
		return nil, fmt.Errorf("search: find matches: %w", err)
	}
	var f found
	out, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (found, error) {
		err := row.Scan(&f.rank, &f.caseID, &f.subjectID, &f.programme, &f.status, &f.worksOn, &f.grantIsLive)
		return f, err
	})
	if err != nil {
		return nil, fmt.Errorf("search: find matches: %w", err)
	}
	return out, nil
}
