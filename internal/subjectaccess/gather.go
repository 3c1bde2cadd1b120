package subjectaccess

import (
	"context"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"google.golang.org/protobuf/encoding/protojson"

	"github.com/passage-cm/passage/internal/vault"
	"github.com/passage-cm/passage/services/intake"
	"github.com/passage-cm/passage/services/intake/casenote"
	"github.com/passage-cm/passage/services/intake/document"
)

// gathered is the record, and what writing the documents needs beside it.
type gathered struct {
	rec record
	// key is the person's wrapped data key; nil once they are erased.
	key []byte
}

// gather reads the record of req's person: their identity and cases in req.Mission, then what
// each mission holds about those cases, the person's own mission first and then every mission
// a case was handed over to (and on from there), then the audit records about all of it.
func (x *Exporter) gather(ctx context.Context, req Request, at time.Time) (*gathered, error) {
	g := &gathered{rec: record{
		header: header{Format: Format, FormatVersion: FormatVersion, GeneratedAt: at, Mission: req.Mission,
			SubjectID: req.Subject.String(), RequestReference: req.Reference, ExportedBy: req.By},
		Identity: json.RawMessage("null"), CaseIDs: []string{}, Missions: []missionRecord{}, Notes: []note{},
		Documents: []documentEntry{}, Audit: []json.RawMessage{},
	}}
	var cases []uuid.UUID
	err := x.DB[Intake].MissionTx(ctx, req.Mission, func(tx pgx.Tx) error {
		var err error
		if cases, err = memberOf(ctx, tx, req); err != nil {
			return err
		}
		return x.identity(ctx, tx, req, g)
	})
	if err != nil {
		return nil, err
	}
	if g.key == nil && g.rec.Erasure == nil && len(cases) == 0 {
		return nil, intake.ErrUnknownSubject
	}
	for _, c := range cases {
		g.rec.CaseIDs = append(g.rec.CaseIDs, c.String())
	}
	missions := []string{req.Mission}
	for i := 0; i < len(missions); i++ {
		m, err := x.mission(ctx, req, missions[i], cases, g)
		if err != nil {
			return nil, err
		}
		g.rec.Missions = append(g.rec.Missions, m)
		for _, to := range column(m.Tables["handover.handover"], "to_mission") {
			if !slices.Contains(missions, to) {
				missions = append(missions, to)
			}
		}
	}
	if err := x.auditRecords(ctx, req, missions, cases, g); err != nil {
		return nil, err
	}
	return g, nil
}

// memberOf reads the intake cases of req.Mission that req's person is a member of.
func memberOf(ctx context.Context, tx pgx.Tx, req Request) ([]uuid.UUID, error) {
	rows, err := tx.Query(ctx, `SELECT case_id FROM intake.case_member WHERE subject_id = $1 AND mission = $2 ORDER BY case_id`,
		req.Subject, req.Mission)
	if err != nil {
		return nil, fmt.Errorf("subject access: read the cases: %w", err)
	}
	ids, err := pgx.CollectRows(rows, pgx.RowTo[uuid.UUID])
	if err != nil {
		return nil, fmt.Errorf("subject access: read the cases: %w", err)
	}
	return ids, nil
}

// identity opens the person's identity from the vault, or reads their erasure.
func (x *Exporter) identity(ctx context.Context, tx pgx.Tx, req Request, g *gathered) error {
	var s vault.Sealed
	err := tx.QueryRow(ctx, `SELECT wrapped_key, identity FROM vault.identity WHERE subject_id = $1 AND mission = $2`,
		req.Subject, req.Mission).Scan(&s.WrappedKey, &s.Ciphertext)
	if errors.Is(err, pgx.ErrNoRows) {
		erasures, err := vault.Erasures(ctx, tx, req.Mission, []uuid.UUID{req.Subject})
		if err != nil {
			return err
		}
		if e, ok := erasures[req.Subject]; ok {
			g.rec.Erasure = &erasure{Reason: e.Reason, ErasedBy: e.By, ErasedAt: e.At.UTC()}
		}
		return nil
	}
	if err != nil {
		return fmt.Errorf("subject access: read the identity: %w", err)
	}
	p, err := x.Keys.Open(req.Subject, s)
	if err != nil {
		return err
	}
	if g.rec.Identity, err = protojson.Marshal(p); err != nil {
		return fmt.Errorf("subject access: encode the identity: %w", err)
	}
	g.key = s.WrappedKey
	return nil
}

