package intake

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"google.golang.org/genproto/googleapis/type/date"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/passage-cm/passage/internal/audit"
	"github.com/passage-cm/passage/internal/auth"
	"github.com/passage-cm/passage/internal/civildate"
	"github.com/passage-cm/passage/internal/database"
	"github.com/passage-cm/passage/internal/enumcode"
	"github.com/passage-cm/passage/internal/pagetoken"
	"github.com/passage-cm/passage/internal/rpcerr"
	"github.com/passage-cm/passage/internal/vault"
	commonv1 "github.com/passage-cm/passage/proto/gen/passage/common/v1"
	intakev1 "github.com/passage-cm/passage/proto/gen/passage/intake/v1"
)

// The caseload (ListCases): a mission's own cases, filtered by whose they are, programme,
// status, vulnerability, host country, registration date and last activity, sorted by
// registration or by last activity, keyset-paged, with the counts of every match on the first
// page. "Last activity" is the case record's update_time: a column of the case, indexed with
// the mission (migration 000037), so the filter and the sort cost an index range. The time of
// a case's last event (a note, a follow-up, another service's event) would be truer but needs
// the outbox joined to every listed case; it is left out. Cases shared with the mission by a
// hand-over are never listed (doc.go).
//
// The names view adds the principal's given and family name for each listed case whose
// identity the caller may read, by the rule GetCase's full view applies (access.go), in one
// transaction with one audit record per case whose name is returned, written before the vault
// is opened.

// ListCases lists the caller's mission's cases.
func (s *Service) ListCases(ctx context.Context, req *intakev1.ListCasesRequest) (*intakev1.ListCasesResponse, error) {
	who, err := auth.Caller(ctx)
	if err != nil {
		return nil, err
	}
	mission, err := missionOf(who, req.GetMission())
	if err != nil {
		return nil, err
	}
	f, err := parseListFilter(who, mission, req)
	if err != nil {
		return nil, err
	}
	names := req.GetView() == intakev1.CaseListView_CASE_LIST_VIEW_WITH_NAMES
	if names && !slices.Contains(identityRoles, who.Role) {
		return nil, status.Errorf(codes.PermissionDenied, "view: role %s may not read identity", who.Role)
	}
	if names && req.GetPurpose() == commonv1.AccessPurpose_ACCESS_PURPOSE_UNSPECIFIED {
		return nil, rpcerr.InvalidArgument(rpcerr.FieldViolation("purpose", "is required with CASE_LIST_VIEW_WITH_NAMES"))
	}

	resp := &intakev1.ListCasesResponse{}
	list := func(q database.Querier) error {
		cases, err := listCases(ctx, q, f)
		if err != nil {
			return err
		}
		resp.Cases = cases
		if len(cases) == f.limit { // one more than a page was read: another page follows
			resp.Cases = cases[:f.limit-1]
			resp.NextPageToken = pagetoken.Encode(f.cursorOf(resp.Cases[len(resp.Cases)-1]), f.hash)
		}
		if f.after == nil && req.GetWithCounts() {
			resp.Counts, err = countCases(ctx, q, f)
		}
		return err
	}
	if !names {
		if err := list(s.db.Mission(mission)); err != nil {
			return nil, toStatus(err)
		}
		return resp, nil
	}
	// One transaction: the list, the access decisions and the names they allow are read from
	// the same snapshot, and the audit records commit with them or nothing is returned.
	err = s.db.MissionTx(ctx, mission, func(tx pgx.Tx) error {
		if err := list(tx); err != nil {
			return err
		}
		resp.Names, err = s.listNames(ctx, tx, who, resp.Cases, req.GetPurpose())
		return err
	})
	if err != nil {
		return nil, toStatus(err)
	}
	return resp, nil
}

// listFilter is a validated ListCases query.
type listFilter struct {
	mission       string
	programme     string
	status        string
	hostCountry   string
	vulnerability string
	from, to      *time.Time // registration dates, both included
	activeAfter   *time.Time // last activity, excluded
	activeBefore  *time.Time // last activity, excluded
	assignee      intakev1.CaseAssignee
	staff         string // whose cases, with CASE_ASSIGNEE_ME or _STAFF
	order         intakev1.CaseOrder
	after         *pagetoken.Cursor // after the last case of the previous page, if any
	limit         int               // one more than the page size
	hash          []byte            // what the page token is bound to
}

