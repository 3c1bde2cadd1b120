package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"mime"
	"os"
	"path/filepath"
	"strings"
	"text/tabwriter"

	"google.golang.org/protobuf/proto"

	documentv1 "github.com/passage-cm/passage/proto/gen/passage/document/v1"
)

const documentUsage = `usage: passage document <command> [arguments]

commands (caseworkers and supervisors working on the case):
  upload CASE_ID --file F --kind K [--subject ID] [--media-type T]
                                                 attach a file to a case (about its principal unless --subject)
  download DOCUMENT_ID --out F --purpose P       write a document's bytes to a new file F (audited)
  list CASE_ID --purpose P [--all]               the documents on the case, newest first (audited)

Kinds: passport_scan, photo, medical_certificate, signed_consent, other. Files: PDF, JPEG,
PNG or TIFF (the media type is taken from the file's extension unless --media-type; the
server checks it against the bytes), at most 20 MiB. A document is personal data: it is
sealed with the key of the person it is about, and unreadable once they are erased. Its
file name is not kept.

Every command takes --addr (PASSAGE_ADDR), --token (PASSAGE_TOKEN), --insecure, the --tls-*
flags, --json and --timeout. "passage document <command> -h" lists a command's flags.
`

// runDocument runs `passage document <command>`: the client of the DocumentService.
func runDocument(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	return newClient(stdout, stderr).documentRun(ctx, args)
}

var documentKinds = newEnumNames(documentv1.DocumentKind_value)

// documentRun dispatches the group's commands.
func (c *client) documentRun(ctx context.Context, args []string) error {
	return runGroup(ctx, "document", documentUsage, args, c.stdout, c.stderr, commands{
		"upload":   c.documentUpload,
		"download": c.documentDownload,
		"list":     c.documentList,
	})
}

// uploadChunk is the size of the chunks an upload sends: the most a message may carry.
const uploadChunk = 256 << 10

func (c *client) documentUpload(ctx context.Context, args []string) error {
	h := &documentv1.UploadHeader{}
	fs, o := c.groupFlagSet("document", "upload", "upload CASE_ID --file F --kind K [--subject ID] [--media-type T]", &h.RequestId)
	path := fs.String("file", "", "the `FILE` to upload; required")
	kind := fs.String("kind", "", "what the file is, `K`: "+documentKinds.list()+"; required")
	fs.StringVar(&h.SubjectId, "subject", "", "the `SUBJECT_ID` of the person of the case the document is about (default: the principal)")
	fs.StringVar(&h.MediaType, "media-type", "", "the file's media `TYPE` (default: from its extension)")
	pos, _, err := c.groupParse("document", fs, o, args, 1, "upload takes one CASE_ID")
	if err != nil {
		return err
	}
	h.CaseId, h.SubjectId = pos[0], strings.TrimSpace(h.SubjectId)
	if *path == "" || *kind == "" {
		return errors.New("document upload needs --file and --kind")
	}
	if h.Kind, err = parseEnum[documentv1.DocumentKind](documentKinds, *kind); err != nil {
		return fmt.Errorf("--kind %w", err)
	}
	if h.MediaType == "" {
		h.MediaType, _, _ = strings.Cut(mime.TypeByExtension(strings.ToLower(filepath.Ext(*path))), ";")
	}
	file, err := os.Open(*path)
	if err != nil {
		return err
	}
	defer file.Close()
	info, err := file.Stat()
	if err != nil {
		return err
	}
	h.SizeBytes = info.Size()
	if h.RequestId == "" {
		h.RequestId = c.newRequestID()
	}
	c.announceRequestID(h.RequestId)
	client, done, err := c.document(*o)
	if err != nil {
		return err
	}
	defer done()
	// Sent again from its first byte, under the same request id, while the server answers
	// UNAVAILABLE or ABORTED (the database or the document store away): a repeat stores it once.
	var resp *documentv1.UploadDocumentResponse
	err = retried(ctx, o, func(ctx context.Context) error {
		if _, err := file.Seek(0, io.SeekStart); err != nil {
			return err
		}
		resp, err = sendFile(ctx, client, h, file)
		return err
	})
	if err != nil {
		return c.failed("UploadDocument", err, h.RequestId)
	}
	if o.json {
		return writeJSON(c.stdout, resp)
	}
	return formatDocuments(c.stdout, []*documentv1.Document{resp.GetDocument()})
}

// sendFile streams h, then file's bytes chunk by chunk, one chunk in memory at a time. A
// server that answers early (a refusal, or the first result of a retried request id) ends
// the sending; its answer is returned.
func sendFile(ctx context.Context, client documentv1.DocumentServiceClient, h *documentv1.UploadHeader, file io.Reader) (*documentv1.UploadDocumentResponse, error) {
	stream, err := client.UploadDocument(ctx)
	if err != nil {
		return nil, err
	}
	err = stream.Send(&documentv1.UploadDocumentRequest{Part: &documentv1.UploadDocumentRequest_Header{Header: h}})
	buf := make([]byte, uploadChunk)
	for err == nil {
		n, rerr := io.ReadFull(file, buf)
		if n > 0 {
			err = stream.Send(&documentv1.UploadDocumentRequest{Part: &documentv1.UploadDocumentRequest_Chunk{Chunk: buf[:n]}})
		}
		if errors.Is(rerr, io.EOF) || errors.Is(rerr, io.ErrUnexpectedEOF) {
			break
		}
		if rerr != nil {
			return nil, rerr
		}
	}
	if err != nil && !errors.Is(err, io.EOF) {
		return nil, err
	}
	return stream.CloseAndRecv()
}

