package document

import (
	"context"
	"encoding/hex"
	"fmt"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/passage-cm/passage/internal/audit"
	"github.com/passage-cm/passage/internal/auth"
	"github.com/passage-cm/passage/internal/database"
	"github.com/passage-cm/passage/internal/vault"
	commonv1 "github.com/passage-cm/passage/proto/gen/passage/common/v1"
	documentv1 "github.com/passage-cm/passage/proto/gen/passage/document/v1"
	intakev1 "github.com/passage-cm/passage/proto/gen/passage/intake/v1"
	"github.com/passage-cm/passage/services/intake/casenote"
)

// errErasedRead is a download of a document about a person who was erased.
var errErasedRead = status.Error(codes.FailedPrecondition, "document_id: the person the document is about was erased; its bytes cannot be read")

// DownloadDocument sends a document's metadata, then its bytes chunk by chunk, for a stated
// purpose. The read is decided and audited in one transaction, committed before any byte is
// sent; the bytes are read in a second, one chunk in memory at a time.
func (s *Service) DownloadDocument(req *documentv1.DownloadDocumentRequest, stream grpc.ServerStreamingServer[documentv1.DownloadDocumentResponse]) error {
	ctx := stream.Context()
	who, d, a, err := s.readOne(ctx, req.GetDocumentId(), req.GetPurpose())
	if err != nil {
		return toStatus(err)
	}
	err = s.db.MissionTx(ctx, who.Mission, func(tx pgx.Tx) error {
		o, err := s.openerFor(ctx, tx, a, []stored{d})
		if err != nil {
			return err
		}
		if err := o.checksum(d); err != nil {
			return err
		}
		if d.doc.Erasure != nil {
			return errErasedRead
		}
		if err := stream.Send(&documentv1.DownloadDocumentResponse{Part: &documentv1.DownloadDocumentResponse_Document{Document: d.doc}}); err != nil {
			return err
		}
		next := int32(0)
		err = s.store.Chunks(ctx, tx, d.doc.Mission, uuid.MustParse(d.doc.DocumentId), d.chunks, func(index int32, sealed []byte) error {
			if index != next {
				return fmt.Errorf("document chunk %d where %d was due", index, next)
			}
			next++
			b, err := o.open(d.doc, index, sealed)
			if err != nil {
				return err
			}
			return stream.Send(&documentv1.DownloadDocumentResponse{Part: &documentv1.DownloadDocumentResponse_Chunk{Chunk: b}})
		})
		if err == nil && next != d.chunks {
			return fmt.Errorf("document has %d chunks of %d", next, d.chunks)
		}
		return err
	})
	return toStatus(err)
}

// GetDocument reads one document's metadata, with its checksum, for a stated purpose,
// audited in the reading transaction.
func (s *Service) GetDocument(ctx context.Context, req *documentv1.GetDocumentRequest) (*documentv1.GetDocumentResponse, error) {
	who, d, a, err := s.readOne(ctx, req.GetDocumentId(), req.GetPurpose())
	if err != nil {
		return nil, toStatus(err)
	}
	err = s.db.MissionTx(ctx, who.Mission, func(tx pgx.Tx) error {
		o, err := s.openerFor(ctx, tx, a, []stored{d})
		if err != nil {
			return err
		}
		return o.checksum(d)
	})
	if err != nil {
		return nil, toStatus(err)
	}
	return &documentv1.GetDocumentResponse{Document: d.doc}, nil
}

// readOne reads document id of the caller's mission and decides, for purpose, whether the
// caller may read it; the read is audited in the same transaction.
func (s *Service) readOne(ctx context.Context, id string, purpose commonv1.AccessPurpose) (auth.Claims, stored, casenote.Access, error) {
	who, err := auth.Caller(ctx)
	if err != nil {
		return auth.Claims{}, stored{}, casenote.Access{}, err
	}
	if purpose == commonv1.AccessPurpose_ACCESS_PURPOSE_UNSPECIFIED {
		return who, stored{}, casenote.Access{}, errNoPurpose
	}
	docID, err := parseDocumentID(id)
	if err != nil {
		return who, stored{}, casenote.Access{}, err
	}
	var d stored
	var a casenote.Access
	err = s.db.MissionTx(ctx, who.Mission, func(tx pgx.Tx) error {
		if d, err = readDocument(ctx, tx, who.Mission, docID); err != nil {
			return err
		}
		if a, err = s.access(ctx, tx, who, uuid.MustParse(d.doc.CaseId), purpose); err != nil {
			return err
		}
		return audit.Write(ctx, tx, audit.For(audit.WithReason(ctx, a.ReadReason(purpose)), who, who.Mission, docID))
	})
	return who, d, a, err
}

