package subjectaccess

import (
	"context"
	"errors"
	"fmt"
	"os"
	"regexp"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/passage-cm/passage/internal/audit"
	"github.com/passage-cm/passage/internal/database"
	"github.com/passage-cm/passage/internal/vault"
	"github.com/passage-cm/passage/services/followup"
	"github.com/passage-cm/passage/services/handover"
	"github.com/passage-cm/passage/services/hasm"
	"github.com/passage-cm/passage/services/intake"
	"github.com/passage-cm/passage/services/intake/document"
	"github.com/passage-cm/passage/services/referral"
	"github.com/passage-cm/passage/services/returns"
	"github.com/passage-cm/passage/services/trafficking"
)

// A Source is a service whose database role reads part of the record: each table is read by
// the role of the service that keeps it, under that table's row-level security, so the export
// needs no grant any service lacks (and no role of its own).
type Source string

// The sources, by service. Auditor is the audit chainer's role, the one that reads audit
// records (every mission's, by design).
const (
	Intake      Source = "intake"
	Returns     Source = "returns"
	Trafficking Source = "trafficking"
	HASM        Source = "hasm"
	FollowUp    Source = "followup"
	Handover    Source = "handover"
	Referral    Source = "referral"
	Auditor     Source = "auditor"
)

// Role is the database role of source s: its service's own.
func (s Source) Role() string { return roles[s] }

var roles = map[Source]string{
	Intake: intake.Role, Returns: returns.Role, Trafficking: trafficking.Role, HASM: hasm.Role,
	FollowUp: followup.Role, Handover: handover.Role, Referral: referral.Role, Auditor: audit.Role,
}

// Sources lists every source an Exporter needs a database for.
func Sources() []Source {
	return []Source{Intake, Returns, Trafficking, HASM, FollowUp, Handover, Referral, Auditor}
}

// An Exporter writes subject access bundles.
type Exporter struct {
	// DB holds a database for every source, each opened with that service's own role.
	DB map[Source]*database.DB
	// Keys opens identities, notes and documents.
	Keys *vault.Keyring
	// Documents keeps the documents' sealed chunks, as the document service keeps them.
	Documents document.Store
	// Now is the clock of the bundle's generation time (time.Now when nil).
	Now func() time.Time
}

// A Request is what the operator asks for: the person (Subject) of Mission, by whom (By, a
// staff id) and under which data-protection request (Reference).
type Request struct {
	Mission   string
	Subject   uuid.UUID
	By        string
	Reference string
}

// A Result tells what a bundle holds, in counts: nothing in it names the person.
type Result struct {
	Erased    bool
	Missions  int
	Cases     int
	Notes     int
	Documents int
	Entries   int
	Bytes     int64
}

// referencePattern is what a request reference may be: a register's reference such as
// DPR-2026-014, never a name (it goes into the audit chain).
var referencePattern = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._/-]{0,63}$`)

// ErrBadRequest is a request the export refuses before reading anything.
var ErrBadRequest = errors.New("subject access")

func (r Request) validate() error {
	switch {
	case r.Mission == "":
		return fmt.Errorf("%w: the mission is required", ErrBadRequest)
	case r.Subject == uuid.Nil:
		return fmt.Errorf("%w: the subject id is required", ErrBadRequest)
	case r.By == "":
		return fmt.Errorf("%w: the staff id of who runs the export is required", ErrBadRequest)
	case !referencePattern.MatchString(r.Reference):
		return fmt.Errorf("%w: the request reference must be 1 to 64 letters, digits and . _ / - (a register's reference, never a name)", ErrBadRequest)
	}
	return nil
}

// Export writes everything Passage holds about req's person into a new file at path (mode
// 0600; an existing file is refused), then writes the export's audit record in the mission's
// chain, and only then returns. A person unknown to the mission is intake.ErrUnknownSubject
// and writes nothing. On any failure the file is removed.
func (x *Exporter) Export(ctx context.Context, req Request, path string) (Result, error) {
	if err := req.validate(); err != nil {
		return Result{}, err
	}
	for _, s := range Sources() {
		if x.DB[s] == nil {
			return Result{}, fmt.Errorf("subject access: no database for %s", s)
		}
	}
	now := time.Now
	if x.Now != nil {
		now = x.Now
	}
	rec, err := x.gather(ctx, req, now().UTC())
	if err != nil {
		return Result{}, err
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return Result{}, fmt.Errorf("subject access: create the bundle: %w", err)
	}
	res, err := x.write(ctx, f, req, rec)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = x.audit(ctx, req)
	}
	if err != nil {
		_ = os.Remove(path)
		return Result{}, err
	}
	return res, nil
}

// audit writes the export's record in the mission's chain: who ran it, about whom (the
// subject id), under which request reference; never what the bundle holds.
func (x *Exporter) audit(ctx context.Context, req Request) error {
	err := x.DB[Intake].MissionTx(ctx, req.Mission, func(tx pgx.Tx) error {
		return audit.Write(ctx, tx, audit.Entry{Mission: req.Mission, Actor: req.By, Role: "operator",
			CallerMission: req.Mission, Method: Method, AggregateID: req.Subject, RequestID: req.Reference})
	})
	if err != nil {
		return fmt.Errorf("subject access: audit the export: %w", err)
	}
	return nil
}

// Method is the audit record's method of an export.
const Method = "passage export"