func (c *client) documentDownload(ctx context.Context, args []string) error {
	req := &documentv1.DownloadDocumentRequest{}
	fs, o := c.groupFlagSet("document", "download", "download DOCUMENT_ID --out F --purpose P", nil)
	out := fs.String("out", "", "the new `FILE` to write the document to (not overwritten); required")
	purpose := fs.String("purpose", "", "why you read the document (audited): "+accessPurposes.list())
	pos, _, err := c.groupParse("document", fs, o, args, 1, "download takes one DOCUMENT_ID")
	if err != nil {
		return err
	}
	req.DocumentId = pos[0]
	if *out == "" {
		return errors.New("document download needs --out")
	}
	if req.Purpose, err = notePurpose("download", *purpose); err != nil {
		return err
	}
	client, done, err := c.document(*o)
	if err != nil {
		return err
	}
	defer done()
	// Created, never overwritten, readable by the caller alone: it holds personal data.
	file, err := os.OpenFile(*out, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return err
	}
	// Received again from the start, into the emptied file, while the server answers
	// UNAVAILABLE or ABORTED, even part-way through (the document store away).
	var doc *documentv1.Document
	err = retried(ctx, o, func(ctx context.Context) error {
		if err := file.Truncate(0); err != nil {
			return err
		}
		if _, err := file.Seek(0, io.SeekStart); err != nil {
			return err
		}
		doc, err = receiveFile(ctx, client, req, file)
		return err
	})
	if cerr := file.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		_ = os.Remove(*out) // a part of a file is no document
		var mismatch *checksumError
		if errors.As(err, &mismatch) {
			return err
		}
		return c.failed("DownloadDocument", err, "")
	}
	if o.json {
		return writeJSON(c.stdout, doc)
	}
	fmt.Fprintf(c.stderr, "wrote %d bytes to %s (sha256 checked)\n", doc.GetSizeBytes(), *out)
	return nil
}

// checksumError is a download whose bytes are not the ones the server's checksum names.
type checksumError struct{}

func (*checksumError) Error() string {
	return "the bytes received do not match the document's checksum; the file was removed"
}

// receiveFile streams document req names into w, a chunk at a time, and checks its bytes
// against the checksum the server sent first.
func receiveFile(ctx context.Context, client documentv1.DocumentServiceClient, req *documentv1.DownloadDocumentRequest, w io.Writer) (*documentv1.Document, error) {
	stream, err := client.DownloadDocument(ctx, req)
	if err != nil {
		return nil, err
	}
	var doc *documentv1.Document
	sum := sha256.New()
	w = io.MultiWriter(w, sum)
	for {
		msg, err := stream.Recv()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, err
		}
		if d := msg.GetDocument(); d != nil {
			doc = d
		}
		if _, err := w.Write(msg.GetChunk()); err != nil {
			return nil, err
		}
	}
	want, err := hex.DecodeString(doc.GetSha256())
	if err != nil || !bytes.Equal(sum.Sum(nil), want) {
		return nil, &checksumError{}
	}
	return doc, nil
}

func (c *client) documentList(ctx context.Context, args []string) error {
	req := &documentv1.ListDocumentsRequest{}
	fs, o := c.groupFlagSet("document", "list", "list CASE_ID --purpose P [--all]", nil)
	purpose := fs.String("purpose", "", "why you read the list (audited): "+accessPurposes.list())
	fs.StringVar(&req.PageToken, "page-token", "", "continue from a previous page's `TOKEN`")
	all := fs.Bool("all", false, "follow the pages to the last one")
	pos, _, err := c.groupParse("document", fs, o, args, 1, "list takes one CASE_ID")
	if err != nil {
		return err
	}
	req.CaseId = pos[0]
	if req.Purpose, err = notePurpose("list", *purpose); err != nil {
		return err
	}
	if *all {
		req.PageSize = 100
	}
	return printPages(ctx, o, c.stdout, c.stderr, c.failed, c.document, "ListDocuments", "documents", *all,
		documentv1.DocumentServiceClient.ListDocuments, req, func(t string) { req.PageToken = t },
		func(r *documentv1.ListDocumentsResponse) ([]*documentv1.Document, string) {
			return r.GetDocuments(), r.GetNextPageToken()
		},
		func(docs []*documentv1.Document) proto.Message {
			return &documentv1.ListDocumentsResponse{Documents: docs}
		},
		formatDocuments)
}

// formatDocuments prints documents as a table, an erased person's marked.
func formatDocuments(w io.Writer, docs []*documentv1.Document) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "DOCUMENT\tKIND\tTYPE\tBYTES\tABOUT\tUPLOADED\tBY")
	for _, d := range docs {
		about := d.GetSubjectId()
		if d.GetErasure() != nil {
			about += " (erased)"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%d\t%s\t%s\t%s\n", d.GetDocumentId(), enumName(d.GetKind()), d.GetMediaType(), d.GetSizeBytes(),
			about, when(d.GetCreateTime()), d.GetUploadedBy())
	}
	return tw.Flush()
}
