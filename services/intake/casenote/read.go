package casenote

import (
	"context"
	"fmt"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/passage-cm/passage/internal/audit"
	"github.com/passage-cm/passage/internal/auth"
	"github.com/passage-cm/passage/internal/database"
	"github.com/passage-cm/passage/internal/rpcerr"
	"github.com/passage-cm/passage/internal/vault"
	casenotev1 "github.com/passage-cm/passage/proto/gen/passage/casenote/v1"
	commonv1 "github.com/passage-cm/passage/proto/gen/passage/common/v1"
	intakev1 "github.com/passage-cm/passage/proto/gen/passage/intake/v1"
)

// errWithheld is a note whose sensitivity the caller may not read.
var errWithheld = status.Error(codes.PermissionDenied, "note_id: the note's sensitivity is one you may not read")

// errNoPurpose is a read without a stated purpose.
var errNoPurpose = rpcerr.InvalidArgument(rpcerr.FieldViolation("purpose", "is required: why you read the notes"))

// GetCaseNote reads one note of the caller's mission, with its history on request, for a
// stated purpose, audited in the reading transaction.
func (s *Service) GetCaseNote(ctx context.Context, req *casenotev1.GetCaseNoteRequest) (*casenotev1.GetCaseNoteResponse, error) {
	who, err := auth.Caller(ctx)
	if err != nil {
		return nil, err
	}
	if req.GetPurpose() == commonv1.AccessPurpose_ACCESS_PURPOSE_UNSPECIFIED {
		return nil, errNoPurpose
	}
	id, err := parseNoteID(req.GetNoteId())
	if err != nil {
		return nil, err
	}
	resp := &casenotev1.GetCaseNoteResponse{}
	// One transaction: the access decision, the audit record and the texts it allows are
	// read from one snapshot, and nothing is returned unrecorded.
	err = s.db.MissionTx(ctx, who.Mission, func(tx pgx.Tx) error {
		n, err := readNote(ctx, tx, who.Mission, id, false)
		if err != nil {
			return err
		}
		a, err := s.cases.NoteAccess(ctx, tx, who, uuid.MustParse(n.CaseId), req.GetPurpose())
		if err != nil {
			return err
		}
		if !mayRead(a, who.Role, n.Sensitivity) {
			return errWithheld
		}
		if err := a.RequireAssistance(""); err != nil {
			return err
		}
		if err := audit.Write(ctx, tx, audit.For(audit.WithReason(ctx, a.ReadReason(req.GetPurpose())), who, who.Mission, id)); err != nil {
			return err
		}
		versions, err := readVersions(ctx, tx, id, n.Version, req.GetHistory())
		if err != nil {
			return err
		}
		o, err := s.openerFor(ctx, tx, a, []*casenotev1.CaseNote{n})
		if err != nil {
			return err
		}
		for _, v := range versions {
			cv := &casenotev1.CaseNoteVersion{Version: v.version, Sensitivity: v.sensitivity, Author: v.author,
				WriteTime: timestamppb.New(v.writtenAt), Withheld: !mayRead(a, who.Role, v.sensitivity)}
			if !cv.Withheld {
				if cv.Text, n.Erasure, err = o.open(n, v.version, v.text); err != nil {
					return err
				}
			}
			if v.version == n.Version {
				n.Text = cv.Text
			}
			if req.GetHistory() {
				n.History = append(n.History, cv)
			}
		}
		resp.Note = n
		return nil
	})
	if err != nil {
		return nil, toStatus(err)
	}
	return resp, nil
}

// ListCaseNotes lists the caller's mission's notes on a case that the caller may read, newest
// first, for a stated purpose, audited on the case; the others are counted, not listed.
func (s *Service) ListCaseNotes(ctx context.Context, req *casenotev1.ListCaseNotesRequest) (*casenotev1.ListCaseNotesResponse, error) {
	l, err := ParseCaseList(ctx, req.GetCaseId(), req.GetPurpose(), req.GetPageSize(), req.GetPageToken(), errNoPurpose)
	if err != nil {
		return nil, err
	}
	f := listFilter{CaseList: l}
	var resp *casenotev1.ListCaseNotesResponse
	err = s.cases.AwaitShare(ctx, l.CaseID, func() error {
		return s.db.MissionTx(ctx, l.Who.Mission, func(tx pgx.Tx) (err error) {
			resp, err = s.list(ctx, tx, l.Who, req.GetPurpose(), f)
			return err
		})
	})
	if err != nil {
		return nil, toStatus(err)
	}
	if len(resp.Notes) > l.Limit {
		resp.Notes = resp.Notes[:l.Limit]
		last := resp.Notes[l.Limit-1]
		resp.NextPageToken = l.NextToken(last.CreateTime.AsTime(), uuid.MustParse(last.NoteId))
	}
	return resp, nil
}