// parseListFilter validates a request's filters for caller who listing mission.
func parseListFilter(who auth.Claims, mission string, req *intakev1.ListCasesRequest) (listFilter, error) {
	f := listFilter{mission: mission, hostCountry: req.GetHostCountry(), limit: pagetoken.Size(req.GetPageSize()) + 1,
		assignee: req.GetAssignee(), order: req.GetOrderBy(), hash: listFilterHash(req)}
	if req.GetProgramme() != 0 {
		f.programme = enumcode.Code(req.GetProgramme())
	}
	if req.GetStatus() != 0 {
		f.status = enumcode.Code(req.GetStatus())
	}
	if req.GetVulnerability() != 0 {
		f.vulnerability = enumcode.Code(req.GetVulnerability())
	}
	var v rpcerr.Violations
	checkCountry(&v, "host_country", req.GetHostCountry(), false)
	f.from = listDate(&v, "registered_from", req.GetRegisteredFrom())
	f.to = listDate(&v, "registered_to", req.GetRegisteredTo())
	if f.from != nil && f.to != nil && f.to.Before(*f.from) {
		v.Add("registered_to", "must not be before registered_from")
	}
	f.activeAfter = listTime(&v, "active_after", req.GetActiveAfter())
	f.activeBefore = listTime(&v, "active_before", req.GetActiveBefore())
	if f.activeAfter != nil && f.activeBefore != nil && !f.activeAfter.Before(*f.activeBefore) {
		v.Add("active_before", "must be after active_after")
	}
	switch f.assignee {
	case intakev1.CaseAssignee_CASE_ASSIGNEE_ME:
		f.staff = who.Subject
	case intakev1.CaseAssignee_CASE_ASSIGNEE_STAFF:
		f.staff = req.GetAssigneeStaffId()
		if f.staff == "" {
			v.Add("assignee_staff_id", "is required with CASE_ASSIGNEE_STAFF")
		}
	}
	if f.assignee != intakev1.CaseAssignee_CASE_ASSIGNEE_STAFF && req.GetAssigneeStaffId() != "" {
		v.Add("assignee_staff_id", "is only for CASE_ASSIGNEE_STAFF")
	}
	if tok := req.GetPageToken(); tok != "" {
		var err error
		if f.after, err = pagetoken.Decode(tok, f.hash); err != nil {
			v.Add("page_token", pagetoken.Mismatch)
		}
	}
	if err := v.Err(); err != nil {
		return listFilter{}, err
	}
	// A colleague's caseload is a supervisor's view; a caseworker lists their own.
	if f.assignee == intakev1.CaseAssignee_CASE_ASSIGNEE_STAFF && f.staff != who.Subject && who.Role != auth.RoleSupervisor {
		return listFilter{}, status.Error(codes.PermissionDenied, "assignee_staff_id: only supervisors list a colleague's cases")
	}
	return f, nil
}

func listDate(v *rpcerr.Violations, field string, d *date.Date) *time.Time {
	if d == nil {
		return nil
	}
	if err := civildate.CheckFull(d); err != nil {
		v.Add(field, err.Error())
		return nil
	}
	t := civildate.ToTime(d)
	return &t
}

func listTime(v *rpcerr.Violations, field string, ts *timestamppb.Timestamp) *time.Time {
	if ts == nil {
		return nil
	}
	if err := ts.CheckValid(); err != nil {
		v.Add(field, "is not a valid timestamp")
		return nil
	}
	t := ts.AsTime()
	return &t
}

// listFilterHash is what a page token is bound to: every filter and the order of the
// request, so that a token cannot be replayed against others. The page size and the view may
// change between pages.
func listFilterHash(req *intakev1.ListCasesRequest) []byte {
	return pagetoken.Filter(fmt.Sprintf("%s|%d|%d|%s|%v|%v|%v|%v|%v|%v|%d|%s|%d|%v|%v|%d", req.GetMission(), req.GetProgramme(), req.GetStatus(),
		req.GetHostCountry(), req.GetRegisteredFrom().GetYear(), req.GetRegisteredFrom().GetMonth(),
		req.GetRegisteredFrom().GetDay(), req.GetRegisteredTo().GetYear(), req.GetRegisteredTo().GetMonth(),
		req.GetRegisteredTo().GetDay(), req.GetAssignee(), req.GetAssigneeStaffId(), req.GetVulnerability(),
		timestampKey(req.GetActiveAfter()), timestampKey(req.GetActiveBefore()), req.GetOrderBy()))
}

