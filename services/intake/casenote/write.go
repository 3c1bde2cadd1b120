package casenote

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/passage-cm/passage/internal/auth"
	"github.com/passage-cm/passage/internal/idempotency"
	"github.com/passage-cm/passage/internal/mutation"
	"github.com/passage-cm/passage/internal/rpcerr"
	"github.com/passage-cm/passage/internal/vault"
	casenotev1 "github.com/passage-cm/passage/proto/gen/passage/casenote/v1"
	commonv1 "github.com/passage-cm/passage/proto/gen/passage/common/v1"
	intakev1 "github.com/passage-cm/passage/proto/gen/passage/intake/v1"
)

// maxTextBytes bounds a note's text (the contract's max_bytes).
const maxTextBytes = 20000

// checkText adds to v what is wrong with a note's text (field names it). The validation stage
// checks the length already; blank text is the handler's rule.
func checkText(v *rpcerr.Violations, field, text string) {
	switch {
	case strings.TrimSpace(text) == "":
		v.Add(field, "must not be blank")
	case len(text) > maxTextBytes:
		v.Add(field, fmt.Sprintf("must be at most %d bytes", maxTextBytes))
	case !utf8.ValidString(text):
		v.Add(field, "must be UTF-8")
	}
}

// checkSensitivity adds to v a sensitivity that is not one of the contract's.
func checkSensitivity(v *rpcerr.Violations, s casenotev1.Sensitivity, required bool) {
	_, known := casenotev1.Sensitivity_name[int32(s)]
	switch {
	case !known:
		v.Add("sensitivity", "must be a defined Sensitivity")
	case required && s == casenotev1.Sensitivity_SENSITIVITY_UNSPECIFIED:
		v.Add("sensitivity", "is required")
	}
}

// AddCaseNote writes a new note on a case, about one of its people (the principal by
// default), sealed with that person's data key.
func (s *Service) AddCaseNote(ctx context.Context, req *casenotev1.AddCaseNoteRequest) (*casenotev1.AddCaseNoteResponse, error) {
	who, err := auth.Caller(ctx)
	if err != nil {
		return nil, err
	}
	var v rpcerr.Violations
	checkText(&v, "text", req.GetText())
	checkSensitivity(&v, req.GetSensitivity(), true)
	if req.GetSubjectId() != "" {
		if _, err := uuid.Parse(req.GetSubjectId()); err != nil {
			v.Add("subject_id", "must be a UUID")
		}
	}
	if err := v.Err(); err != nil {
		return nil, err
	}
	key, err := idempotency.NewKey(s.keys, who.Mission, req.GetRequestId(), casenotev1.CaseNoteService_AddCaseNote_FullMethodName, req)
	if err != nil {
		return nil, toStatus(err)
	}
	resp := &casenotev1.AddCaseNoteResponse{}
	m := mutation.Mutation{Who: who, Key: key, Ref: req.GetCaseId(), Resp: resp}
	err = s.adds.Run(ctx, m, func(a Access, st *mutation.Step) (proto.Message, error) {
		subject := cmp.Or(req.GetSubjectId(), a.Case.GetSubjectId())
		if !a.IsPerson(subject) {
			return nil, rpcerr.InvalidArgument(rpcerr.FieldViolation("subject_id", "is not a person of the case"))
		}
		if err := checkWrite(a, who, req.GetSensitivity(), subject); err != nil {
			return nil, err
		}
		n := &casenotev1.CaseNote{
			NoteId: uuid.NewString(), CaseId: a.Case.GetCaseId(), Mission: a.Mission, SubjectId: subject,
			Sensitivity: req.GetSensitivity(), Version: 1, Author: who.Subject, UpdatedBy: who.Subject,
			CreateTime: timestamppb.New(st.Now), UpdateTime: timestamppb.New(st.Now),
		}
		text, err := s.seal(ctx, st.Tx, n, req.GetText())
		if err != nil {
			return nil, err
		}
		queueInsertNote(st.Batch, n, text)
		resp.Note = n
		return &casenotev1.NoteAdded{CaseId: n.CaseId, NoteId: n.NoteId, Version: n.Version, Sensitivity: n.Sensitivity}, nil
	})
	if err != nil {
		return nil, toStatus(err)
	}
	return resp, nil
}