// list reads, in tx, a page of the notes f selects (one more than f.limit, to tell whether
// another page follows) and the count of those withheld.
func (s *Service) list(ctx context.Context, tx pgx.Tx, who auth.Claims, purpose commonv1.AccessPurpose, f listFilter) (*casenotev1.ListCaseNotesResponse, error) {
	a, err := s.cases.NoteAccess(ctx, tx, who, f.CaseID, purpose)
	if err != nil {
		return nil, err
	}
	if err := a.RequireAssistance(""); err != nil {
		return nil, err
	}
	if err := audit.Write(ctx, tx, audit.For(audit.WithReason(ctx, a.ReadReason(purpose)), who, who.Mission, f.CaseID)); err != nil {
		return nil, err
	}
	f.readable = readable(a, who.Role)
	f.Limit++
	notes, texts, err := listNotes(ctx, tx, f)
	if err != nil {
		return nil, err
	}
	resp := &casenotev1.ListCaseNotesResponse{Notes: notes}
	if resp.WithheldCount, err = countWithheld(ctx, tx, f); err != nil {
		return nil, err
	}
	o, err := s.openerFor(ctx, tx, a, notes)
	if err != nil {
		return nil, err
	}
	for i, n := range notes {
		if n.Text, n.Erasure, err = o.open(n, n.Version, texts[i]); err != nil {
			return nil, err
		}
	}
	return resp, nil
}

// ReadReason is the audit reason of a read: the purpose, and the hand-over it rests on for a
// case shared with the caller's mission.
func (a Access) ReadReason(purpose commonv1.AccessPurpose) string {
	if a.Handover == uuid.Nil {
		return purpose.String()
	}
	return purpose.String() + " handovers/" + a.Handover.String()
}

// opener opens the texts of notes about a case's people.
type opener struct {
	keyring *vault.Keyring
	keys    *Keys
}

// openerFor reads, through q, the data keys of the people notes are about (ReadKeys).
func (s *Service) openerFor(ctx context.Context, q database.Querier, a Access, notes []*casenotev1.CaseNote) (*opener, error) {
	subjects := make([]uuid.UUID, 0, len(notes))
	for _, n := range notes {
		subjects = append(subjects, uuid.MustParse(n.SubjectId))
	}
	keys, err := ReadKeys(ctx, q, a, subjects)
	if err != nil {
		return nil, err
	}
	return &opener{keyring: s.keys, keys: keys}, nil
}

// open returns the text of version of note n, sealed as text, or the erasure of its person.
func (o *opener) open(n *casenotev1.CaseNote, version int64, text []byte) (string, *intakev1.Erasure, error) {
	subject := uuid.MustParse(n.SubjectId)
	key, erasure, err := o.keys.Key(subject)
	if err != nil || erasure != nil {
		return "", erasure, err
	}
	pt, err := OpenVersion(o.keyring, subject, key, n.NoteId, version, text)
	if err != nil {
		return "", nil, err
	}
	return string(pt), nil, nil
}

// currentText reads and opens the text of note n's current version, in tx; errErased when
// its person was erased.
func (s *Service) currentText(ctx context.Context, tx pgx.Tx, a Access, n *casenotev1.CaseNote) (string, error) {
	versions, err := readVersions(ctx, tx, uuid.MustParse(n.NoteId), n.Version, false)
	if err != nil {
		return "", err
	}
	if len(versions) != 1 {
		return "", fmt.Errorf("note version %d: %d rows", n.Version, len(versions))
	}
	o, err := s.openerFor(ctx, tx, a, []*casenotev1.CaseNote{n})
	if err != nil {
		return "", err
	}
	text, erased, err := o.open(n, n.Version, versions[0].text)
	if err == nil && erased != nil {
		return "", errErased
	}
	return text, err
}