func timestampKey(ts *timestamppb.Timestamp) string {
	if ts == nil {
		return ""
	}
	return fmt.Sprintf("%d.%d", ts.GetSeconds(), ts.GetNanos())
}

// byActivity reports whether the list is sorted by last activity rather than registration.
func (f listFilter) byActivity() bool {
	return f.order == intakev1.CaseOrder_CASE_ORDER_ACTIVITY_DESC || f.order == intakev1.CaseOrder_CASE_ORDER_ACTIVITY_ASC
}

func (f listFilter) ascending() bool {
	return f.order == intakev1.CaseOrder_CASE_ORDER_REGISTERED_ASC || f.order == intakev1.CaseOrder_CASE_ORDER_ACTIVITY_ASC
}

// cursorOf is the position of c in the list's order.
func (f listFilter) cursorOf(c *intakev1.Case) pagetoken.Cursor {
	t := c.GetCreateTime().AsTime()
	if f.byActivity() {
		t = c.GetUpdateTime().AsTime()
	}
	return pagetoken.Cursor{Time: t, ID: uuid.MustParse(c.GetCaseId())}
}

// where is the filter as SQL over intake."case" c, with its arguments, leaving the page
// cursor out (the counts count every page).
func (f listFilter) where() (string, []any) {
	var w strings.Builder
	args := []any{f.mission}
	arg := func(v any) string {
		args = append(args, v)
		return fmt.Sprintf("$%d", len(args))
	}
	w.WriteString(`c.mission = $1`)
	if f.programme != "" {
		w.WriteString(` AND c.programme = ` + arg(f.programme))
	}
	if f.status != "" {
		w.WriteString(` AND c.status = ` + arg(f.status))
	}
	if f.hostCountry != "" {
		w.WriteString(` AND c.host_country = ` + arg(f.hostCountry))
	}
	if f.vulnerability != "" {
		w.WriteString(` AND c.vulnerabilities @> ARRAY[` + arg(f.vulnerability) + `::text]`)
	}
	if f.from != nil {
		w.WriteString(` AND c.registration_date >= ` + arg(*f.from) + `::date`)
	}
	if f.to != nil {
		w.WriteString(` AND c.registration_date <= ` + arg(*f.to) + `::date`)
	}
	if f.activeAfter != nil {
		w.WriteString(` AND c.updated_at > ` + arg(*f.activeAfter))
	}
	if f.activeBefore != nil {
		w.WriteString(` AND c.updated_at < ` + arg(*f.activeBefore))
	}
	switch f.assignee {
	case intakev1.CaseAssignee_CASE_ASSIGNEE_ME, intakev1.CaseAssignee_CASE_ASSIGNEE_STAFF:
		// A set of case ids from two indexes (the registrar's, the assignments'), so that a
		// caseload of thousands is found without reading the mission's other cases.
		s := arg(f.staff)
		w.WriteString(` AND c.case_id IN (SELECT r.case_id FROM intake."case" r WHERE r.mission = $1 AND r.created_by = ` + s +
			` UNION ALL SELECT a.case_id FROM intake.case_assignment a WHERE a.mission = $1 AND a.staff_id = ` + s + `)`)
	case intakev1.CaseAssignee_CASE_ASSIGNEE_UNASSIGNED:
		w.WriteString(` AND NOT EXISTS (SELECT 1 FROM intake.case_assignment a WHERE a.case_id = c.case_id AND a.mission = $1)`)
	}
	return w.String(), args
}

// listCases reads a page of the list (f.limit cases at most) through q, with the members
// and consents of each.
func listCases(ctx context.Context, q database.Querier, f listFilter) ([]*intakev1.Case, error) {
	where, args := f.where()
	col, cmp, dir := "c.created_at", "<", "DESC"
	if f.byActivity() {
		col = "c.updated_at"
	}
	if f.ascending() {
		cmp, dir = ">", "ASC"
	}
	if f.after != nil {
		args = append(args, f.after.Time, f.after.ID)
		where += fmt.Sprintf(` AND (%s, c.case_id) %s ($%d, $%d)`, col, cmp, len(args)-1, len(args))
	}
	args = append(args, f.limit)
	sql := fmt.Sprintf(`SELECT %s FROM intake."case" c WHERE %s ORDER BY %s %s, c.case_id %s LIMIT $%d`,
		caseColumns, where, col, dir, dir, len(args))
	rows, err := q.Query(ctx, sql, args...)
	if err != nil {
		return nil, fmt.Errorf("list cases: %w", err)
	}
	cases, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (*intakev1.Case, error) { return scanCase(row) })
	if err != nil {
		return nil, fmt.Errorf("list cases: %w", err)
	}
	if err := loadDetails(ctx, q, cases); err != nil {
		return nil, err
	}
	return cases, nil
}