// access is who's access to case id for purpose, refused without the case's ASSISTANCE
// consent in force.
func (s *Service) access(ctx context.Context, tx pgx.Tx, who auth.Claims, id uuid.UUID, purpose commonv1.AccessPurpose) (casenote.Access, error) {
	a, err := s.cases.NoteAccess(ctx, tx, who, id, purpose)
	if err != nil {
		return casenote.Access{}, err
	}
	return a, a.RequireAssistance("")
}

// ListDocuments lists the caller's mission's documents on a case, newest first, for a stated
// purpose, audited on the case.
func (s *Service) ListDocuments(ctx context.Context, req *documentv1.ListDocumentsRequest) (*documentv1.ListDocumentsResponse, error) {
	f, err := casenote.ParseCaseList(ctx, req.GetCaseId(), req.GetPurpose(), req.GetPageSize(), req.GetPageToken(), errNoPurpose)
	if err != nil {
		return nil, err
	}
	who, caseID := f.Who, f.CaseID
	var docs []stored
	err = s.cases.AwaitShare(ctx, caseID, func() error {
		return s.db.MissionTx(ctx, who.Mission, func(tx pgx.Tx) error {
			a, err := s.access(ctx, tx, who, caseID, req.GetPurpose())
			if err != nil {
				return err
			}
			if err := audit.Write(ctx, tx, audit.For(audit.WithReason(ctx, a.ReadReason(req.GetPurpose())), who, who.Mission, caseID)); err != nil {
				return err
			}
			page := f
			page.Limit++
			if docs, err = listDocuments(ctx, tx, page); err != nil {
				return err
			}
			o, err := s.openerFor(ctx, tx, a, docs)
			if err != nil {
				return err
			}
			for _, d := range docs {
				if d.doc.Erasure, err = o.erasure(d.doc); err != nil {
					return err
				}
			}
			return nil
		})
	})
	if err != nil {
		return nil, toStatus(err)
	}
	resp := &documentv1.ListDocumentsResponse{}
	for _, d := range docs[:min(len(docs), f.Limit)] {
		resp.Documents = append(resp.Documents, d.doc)
	}
	if len(docs) > f.Limit {
		last := resp.Documents[f.Limit-1]
		resp.NextPageToken = f.NextToken(last.CreateTime.AsTime(), uuid.MustParse(last.DocumentId))
	}
	return resp, nil
}

// opener opens what is sealed about a case's documents.
type opener struct {
	keyring *vault.Keyring
	keys    *casenote.Keys
}

// openerFor reads, through q, the data keys of the people docs are about (casenote.ReadKeys).
func (s *Service) openerFor(ctx context.Context, q database.Querier, a casenote.Access, docs []stored) (*opener, error) {
	subjects := make([]uuid.UUID, 0, len(docs))
	for _, d := range docs {
		subjects = append(subjects, uuid.MustParse(d.doc.SubjectId))
	}
	keys, err := casenote.ReadKeys(ctx, q, a, subjects)
	if err != nil {
		return nil, err
	}
	return &opener{keyring: s.keys, keys: keys}, nil
}

// erasure is the erasure of the person d is about, nil when they have their data key.
func (o *opener) erasure(d *documentv1.Document) (*intakev1.Erasure, error) {
	_, erasure, err := o.keys.Key(uuid.MustParse(d.SubjectId))
	return erasure, err
}

// checksum sets d's SHA-256, opened, or its erasure.
func (o *opener) checksum(d stored) error {
	var err error
	if d.doc.Erasure, err = o.erasure(d.doc); err != nil || d.doc.Erasure != nil {
		return err
	}
	sum, err := o.open(d.doc, checksumIndex, d.checksum)
	if err != nil {
		return err
	}
	d.doc.Sha256 = hex.EncodeToString(sum)
	return nil
}

// open opens part index of document d (a chunk, or its checksum), sealed as sealed, with the
// data key of its person (who is not erased).
func (o *opener) open(d *documentv1.Document, index int32, sealed []byte) ([]byte, error) {
	subject := uuid.MustParse(d.SubjectId)
	key, _, err := o.keys.Key(subject)
	if err != nil {
		return nil, err
	}
	return Open(o.keyring, subject, key, uuid.MustParse(d.DocumentId), index, sealed)
}
