package subjectaccess

import (
	"archive/tar"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"strings"

	"github.com/google/uuid"

	"github.com/passage-cm/passage/services/intake/document"
)

// write writes the bundle of req's record g to w: a tar archive of each document's bytes,
// record.json, then manifest.json with every other entry's size and SHA-256.
func (x *Exporter) write(ctx context.Context, w io.Writer, req Request, g *gathered) (Result, error) {
	b := &bundle{tw: tar.NewWriter(w), g: g}
	res := Result{Erased: g.key == nil, Missions: len(g.rec.Missions), Cases: len(g.rec.CaseIDs),
		Notes: len(g.rec.Notes), Documents: len(g.rec.Documents)}
	for i, d := range g.rec.Documents {
		if d.File == "" {
			continue
		}
		want, err := x.openSum(req, g.key, d)
		if err != nil {
			return Result{}, err
		}
		got, err := b.add(d.File, d.SizeBytes, func(w io.Writer) error { return x.streamDocument(ctx, req, g, d, w) })
		if err != nil {
			return Result{}, err
		}
		if got != want {
			return Result{}, fmt.Errorf("subject access: document %s: its bytes do not match its checksum", d.DocumentID)
		}
		g.rec.Documents[i].SHA256 = got
	}
	rec, err := json.MarshalIndent(g.rec, "", "  ")
	if err != nil {
		return Result{}, fmt.Errorf("subject access: encode the record: %w", err)
	}
	if _, err := b.add(RecordEntry, int64(len(rec)), func(w io.Writer) error { _, err := w.Write(rec); return err }); err != nil {
		return Result{}, err
	}
	m := manifest{header: g.rec.header, Erased: res.Erased, Entries: b.entries}
	man, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		return Result{}, fmt.Errorf("subject access: encode the manifest: %w", err)
	}
	if _, err := b.add(ManifestEntry, int64(len(man)), func(w io.Writer) error { _, err := w.Write(man); return err }); err != nil {
		return Result{}, err
	}
	if err := b.tw.Close(); err != nil {
		return Result{}, fmt.Errorf("subject access: write the bundle: %w", err)
	}
	res.Entries = len(b.entries) + 1
	for _, e := range b.entries {
		res.Bytes += e.Size
	}
	res.Bytes += int64(len(man))
	return res, nil
}

// The bundle's fixed entries.
const (
	RecordEntry   = "record.json"
	ManifestEntry = "manifest.json"
)

// streamDocument writes document d's bytes to w, chunk by chunk as the store gives them, each
// opened with the person's data key: memory holds one chunk, whatever the document's size.
func (x *Exporter) streamDocument(ctx context.Context, req Request, g *gathered, d documentEntry, w io.Writer) error {
	doc := uuid.MustParse(d.DocumentID)
	var next int32
	err := x.Documents.Chunks(ctx, x.DB[Intake].Mission(d.Mission), d.Mission, doc, d.chunks, func(index int32, sealed []byte) error {
		if index != next {
			return fmt.Errorf("subject access: document %s: chunk %d where %d was due", d.DocumentID, index, next)
		}
		next++
		pt, err := document.Open(x.Keys, req.Subject, g.key, doc, index, sealed)
		if err != nil {
			return err
		}
		_, err = w.Write(pt)
		return err
	})
	if err != nil {
		return err
	}
	if next != d.chunks {
		return fmt.Errorf("subject access: document %s: %d chunks of %d", d.DocumentID, next, d.chunks)
	}
	return nil
}

// bundle writes the tar entries and keeps each one's size and digest for the manifest.
type bundle struct {
	tw      *tar.Writer
	g       *gathered
	entries []manifestEntry
}

// add writes entry name of size bytes, which fill writes, and returns its SHA-256 (hex).
func (b *bundle) add(name string, size int64, fill func(io.Writer) error) (string, error) {
	err := b.tw.WriteHeader(&tar.Header{Typeflag: tar.TypeReg, Name: name, Size: size, Mode: 0o600,
		ModTime: b.g.rec.GeneratedAt, Format: tar.FormatPAX})
	if err != nil {
		return "", fmt.Errorf("subject access: write %s: %w", name, err)
	}
	h := sha256.New()
	n := &counter{}
	if err := fill(io.MultiWriter(b.tw, h, n)); err != nil {
		return "", fmt.Errorf("subject access: write %s: %w", name, err)
	}
	if n.n != size {
		return "", fmt.Errorf("subject access: write %s: %d bytes of %d", name, n.n, size)
	}
	sum := hex.EncodeToString(h.Sum(nil))
	b.entries = append(b.entries, manifestEntry{Name: name, Size: size, SHA256: sum})
	return sum, nil
}

type counter struct{ n int64 }

func (c *counter) Write(p []byte) (int, error) { c.n += int64(len(p)); return len(p), nil }

// documentFile is a document's entry in the bundle: documents/<id>/<kind><extension>. Passage
// keeps no file name (one could name the person), so the name is made of the coded kind and
// the media type's usual extension.
func documentFile(id uuid.UUID, kind, mediaType string) string {
	return "documents/" + id.String() + "/" + strings.ToLower(kind) + extension(mediaType)
}

// extension is the usual extension of the media types documents accept; ".bin" for others.
func extension(mediaType string) string {
	switch mediaType {
	case "application/pdf":
		return ".pdf"
	case "image/jpeg":
		return ".jpg"
	case "image/png":
		return ".png"
	case "image/tiff":
		return ".tiff"
	default:
		return ".bin"
	}
}