// EditCaseNote writes a new version of a note: new text, a new sensitivity, or both. The
// earlier versions stay as they were sealed.
func (s *Service) EditCaseNote(ctx context.Context, req *casenotev1.EditCaseNoteRequest) (*casenotev1.EditCaseNoteResponse, error) {
	who, err := auth.Caller(ctx)
	if err != nil {
		return nil, err
	}
	var v rpcerr.Violations
	if req.GetText() != "" {
		checkText(&v, "text", req.GetText())
	}
	checkSensitivity(&v, req.GetSensitivity(), false)
	if req.GetText() == "" && req.GetSensitivity() == casenotev1.Sensitivity_SENSITIVITY_UNSPECIFIED {
		v.Add("text", "or sensitivity is required: an edit changes at least one")
	}
	if err := v.Err(); err != nil {
		return nil, err
	}
	key, err := idempotency.NewKey(s.keys, who.Mission, req.GetRequestId(), casenotev1.CaseNoteService_EditCaseNote_FullMethodName, req)
	if err != nil {
		return nil, toStatus(err)
	}
	resp := &casenotev1.EditCaseNoteResponse{}
	m := mutation.Mutation{Who: who, Key: key, Ref: req.GetNoteId(), Version: req.GetVersion(), Resp: resp}
	err = s.edits.Run(ctx, m, func(l *lockedNote, st *mutation.Step) (proto.Message, error) {
		n := l.note
		if !mayRead(l.access, who.Role, n.Sensitivity) {
			return nil, errWithheld
		}
		to := n.Sensitivity
		if req.GetSensitivity() != casenotev1.Sensitivity_SENSITIVITY_UNSPECIFIED {
			to = req.GetSensitivity()
		}
		if err := checkWrite(l.access, who, to, n.SubjectId); err != nil {
			return nil, err
		}
		text := req.GetText()
		if text == "" {
			// A new sensitivity alone: the current text, sealed again for the new version.
			var err error
			if text, err = s.currentText(ctx, st.Tx, l.access, n); err != nil {
				return nil, err
			}
		}
		n.Sensitivity, n.Version, n.UpdatedBy, n.UpdateTime = to, st.Version, who.Subject, timestamppb.New(st.Now)
		sealed, err := s.seal(ctx, st.Tx, n, text)
		if err != nil {
			return nil, err
		}
		queueInsertVersion(st.Batch, n, sealed)
		resp.Note = n
		return &casenotev1.NoteEdited{CaseId: n.CaseId, NoteId: n.NoteId, Version: n.Version, Sensitivity: n.Sensitivity}, nil
	})
	if err != nil {
		return nil, toStatus(err)
	}
	return resp, nil
}

// lockedNote is a note being edited, with its writer's access to its case.
type lockedNote struct {
	note   *casenotev1.CaseNote
	access Access
}

// editKind describes a note to mutation.Run: locked FOR UPDATE in the caller's mission (a
// note of another mission is not found), then its case as intake sees it for the caller; the
// events are filed under the case.
func (s *Service) editKind(idem *idempotency.Store) mutation.Kind[*lockedNote] {
	return mutation.Kind[*lockedNote]{
		DB: s.db, Idem: idem, Producer: producer, Clock: s.clock, Parse: parseNoteID,
		Lock: func(ctx context.Context, tx pgx.Tx, who auth.Claims, id uuid.UUID) (*lockedNote, error) {
			n, err := readNote(ctx, tx, who.Mission, id, true)
			if err != nil {
				return nil, err
			}
			a, err := s.cases.NoteAccess(ctx, tx, who, uuid.MustParse(n.CaseId), commonv1.AccessPurpose_ACCESS_PURPOSE_UNSPECIFIED)
			if err != nil {
				return nil, err
			}
			return &lockedNote{note: n, access: a}, nil
		},
		Version: func(l *lockedNote) int64 { return l.note.Version },
		Mission: func(l *lockedNote) string { return l.note.Mission },
		Stale:   func(ref string, l *lockedNote) error { return staleVersion(ref, l.note.Version) },
		Save:    func(l *lockedNote, st *mutation.Step) { queueUpdateNote(st.Batch, l.note) },
		About:   func(l *lockedNote) uuid.UUID { return uuid.MustParse(l.note.CaseId) },
	}
}

// seal seals text as note n's current version with its subject's data key, read in tx.
func (s *Service) seal(ctx context.Context, tx pgx.Tx, n *casenotev1.CaseNote, text string) ([]byte, error) {
	subject := uuid.MustParse(n.SubjectId)
	keys, err := vault.DataKeys(ctx, tx, []uuid.UUID{subject})
	if err != nil {
		return nil, err
	}
	key, ok := keys[subject]
	if !ok {
		return nil, errErased
	}
	return s.keys.SealRecord(subject, key, noteKind, noteRef(n.NoteId, n.Version), []byte(text))
}

// IsPerson reports whether subject is one of the case's people.
func (a Access) IsPerson(subject string) bool {
	people := append([]*intakev1.CaseMember{a.Case.GetPrincipal()}, a.Case.GetHouseholdMembers()...)
	return slices.ContainsFunc(people, func(m *intakev1.CaseMember) bool { return m.GetSubjectId() == subject })
}
