package document

import (
	"cmp"
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"hash"
	"io"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/passage-cm/passage/internal/auth"
	"github.com/passage-cm/passage/internal/idempotency"
	"github.com/passage-cm/passage/internal/middleware"
	"github.com/passage-cm/passage/internal/mutation"
	"github.com/passage-cm/passage/internal/rpcerr"
	"github.com/passage-cm/passage/internal/vault"
	documentv1 "github.com/passage-cm/passage/proto/gen/passage/document/v1"
	"github.com/passage-cm/passage/services/intake/casenote"
)

// errNoHeader is an upload whose first message is not its header.
var errNoHeader = rpcerr.InvalidArgument(rpcerr.FieldViolation("header", "is required, as the first message and only there"))

// UploadDocument receives a file: its header, checked before anything is read, then its
// bytes, each chunk checked, sealed and stored as it arrives, in the transaction that
// records the document, so that a refused file leaves nothing behind.
func (s *Service) UploadDocument(stream grpc.ClientStreamingServer[documentv1.UploadDocumentRequest, documentv1.UploadDocumentResponse]) error {
	ctx := stream.Context()
	who, err := auth.Caller(ctx)
	if err != nil {
		return err
	}
	first, err := stream.Recv()
	if errors.Is(err, io.EOF) {
		return errNoHeader
	}
	if err != nil {
		return err
	}
	h := first.GetHeader()
	if h == nil {
		return errNoHeader
	}
	if err := s.checkHeader(h); err != nil {
		return err
	}
	key, err := idempotency.NewKey(s.keys, who.Mission, h.GetRequestId(), documentv1.DocumentService_UploadDocument_FullMethodName, h)
	if err != nil {
		return toStatus(err)
	}
	resp := &documentv1.UploadDocumentResponse{}
	m := mutation.Mutation{Who: who, Key: key, Ref: h.GetCaseId(), Resp: resp}
	var started *upload // the upload that began storing chunks, if one did
	err = s.uploads.Run(ctx, m, func(a casenote.Access, st *mutation.Step) (proto.Message, error) {
		subject := cmp.Or(h.GetSubjectId(), a.Case.GetSubjectId())
		if !a.IsPerson(subject) {
			return nil, rpcerr.InvalidArgument(rpcerr.FieldViolation("subject_id", "is not a person of the case"))
		}
		if !a.WorksOn {
			return nil, status.Error(codes.PermissionDenied, "case_id: documents are uploaded only by staff working on the case")
		}
		if err := a.RequireAssistance(subject); err != nil {
			return nil, err
		}
		d := &documentv1.Document{
			DocumentId: uuid.NewString(), CaseId: a.Case.GetCaseId(), Mission: a.Mission, SubjectId: subject,
			Kind: h.GetKind(), MediaType: h.GetMediaType(), SizeBytes: h.GetSizeBytes(), UploadedBy: who.Subject,
			CreateTime: timestamppb.New(st.Now),
		}
		u, err := s.newUpload(ctx, st, d)
		if err != nil {
			return nil, err
		}
		started = u
		if err := u.receive(stream); err != nil {
			return nil, err
		}
		checksum, err := u.seal(checksumIndex, u.sum.Sum(nil))
		if err != nil {
			return nil, err
		}
		queueInsertDocument(st.Batch, d, u.index, checksum)
		resp.Document = d
		return &documentv1.DocumentUploaded{CaseId: d.CaseId, DocumentId: d.DocumentId, Kind: d.Kind}, nil
	})
	if started != nil && started.index > 0 && (err != nil || resp.GetDocument().GetDocumentId() != started.doc.DocumentId) {
		// Refused, failed, or beaten by a retry that committed first: its chunks name no
		// document.
		s.discard(ctx, started.doc.Mission, started.docID)
	}
	if err != nil {
		return toStatus(err)
	}
	return stream.SendAndClose(resp)
}

// discardTimeout bounds the discarding of a failed upload's chunks, which outlives the call.
const discardTimeout = 30 * time.Second

// discard removes the chunks a failed upload stored of document doc of mission, once the
// database confirms no row names it (a commit whose outcome the call did not learn may have
// recorded it). It runs after the call has failed, whatever ended the call; what it cannot
// remove the Sweeper deletes later.
func (s *Service) discard(ctx context.Context, mission string, doc uuid.UUID) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), discardTimeout)
	defer cancel()
	var recorded bool
	err := s.db.MissionTx(ctx, mission, func(tx pgx.Tx) error {
		return tx.QueryRow(ctx, `SELECT EXISTS (SELECT FROM intake.document WHERE document_id = $1 AND mission = $2)`, doc, mission).
			Scan(&recorded)
	})
	if err == nil && !recorded {
		err = s.store.Discard(ctx, mission, doc)
	}
	if err != nil {
		s.logger.WarnContext(ctx, "a failed upload's chunks were not discarded; the sweep deletes them", "document_id", doc.String(), middleware.ErrorAttr(err))
	}
}