// mission reads what mission holds about cases: every table, each by its own service's role,
// then the cases' history, the person's notes and their documents' metadata.
func (x *Exporter) mission(ctx context.Context, req Request, mission string, cases []uuid.UUID, g *gathered) (missionRecord, error) {
	m := missionRecord{Mission: mission, Tables: map[string][]json.RawMessage{}, CaseHistory: map[string][]json.RawMessage{}}
	for _, s := range Sources() {
		err := x.DB[s].MissionTx(ctx, mission, func(tx pgx.Tx) error {
			for _, t := range tables {
				if t.source != s {
					continue
				}
				rows, err := readTable(ctx, tx, t, cases, req.Subject, mission)
				if err != nil {
					return err
				}
				m.Tables[t.name] = rows
			}
			return nil
		})
		if err != nil {
			return missionRecord{}, err
		}
	}
	err := x.DB[Intake].MissionTx(ctx, mission, func(tx pgx.Tx) error {
		for _, c := range cases {
			entries, err := intake.CaseHistory(ctx, tx, mission, c)
			if err != nil {
				return err
			}
			if len(entries) == 0 {
				continue
			}
			out := make([]json.RawMessage, 0, len(entries))
			for _, e := range entries {
				b, err := protojson.Marshal(e)
				if err != nil {
					return fmt.Errorf("subject access: encode a history entry: %w", err)
				}
				out = append(out, b)
			}
			m.CaseHistory[c.String()] = out
		}
		if err := x.notes(ctx, tx, req, mission, cases, g); err != nil {
			return err
		}
		return documents(ctx, tx, req, mission, cases, g)
	})
	if err != nil {
		return missionRecord{}, err
	}
	return m, nil
}

// readTable reads t's rows about cases and subject in mission, each as one JSON object.
func readTable(ctx context.Context, tx pgx.Tx, t table, cases []uuid.UUID, subject uuid.UUID, mission string) ([]json.RawMessage, error) {
	omit := t.omit
	if omit == nil {
		omit = []string{}
	}
	name := t.name
	if schema, rel, ok := strings.Cut(name, "."); ok {
		name = schema + `."` + rel + `"`
	}
	rows, err := tx.Query(ctx, `WITH p AS (SELECT $1::uuid[] AS cases, $2::uuid AS subject, $3::text AS mission)
SELECT (to_jsonb(t) - $4::text[])::text FROM p, `+name+` t WHERE `+t.where+` ORDER BY `+t.order,
		cases, subject, mission, omit)
	if err != nil {
		return nil, fmt.Errorf("subject access: read %s: %w", t.name, err)
	}
	out, err := pgx.CollectRows(rows, jsonRow)
	if err != nil {
		return nil, fmt.Errorf("subject access: read %s: %w", t.name, err)
	}
	return out, nil
}

// jsonRow scans a row of one column, a JSON document as text.
func jsonRow(row pgx.CollectableRow) (json.RawMessage, error) {
	var s string
	err := row.Scan(&s)
	return json.RawMessage(s), err
}

// column returns the distinct string values of the columns names in rows (JSON objects),
// each row decoded once.
func column(rows []json.RawMessage, names ...string) []string {
	var out []string
	for _, r := range rows {
		var row map[string]any
		if json.Unmarshal(r, &row) != nil {
			continue
		}
		for _, name := range names {
			if v, ok := row[name].(string); ok && v != "" && !slices.Contains(out, v) {
				out = append(out, v)
			}
		}
	}
	return out
}

// notes reads the person's notes on cases in mission, every version, each version's text
// opened (none once the person is erased).
func (x *Exporter) notes(ctx context.Context, tx pgx.Tx, req Request, mission string, cases []uuid.UUID, g *gathered) error {
	rows, err := tx.Query(ctx, `SELECT n.note_id, n.case_id, n.sensitivity, n.author, n.created_at,
  v.version, v.sensitivity, v.author, v.written_at, v.text
FROM intake.case_note n JOIN intake.case_note_version v ON v.note_id = n.note_id AND v.mission = n.mission
WHERE n.subject_id = $1 AND n.case_id = ANY($2) AND n.mission = $3
ORDER BY n.created_at, n.note_id, v.version`, req.Subject, cases, mission)
	if err != nil {
		return fmt.Errorf("subject access: read the notes: %w", err)
	}
	var (
		noteID, caseID uuid.UUID
		n              note
		v              noteVersion
		sealed         []byte
	)
	_, err = pgx.ForEachRow(rows, []any{&noteID, &caseID, &n.Sensitivity, &n.Author, &n.CreatedAt,
		&v.Version, &v.Sensitivity, &v.Author, &v.WrittenAt, &sealed}, func() error {
		if l := len(g.rec.Notes); l == 0 || g.rec.Notes[l-1].NoteID != noteID.String() || g.rec.Notes[l-1].Mission != mission {
			n.NoteID, n.CaseID, n.Mission, n.CreatedAt = noteID.String(), caseID.String(), mission, n.CreatedAt.UTC()
			n.Versions = []noteVersion{}
			g.rec.Notes = append(g.rec.Notes, n)
		}
		version := v
		version.WrittenAt, version.Text = v.WrittenAt.UTC(), nil
		if g.key != nil {
			pt, err := casenote.OpenVersion(x.Keys, req.Subject, g.key, noteID.String(), v.Version, sealed)
			if err != nil {
				return err
			}
			text := string(pt)
			version.Text = &text
		}
		last := &g.rec.Notes[len(g.rec.Notes)-1]
		last.Versions = append(last.Versions, version)
		return nil
	})
	if err != nil {
		return fmt.Errorf("subject access: read the notes: %w", err)
	}
	return nil
}

