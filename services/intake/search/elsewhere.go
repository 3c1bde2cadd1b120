package search

import (
	"context"
	"fmt"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/passage-cm/passage/internal/audit"
	"github.com/passage-cm/passage/internal/auth"
	"github.com/passage-cm/passage/internal/civildate"
	"github.com/passage-cm/passage/internal/database"
	"github.com/passage-cm/passage/internal/enumcode"
	"github.com/passage-cm/passage/internal/rpcerr"
	"github.com/passage-cm/passage/internal/vault"
	commonv1 "github.com/passage-cm/passage/proto/gen/passage/common/v1"
	intakev1 "github.com/passage-cm/passage/proto/gen/passage/intake/v1"
	searchv1 "github.com/passage-cm/passage/proto/gen/passage/search/v1"
)

// exactKinds are the only kinds compared across missions (migration 000038's policy shows no
// other): a loose hit in another mission cannot be ruled out by an asker who never sees its
// identity, so it would only leak that someone like the person is there.
var exactKinds = []string{vault.KindDocument.String(), vault.KindNameDateOfBirth.String()}

// maxElsewhere bounds an answer: an exact identifier held by more cases than this across
// missions is a data-quality problem, not a person.
const maxElsewhere = 50

// FindElsewhere tells a supervisor which other missions know the person of the request's
// exact criterion, by mission, programme, status and registration year.
//
// One transaction declares the caller's mission and the criterion's digests
// (database.DeclareSearchElsewhere): the policies of migration 000038 then show the other
// missions' exact-kind index rows of those digests and their cases, nothing else. It reads
// the answer, writes the asking mission's record and one record in each answering mission's
// chain, and commits; if a record cannot be written, nothing is returned.
func (s *Service) FindElsewhere(ctx context.Context, req *searchv1.FindElsewhereRequest) (*searchv1.FindElsewhereResponse, error) {
	who, err := auth.Caller(ctx)
	if err != nil {
		return nil, err
	}
	l, err := s.exactCriterion(req)
	if err != nil {
		return nil, err
	}
	resp := &searchv1.FindElsewhereResponse{}
	err = s.db.MissionTx(ctx, who.Mission, func(tx pgx.Tx) error {
		if err := database.DeclareSearchElsewhere(ctx, tx, l.digests); err != nil {
			return err
		}
		known, missions, err := findElsewhere(ctx, tx, who.Mission, l.digests)
		if err != nil {
			return err
		}
		// The asking mission's record: purpose, kind of criterion, how many missions answered.
		// Each answering mission's: the kind of criterion (the asking mission is the record's
		// caller_mission). Never a value or an id.
		entries := []audit.Entry{audit.For(audit.WithReason(ctx,
			fmt.Sprintf("%s ELSEWHERE by=%s missions=%d", req.GetPurpose(), l.by, len(missions))), who, who.Mission, uuid.Nil)}
		for _, m := range missions {
			entries = append(entries, audit.For(audit.WithReason(ctx, "ASKED_ELSEWHERE by="+l.by), who, m, uuid.Nil))
		}
		if err := writeRecords(ctx, tx, entries); err != nil {
			return err
		}
		resp.Known = known
		return nil
	})
	if err != nil {
		return nil, err
	}
	return resp, nil
}

// findElsewhere reads the cases of missions other than asking whose members hold one of
// digests as an exact-kind index, by mission, then programme, status and year; and the
// missions that answered, in order.
func findElsewhere(ctx context.Context, tx pgx.Tx, asking string, digests [][]byte) ([]*searchv1.KnownElsewhere, []string, error) {
	rows, err := tx.Query(ctx, `SELECT DISTINCT c.mission, c.programme, c.status, extract(year FROM c.registration_date)::int, c.case_id
FROM vault.blind_index b
JOIN intake.case_member m ON m.subject_id = b.subject_id AND m.mission = b.mission
JOIN intake."case" c ON c.case_id = m.case_id AND c.mission = m.mission
WHERE b.digest = ANY($1::bytea[]) AND b.kind = ANY($2::text[]) AND b.mission <> $3
ORDER BY 1, 2, 3, 4, 5
LIMIT $4`, digests, exactKinds, asking, maxElsewhere)
	if err != nil {
		return nil, nil, fmt.Errorf("search: find elsewhere: %w", err)
	}
	var known []*searchv1.KnownElsewhere
	var missions []string
	var mission, programme, status string
	var year int32
	var caseID uuid.UUID
	if _, err := pgx.ForEachRow(rows, []any{&mission, &programme, &status, &year, &caseID}, func() error {
		known = append(known, &searchv1.KnownElsewhere{Mission: mission, RegistrationYear: year,
			Programme: enumcode.Value[commonv1.Programme](programme), Status: enumcode.Value[intakev1.CaseStatus](status)})
		if len(missions) == 0 || missions[len(missions)-1] != mission {
			missions = append(missions, mission)
		}
		return nil
	}); err != nil {
		return nil, nil, fmt.Errorf("search: find elsewhere: %w", err)
	}
	return known, missions, nil
}

// exactCriterion checks req's criterion beyond its .proto rules and computes its exact
// digests: the document's, or the name's with the full date of birth (kind name_dob). A bad
// field is an InvalidArgument naming it, never quoting it.
func (s *Service) exactCriterion(req *searchv1.FindElsewhereRequest) (lookup, error) {
	var v rpcerr.Violations
	var l lookup
	switch c := req.GetCriterion().(type) {
	case *searchv1.FindElsewhereRequest_Document:
		s.addDocument(&l, &v, c.Document)
	case *searchv1.FindElsewhereRequest_Name:
		n := c.Name
		l.by = "name_date_of_birth"
		dob := n.GetDateOfBirth()
		// A full date: across missions only the exact index is compared (exactKinds).
		err := civildate.CheckFull(dob)
		if err == nil {
			err = civildate.NotAfter(dob, database.Timestamp(s.now()))
		}
		if err != nil {
			v.Add("name.date_of_birth", err.Error())
			break
		}
		for _, ix := range s.keys.NameIndexes(n.GetGivenName(), n.GetFamilyName(), dob) {
			if ix.Kind == vault.KindNameDateOfBirth {
				l.digests = append(l.digests, ix.Digest)
			}
		}
		if len(l.digests) == 0 {
			v.Add("name.given_name", "must contain a letter or a digit")
		}
	default:
		v.Add("criterion", "is required: document or name")
	}
	return l, v.Err()
}