// checkHeader refuses, before any byte is read, a media type not allowed and a declared size
// over the limit (the validation stage checked the rest).
func (s *Service) checkHeader(h *documentv1.UploadHeader) error {
	var v rpcerr.Violations
	if !allowed(h.GetMediaType()) {
		v.Add("media_type", "must be one of "+strings.Join(mediaTypes(), ", "))
	}
	if h.GetSizeBytes() > s.maxBytes {
		v.Add("size_bytes", fmt.Sprintf("must be at most %d bytes", s.maxBytes))
	}
	return v.Err()
}

// upload is a file being received into document d: what has arrived so far.
type upload struct {
	s       *Service
	st      *mutation.Step
	doc     *documentv1.Document
	docID   uuid.UUID
	subject uuid.UUID
	key     []byte      // the subject's wrapped data key
	chunks  ChunkWriter // where the chunks go
	sum     hash.Hash   // the running SHA-256 of the bytes received
	head    []byte      // the first signatureLen bytes, for the media type's check
	size    int64
	index   int32 // the next chunk's index: the chunks stored so far
}

// newUpload starts receiving d's bytes in st, sealed with its subject's data key.
func (s *Service) newUpload(ctx context.Context, st *mutation.Step, d *documentv1.Document) (*upload, error) {
	subject := uuid.MustParse(d.SubjectId)
	keys, err := vault.DataKeys(ctx, st.Tx, []uuid.UUID{subject})
	if err != nil {
		return nil, err
	}
	key, ok := keys[subject]
	if !ok {
		return nil, errErased
	}
	docID := uuid.MustParse(d.DocumentId)
	return &upload{s: s, st: st, doc: d, docID: docID, subject: subject, key: key, sum: sha256.New(),
		chunks: s.store.Writer(ctx, st.Tx, d.Mission, docID)}, nil
}

// receive reads the rest of the stream, storing each chunk as it comes, and checks that the
// bytes are the declared size and bear the declared media type's signature. It returns once
// every chunk stored is kept, or has failed.
func (u *upload) receive(stream grpc.ClientStreamingServer[documentv1.UploadDocumentRequest, documentv1.UploadDocumentResponse]) error {
	err := u.receiveChunks(stream)
	if closeErr := u.chunks.Close(); err == nil {
		err = closeErr
	}
	return err
}

// receiveChunks reads the rest of the stream, storing each chunk as it comes.
func (u *upload) receiveChunks(stream grpc.ClientStreamingServer[documentv1.UploadDocumentRequest, documentv1.UploadDocumentResponse]) error {
	for {
		msg, err := stream.Recv()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return err
		}
		chunk := msg.GetChunk()
		if chunk == nil {
			return errNoHeader
		}
		if err := u.check(chunk); err != nil {
			return err
		}
		_, _ = u.sum.Write(chunk)
		sealed, err := u.seal(u.index, chunk)
		if err != nil {
			return err
		}
		if err := u.chunks.Put(u.index, sealed); err != nil {
			return err
		}
		u.index++
	}
	if u.size != u.doc.SizeBytes {
		return rpcerr.InvalidArgument(rpcerr.FieldViolation("size_bytes",
			fmt.Sprintf("is %d, but %d bytes were sent", u.doc.SizeBytes, u.size)))
	}
	if len(u.head) < signatureLen {
		return u.checkSignature()
	}
	return nil
}

// check counts chunk in, refusing it past the declared size, and checks the media type's
// signature once the first bytes are in.
func (u *upload) check(chunk []byte) error {
	u.size += int64(len(chunk))
	if u.size > u.doc.SizeBytes {
		return rpcerr.InvalidArgument(rpcerr.FieldViolation("size_bytes",
			fmt.Sprintf("is %d, and more bytes were sent", u.doc.SizeBytes)))
	}
	if len(u.head) >= signatureLen {
		return nil
	}
	u.head = append(u.head, chunk[:min(len(chunk), signatureLen-len(u.head))]...)
	if len(u.head) < signatureLen {
		return nil
	}
	return u.checkSignature()
}

// checkSignature refuses bytes whose first ones are not a signature of the declared media
// type.
func (u *upload) checkSignature() error {
	if bears(u.doc.MediaType, u.head) {
		return nil
	}
	return rpcerr.InvalidArgument(rpcerr.FieldViolation("media_type",
		"is "+u.doc.MediaType+", but the file's bytes are not of that type"))
}

// seal seals b as chunk index of the document (checksumIndex: its checksum).
func (u *upload) seal(index int32, b []byte) ([]byte, error) {
	return u.s.keys.SealRecord(u.subject, u.key, documentKind, chunkRef(u.docID, index), b)
}
