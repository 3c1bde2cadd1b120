package subjectaccess

import (
	"encoding/json"
	"time"
)

// FormatVersion is the version of the bundle's format (docs/operators/subject-access.md). A
// change a reader of an older bundle could misread gets a new version.
const FormatVersion = 1

// Format names the bundle's format in its manifest and record.
const Format = "passage.subject-access"

// header opens record.json and manifest.json alike: what the bundle is, about whom, why and
// by whom.
type header struct {
	Format           string    `json:"format"`
	FormatVersion    int       `json:"format_version"`
	GeneratedAt      time.Time `json:"generated_at"`
	Mission          string    `json:"mission"`
	SubjectID        string    `json:"subject_id"`
	RequestReference string    `json:"request_reference"`
	ExportedBy       string    `json:"exported_by"`
}

// record is record.json: the structured part of the bundle.
type record struct {
	header
	// Identity is the person's identity as the vault keeps it (passage.common.v1.Person in
	// protobuf's JSON form); null once they are erased.
	Identity json.RawMessage `json:"identity"`
	Erasure  *erasure        `json:"erasure"`
	// CaseIDs are the intake cases the person is a member of, in Mission.
	CaseIDs   []string        `json:"case_ids"`
	Missions  []missionRecord `json:"missions"`
	Notes     []note          `json:"notes"`
	Documents []documentEntry `json:"documents"`
	// Audit are the audit records about the person, their cases and what hangs off them.
	Audit []json.RawMessage `json:"audit"`
}

type erasure struct {
	Reason   string    `json:"reason"`
	ErasedBy string    `json:"erased_by"`
	ErasedAt time.Time `json:"erased_at"`
}

// missionRecord is what one mission holds about the person's cases: the person's own mission
// first, then each mission a case was handed over to.
type missionRecord struct {
	Mission string `json:"mission"`
	// Tables are each table's rows (tables.go), by schema-qualified name.
	Tables map[string][]json.RawMessage `json:"tables"`
	// CaseHistory is each case's history as GetCaseHistory shows it to this mission, by case id.
	CaseHistory map[string][]json.RawMessage `json:"case_history"`
}

type note struct {
	NoteID      string        `json:"note_id"`
	CaseID      string        `json:"case_id"`
	Mission     string        `json:"mission"`
	Sensitivity string        `json:"sensitivity"`
	Author      string        `json:"author"`
	CreatedAt   time.Time     `json:"created_at"`
	Versions    []noteVersion `json:"versions"`
}

type noteVersion struct {
	Version     int64     `json:"version"`
	Sensitivity string    `json:"sensitivity"`
	Author      string    `json:"author"`
	WrittenAt   time.Time `json:"written_at"`
	// Text is the version's text; null once the person is erased (it can no longer be read).
	Text *string `json:"text"`
}

type documentEntry struct {
	DocumentID string    `json:"document_id"`
	CaseID     string    `json:"case_id"`
	Mission    string    `json:"mission"`
	Kind       string    `json:"kind"`
	MediaType  string    `json:"media_type"`
	SizeBytes  int64     `json:"size_bytes"`
	UploadedBy string    `json:"uploaded_by"`
	CreatedAt  time.Time `json:"created_at"`
	// SHA256 is the document's checksum (hex) and File its entry in the bundle; both empty
	// once the person is erased.
	SHA256 string `json:"sha256,omitempty"`
	File   string `json:"file,omitempty"`

	chunks int32
	// sealedSum is the document's checksum as intake.document keeps it, sealed; nil once the
	// person is erased.
	sealedSum []byte
}

// manifest is manifest.json, the bundle's last entry: what the bundle is and every other
// entry's size and SHA-256.
type manifest struct {
	header
	Erased  bool            `json:"erased"`
	Entries []manifestEntry `json:"entries"`
}

type manifestEntry struct {
	Name   string `json:"name"`
	Size   int64  `json:"size"`
	SHA256 string `json:"sha256"`
}