// countCases counts every case matching f, by status and by programme.
func countCases(ctx context.Context, q database.Querier, f listFilter) (*intakev1.CaseCounts, error) {
	where, args := f.where()
	rows, err := q.Query(ctx, `SELECT c.status, c.programme, count(*) FROM intake."case" c WHERE `+where+
		` GROUP BY c.status, c.programme`, args...)
	if err != nil {
		return nil, fmt.Errorf("count cases: %w", err)
	}
	byStatus, byProgramme := map[string]int64{}, map[string]int64{}
	counts := &intakev1.CaseCounts{}
	var st, programme string
	var n int64
	if _, err := pgx.ForEachRow(rows, []any{&st, &programme, &n}, func() error {
		counts.Total += n
		byStatus[st] += n
		byProgramme[programme] += n
		return nil
	}); err != nil {
		return nil, fmt.Errorf("count cases: %w", err)
	}
	for _, code := range slices.Sorted(maps.Keys(byStatus)) {
		counts.ByStatus = append(counts.ByStatus, &intakev1.StatusCount{Status: statusFromCode(code), Count: byStatus[code]})
	}
	for _, code := range slices.Sorted(maps.Keys(byProgramme)) {
		counts.ByProgramme = append(counts.ByProgramme, &intakev1.ProgrammeCount{Programme: programmeFromCode(code), Count: byProgramme[code]})
	}
	return counts, nil
}

// listNames returns the principal's name of each of cases whose identity who may read for
// purpose, inside tx (declared for who's mission), after writing one audit record per case
// named. An erased principal has no name to return, and no read is recorded.
func (s *Service) listNames(ctx context.Context, tx pgx.Tx, who auth.Claims, cases []*intakev1.Case, purpose commonv1.AccessPurpose) ([]*intakev1.CaseName, error) {
	if len(cases) == 0 {
		return nil, nil
	}
	ids := make([]uuid.UUID, len(cases))
	for i, c := range cases {
		ids[i] = uuid.MustParse(c.GetCaseId())
	}
	access, err := readAccesses(ctx, tx, who, ids, s.clock())
	if err != nil {
		return nil, err
	}
	var allowed []*intakev1.Case
	var subjects []uuid.UUID
	for i, c := range cases {
		if checkIdentityAccess(access[ids[i]], purpose) == nil {
			allowed = append(allowed, c)
			subjects = append(subjects, uuid.MustParse(c.GetSubjectId()))
		}
	}
	if len(allowed) == 0 {
		return nil, nil
	}
	sealed, err := vault.Get(ctx, tx, subjects)
	if err != nil {
		return nil, err
	}
	rctx := audit.WithReason(ctx, purpose.String())
	var entries []audit.Entry
	var named []*intakev1.Case
	for i, c := range allowed {
		if _, ok := sealed[subjects[i]]; ok {
			entries = append(entries, audit.For(rctx, who, c.GetMission(), uuid.MustParse(c.GetCaseId())))
			named = append(named, c)
		}
	}
	if len(entries) == 0 {
		return nil, nil
	}
	// The reads are recorded before any identity is opened, in the transaction that reads.
	if err := audit.Write(ctx, tx, entries[0], entries[1:]...); err != nil {
		return nil, err
	}
	out := make([]*intakev1.CaseName, 0, len(named))
	for _, c := range named {
		id := uuid.MustParse(c.GetSubjectId())
		p, err := s.keys.Open(id, sealed[id])
		if err != nil {
			return nil, fmt.Errorf("open identity: %w", err)
		}
		out = append(out, &intakev1.CaseName{CaseId: c.GetCaseId(), GivenName: p.GetGivenName(), FamilyName: p.GetFamilyName()})
	}
	return out, nil
}