// documents reads the metadata of the person's documents on cases in mission, each document's
// checksum opened (none once the person is erased); write streams their bytes.
func documents(ctx context.Context, tx pgx.Tx, req Request, mission string, cases []uuid.UUID, g *gathered) error {
	rows, err := tx.Query(ctx, `SELECT document_id, case_id, kind, media_type, size_bytes, chunks, checksum, uploaded_by, created_at
FROM intake.document WHERE subject_id = $1 AND case_id = ANY($2) AND mission = $3 ORDER BY created_at, document_id`,
		req.Subject, cases, mission)
	if err != nil {
		return fmt.Errorf("subject access: read the documents: %w", err)
	}
	var (
		docID, caseID uuid.UUID
		d             documentEntry
		sum           []byte
	)
	_, err = pgx.ForEachRow(rows, []any{&docID, &caseID, &d.Kind, &d.MediaType, &d.SizeBytes, &d.chunks, &sum,
		&d.UploadedBy, &d.CreatedAt}, func() error {
		e := d
		e.DocumentID, e.CaseID, e.Mission, e.CreatedAt = docID.String(), caseID.String(), mission, d.CreatedAt.UTC()
		if g.key != nil {
			e.File = documentFile(docID, e.Kind, e.MediaType)
			e.sealedSum = slices.Clone(sum)
		}
		g.rec.Documents = append(g.rec.Documents, e)
		return nil
	})
	if err != nil {
		return fmt.Errorf("subject access: read the documents: %w", err)
	}
	return nil
}

// openSum opens document d's sealed checksum with req's person's wrapped data key, as hex.
func (x *Exporter) openSum(req Request, key []byte, d documentEntry) (string, error) {
	sum, err := document.Open(x.Keys, req.Subject, key, uuid.MustParse(d.DocumentID), document.ChecksumIndex, d.sealedSum)
	if err != nil {
		return "", err
	}
	return hex.EncodeToString(sum), nil
}

// auditRecords reads, as the auditor, the audit records of missions about the person, their
// cases, and the notes, documents, grants, hand-overs, referrals and follow-ups of those.
func (x *Exporter) auditRecords(ctx context.Context, req Request, missions []string, cases []uuid.UUID, g *gathered) error {
	ids := append([]uuid.UUID{req.Subject}, cases...)
	add := func(s string) {
		if id, err := uuid.Parse(s); err == nil && !slices.Contains(ids, id) {
			ids = append(ids, id)
		}
	}
	for _, n := range g.rec.Notes {
		add(n.NoteID)
	}
	for _, d := range g.rec.Documents {
		add(d.DocumentID)
	}
	for _, m := range g.rec.Missions {
		for _, rows := range m.Tables {
			for _, v := range column(rows, "grant_id", "handover_id", "referral_id", "follow_up_id", "consent_id") {
				add(v)
			}
		}
	}
	rows, err := x.DB[Auditor].Mission(req.Mission).Query(ctx, `SELECT to_jsonb(t)::text FROM audit.record t
WHERE t.mission = ANY($1) AND t.aggregate_id = ANY($2) ORDER BY t.record_id`, missions, ids)
	if err != nil {
		return fmt.Errorf("subject access: read the audit records: %w", err)
	}
	out, err := pgx.CollectRows(rows, jsonRow)
	if err != nil {
		return fmt.Errorf("subject access: read the audit records: %w", err)
	}
	g.rec.Audit = append(g.rec.Audit, out...)
	return nil
}
