package staffdir

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"
	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/passage-cm/passage/internal/auth"
	"github.com/passage-cm/passage/internal/middleware"
	"github.com/passage-cm/passage/internal/rpcerr"
)

// ErrorDomain is the ErrorInfo domain of the directory's refusals.
const ErrorDomain = "passage.staff.v1"

// Reasons of the directory's refusals (ErrorInfo.reason).
const (
	ReasonInactive = "STAFF_INACTIVE"
	ReasonUnknown  = "STAFF_UNKNOWN"
	ReasonMismatch = "STAFF_DIRECTORY_MISMATCH"
)

// refused is a PERMISSION_DENIED with the directory's reason. The message names no one: the
// caller knows who they are, and the log line must not learn it from the message.
func refused(reason, msg string) error {
	return rpcerr.WithDetails(codes.PermissionDenied, msg, &errdetails.ErrorInfo{Reason: reason, Domain: ErrorDomain})
}

var (
	errInactive = refused(ReasonInactive, "the caller's staff directory entry is inactive")
	errUnknown  = refused(ReasonUnknown, "the caller is not in the staff directory")
	errMismatch = refused(ReasonMismatch, "the token's mission or role is not the staff directory's: an administrator provisions the change")
	// errStale is retryable: the process lost track of the directory for a moment.
	errStale = status.Error(codes.Unavailable, "the staff directory is being read again; retry")
)

// Admit decides whether the authenticated caller c may call now (auth.Admit): partners are
// not staff and pass; staff must be active members of the directory, with the token's
// mission and role. In ModeClaims a member the directory does not know is added from the
// token, and a claims-provisioned member's token that moved to another mission or role is
// followed; in ModeManaged both are refused. While the process is not listening for the
// directory's changes, every staff call is refused UNAVAILABLE (see the package doc).
func (d *Directory) Admit(ctx context.Context, c auth.Claims) error {
	if c.Role == auth.RolePartner {
		return nil
	}
	if !d.fresh.Load() {
		return errStale
	}
	m, ok := d.Lookup(c.Subject)
	for range 3 { // a race lost to another process's sign-in reads the member again
		switch {
		case ok && !m.Active:
			return errInactive
		case ok && m.matches(c):
			d.touch(ctx, m)
			return nil
		case d.cfg.Mode == ModeManaged && ok:
			return errMismatch
		case d.cfg.Mode == ModeManaged:
			return errUnknown
		case ok && m.ProvisionedBy != ProvisionedByClaims:
			// An administrator's entry is the directory's word, not the token's.
			return errMismatch
		}
		var err error
		m, ok, err = d.signIn(ctx, c, ok)
		if err != nil {
			return err
		}
	}
	return errMismatch
}

// signIn adds c's subject from its claims (known false), or moves their claims-provisioned,
// active entry to c's mission and role (known true), and returns the member as the database
// then holds them, and whether it holds them at all.
func (d *Directory) signIn(ctx context.Context, c auth.Claims, known bool) (Member, bool, error) {
	now := d.cfg.Clock()
	var sql string
	if known {
		sql = `UPDATE intake.staff_member SET mission = $2, role = $3, version = version + 1, updated_at = $4, last_seen_at = $4
WHERE staff_id = $1 AND active AND provisioned_by = 'claims'
RETURNING staff_id, mission, role, active, provisioned_by, version, last_seen_at`
	} else {
		sql = `INSERT INTO intake.staff_member (staff_id, member_id, mission, role, active, provisioned_by, version, created_at, updated_at, last_seen_at)
VALUES ($1, $5, $2, $3, true, 'claims', 1, $4, $4, $4) ON CONFLICT DO NOTHING
RETURNING staff_id, mission, role, active, provisioned_by, version, last_seen_at`
	}
	var m Member
	args := []any{c.Subject, c.Mission, string(c.Role), now}
	if !known {
		args = append(args, MemberID(c.Subject))
	}
	err := d.pool.QueryRow(ctx, sql, args...).
		Scan(&m.StaffID, &m.Mission, &m.Role, &m.Active, &m.ProvisionedBy, &m.Version, &m.lastSeen)
	if errors.Is(err, pgx.ErrNoRows) {
		// Another process got there first, or the entry is not one a token may change: read
		// what is there. The insert names no conflict target: a racing insert of the same
		// subject may meet it on member_id (derived from staff_id) before staff_id, and
		// Postgres raises a conflict on a unique index other than the target's.
		err = d.pool.QueryRow(ctx, `SELECT staff_id, mission, role, active, provisioned_by, version, coalesce(last_seen_at, 'epoch')
FROM intake.staff_member WHERE staff_id = $1`, c.Subject).
			Scan(&m.StaffID, &m.Mission, &m.Role, &m.Active, &m.ProvisionedBy, &m.Version, &m.lastSeen)
		if errors.Is(err, pgx.ErrNoRows) {
			return Member{}, false, nil
		}
	}
	if err != nil {
		return Member{}, false, fmt.Errorf("staff directory: sign in: %w", err)
	}
	return d.put(m), true, nil
}

// touch records that m called, when this process has not seen them for about a day. A
// failure is logged and the call admitted: the time last seen informs administrators, it
// guards nothing. Other services' roles may touch only claims-provisioned members (migration
// 000039); an administrator-provisioned member's time is kept by intake's processes.
func (d *Directory) touch(ctx context.Context, m Member) {
	now := d.cfg.Clock()
	if now.Sub(m.lastSeen) < touchEvery {
		return
	}
	if _, err := d.pool.Exec(ctx, `UPDATE intake.staff_member SET last_seen_at = $2
WHERE staff_id = $1 AND active AND (last_seen_at IS NULL OR last_seen_at < $3)`, m.StaffID, now, now.Add(-touchEvery)); err != nil {
		d.cfg.Logger.WarnContext(ctx, "staff directory: cannot record a member's last call", middleware.ErrorAttr(err))
		return
	}
	d.mu.Lock()
	if cur, ok := d.members[m.StaffID]; ok && cur.Version == m.Version {
		cur.lastSeen = now
		d.members[m.StaffID] = cur
	}
	d.mu.Unlock()
}
