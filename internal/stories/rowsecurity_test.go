package stories_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/passage-cm/passage/internal/auth"
	"github.com/passage-cm/passage/internal/database"
	"github.com/passage-cm/passage/internal/egress"
	"github.com/passage-cm/passage/internal/webhook"
	casenotev1 "github.com/passage-cm/passage/proto/gen/passage/casenote/v1"
	commonv1 "github.com/passage-cm/passage/proto/gen/passage/common/v1"
	documentv1 "github.com/passage-cm/passage/proto/gen/passage/document/v1"
	followupv1 "github.com/passage-cm/passage/proto/gen/passage/followup/v1"
	intakev1 "github.com/passage-cm/passage/proto/gen/passage/intake/v1"
	returnsv1 "github.com/passage-cm/passage/proto/gen/passage/returns/v1"
	"github.com/passage-cm/passage/services/followup"
	"github.com/passage-cm/passage/services/handover"
	"github.com/passage-cm/passage/services/hasm"
	"github.com/passage-cm/passage/services/intake"
	"github.com/passage-cm/passage/services/returns"
	"github.com/passage-cm/passage/services/trafficking"
)

// serviceRoles are the roles services connect with: analytics has two, the query role (no
// mission table at all) and its projector (every producer's events, as a consumer); the
// referral role queues and delivers the outbound webhooks.
var serviceRoles = []string{intake.Role, returns.Role, trafficking.Role, hasm.Role, followup.Role, handover.Role, "passage_analytics", "passage_analytics_projector", "passage_referral"}

// rlsTable is a table under row-level security, and how the owner tells a row's mission.
type rlsTable struct {
	name    string
	mission string // SQL for the mission of row t
}

func parentMission(parent string) string {
	return "(SELECT p.mission FROM " + parent + " p WHERE p.case_id = t.case_id)"
}

// missionTables is every table that holds a mission's rows (TestRowSecurityCoversEveryTable
// keeps the list complete).
var missionTables = []rlsTable{
	{"vault.identity", "t.mission"},
	{"vault.blind_index", "t.mission"},
	{`intake."case"`, "t.mission"},
	{"intake.case_member", "t.mission"},
	{"intake.consent", "t.mission"},
	{"intake.idempotency", "t.mission"},
	{"intake.case_assignment", "t.mission"},
	{"intake.break_glass_grant", "t.mission"},
	{"intake.case_note", "t.mission"},
	{"intake.case_note_version", "t.mission"},
	{"intake.document", "t.mission"},
	{"intake.document_chunk", "t.mission"},
	{"audit.record", "t.mission"},
	{"vault.erasure", "t.mission"},
	{"intake.consent_withdrawal", "t.mission"},
	{"outbox.event", "t.mission"},
	{`returns."case"`, "t.mission"},
	{"returns.case_member", parentMission(`returns."case"`)},
	{`returns."return"`, "t.mission"},
	{"returns.eligibility_decision", "t.mission"},
	{"returns.pre_departure_step", "t.mission"},
	{"returns.departure", "t.mission"},
	{"returns.arrival", "t.mission"},
	{"returns.reintegration_plan", "t.mission"},
	{"returns.assistance", "t.mission"},
	{"returns.monitoring_visit", "t.mission"},
	{"returns.status_change", "t.mission"},
	{"returns.idempotency", "t.mission"},
	{"trafficking.victim_case", "t.mission"},
	{"trafficking.assistance", "t.mission"},
	{"trafficking.idempotency", "t.mission"},
	{`hasm."case"`, "t.mission"},
	{"hasm.case_member", parentMission(`hasm."case"`)},
	{"hasm.request", "t.mission"},
	{"hasm.idempotency", "t.mission"},
	{"followup.follow_up", "t.mission"},
	{"followup.schedule", "t.mission"},
	{"followup.schedule_override", "t.mission"},
	{"followup.idempotency", "t.mission"},
	{"followup.case_assignee", "t.mission"},
	{"webhook.delivery", "t.mission"},
	{"webhook.attempt", "t.mission"},
	// HQ's budgets: no mission's rows, readable by any declared mission (see 000007).
	{"hasm.fund", "'HQ'"},
}

// notMissionData are the tables left without row-level security on purpose: one outbox
// position per consumer, for every mission at once, and the audit chain.
var notMissionData = []string{"intake.outbox_cursor", "returns.outbox_cursor", "trafficking.outbox_cursor", "hasm.outbox_cursor",
	"referral.outbox_cursor", "followup.outbox_cursor", "handover.outbox_cursor",
	// The programmes' default follow-up schedules: nobody's data, read by every mission (000022).
	"followup.schedule_default",
	// The audit chain's links and the chainer's place: ids and MACs only, written and read by
	// the auditor role alone, across missions (see 000008).
	"audit.link", "audit.chain_cursor",
	// The analytics projector's place in the outbox.
	"analytics_state.outbox_cursor"}

// underOwnPolicies are under ENABLE and FORCE row-level security with policies of their own,
// tested where they are made (services/analytics): the anonymised tables, read across missions
// by HQ by design, and the projector's pseudonymous state, which the stories here may not have
// reached yet when this test reads (the projector runs in the background).
var underOwnPolicies = []string{"analytics.fact", "analytics.rollup", "analytics.victim_record",
	`analytics_state."case"`, "analytics_state.member", "analytics_state.assisted", "analytics_state.victim",
	"analytics_state.referral",
	// The grants of parts of handed-over cases, by which the projector finds the case's own
	// mission's records for the receiving mission's events (000030; projector/handover_test.go).
	"analytics_state.part",
	// Every differentially private release and the ε it spent, per consumer: HQ's, seen only by
	// a transaction declared for HQ (000015; internal/privacy's tests).
	"analytics.privacy_ledger",
	// Referrals (000014): a mission's rows, and a partner's through named policies; the
	// registry and the data profiles are HQ's. Tested as the referral role, declared for a
	// mission and for each partner, in services/referral (TestPartnerIsolationInDatabase).
	`referral."case"`, "referral.referral", "referral.transition", "referral.partner_event",
	"referral.idempotency", "referral.partner", "referral.data_profile",
	// Hand-overs (000023): the case projection and idempotency records are a mission's; a
	// hand-over and its parts its two missions' (sender_and_receiver_*); the data profiles HQ's.
	// Tested as the handover role, declared for the sender, the receiver, a third mission and
	// none, in services/handover (TestRowSecurityAsHandoverRole).
	`handover."case"`, "handover.idempotency", "handover.handover", "handover.part", "handover.profile",
	// The grants of parts of a case to a receiving mission (internal/handoverpart): visible to
	// both missions of the hand-over, written under the receiving one. Tested as each service's
	// role in its own package (TestPartRowSecurity).
	"trafficking.part", "followup.part", "hasm.part", "returns.part",
	// Intake's shares of handed-over cases and the hand-over profiles they follow (000028):
	// a share visible to both missions, written under the receiving one. Tested as the intake
	// role in services/intake (share_test.go).
	"intake.case_share", "intake.handover_profile",
	// The staff directory (000039): read by every service role across missions, written by
	// intake's, a token adding only itself. Tested as intake's and follow-up's roles in
	// internal/staffdir (TestRowSecurityOfTheDirectory).
	"intake.staff_member"}

// TestRowSecurityCoversEveryTable: every table of the services' schemas is under ENABLE and
// FORCE row-level security, or is one of the few documented exceptions; and every service role
// is neither superuser nor BYPASSRLS and owns nothing, so that the policies bind it.
func TestRowSecurityCoversEveryTable(t *testing.T) {
	t.Parallel()
	c := start(t)
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, c.env.AdminURL)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)

	rows, _ := conn.Query(ctx, `SELECT format('%I.%I', n.nspname, c.relname), c.relrowsecurity, c.relforcerowsecurity
FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE c.relkind IN ('r', 'p') AND n.nspname IN ('vault', 'intake', 'outbox', 'returns', 'trafficking', 'hasm', 'audit',
  'analytics', 'analytics_state', 'webhook', 'referral', 'followup', 'handover')
ORDER BY 1`)
	var name string
	var enabled, forced bool
	seen := 0
	if _, err := pgx.ForEachRow(rows, []any{&name, &enabled, &forced}, func() error {
		seen++
		// The catalogue quotes only what must be (intake."case", returns.return).
		bare := func(s string) string { return strings.ReplaceAll(s, `"`, "") }
		switch {
		case slices.ContainsFunc(missionTables, func(x rlsTable) bool { return bare(x.name) == bare(name) }):
			if !enabled || !forced {
				t.Errorf("%s holds a mission's rows but row-level security is enabled=%v forced=%v", name, enabled, forced)
			}
		case slices.Contains(notMissionData, name):
		case slices.Contains(underOwnPolicies, name):
			if !enabled || !forced {
				t.Errorf("%s: row-level security is enabled=%v forced=%v", name, enabled, forced)
			}
		default:
			t.Errorf("%s is neither under row-level security nor a documented exception", name)
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if listed := len(missionTables) + len(notMissionData) + len(underOwnPolicies); seen != listed {
		t.Errorf("%d tables in the services' schemas, %d listed here", seen, listed)
	}

	// Every passage role, the service roles among them: no superuser, no BYPASSRLS, no table,
	// schema or other object of their own (FORCE binds owners too, but an owner could turn
	// row-level security off).
	rows, _ = conn.Query(ctx, `SELECT r.rolname, r.rolsuper, r.rolbypassrls,
  (SELECT count(*) FROM pg_class c WHERE c.relowner = r.oid) + (SELECT count(*) FROM pg_namespace n WHERE n.nspowner = r.oid)
  + (SELECT count(*) FROM pg_proc p WHERE p.proowner = r.oid) + (SELECT count(*) FROM pg_type y WHERE y.typowner = r.oid)
FROM pg_roles r WHERE r.rolname LIKE 'passage\_%' ORDER BY 1`)
	var roles []string
	var super, bypass bool
	var owned int
	if _, err := pgx.ForEachRow(rows, []any{&name, &super, &bypass, &owned}, func() error {
		roles = append(roles, name)
		if super || bypass || owned != 0 {
			t.Errorf("role %s: superuser=%v bypassrls=%v owns %d objects; want none of these", name, super, bypass, owned)
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	for _, r := range serviceRoles {
		if !slices.Contains(roles, r) {
			t.Errorf("service role %s is missing", r)
		}
	}
}

// TestRowSecurityAsEachRole walks the seed's stories (cases, returns, victim cases, HASM
// requests and funds in DEU, THA, YEM and at HQ), then connects as each service role and tries,
// in direct SQL on every table it has a grant on, to read, update, delete and insert the rows of
// every other mission. With a mission declared it reaches that mission's rows only (and HQ the
// few others it needs by design); with none declared, nothing at all, on a fresh connection or
// on one a finished transaction declared a mission on.
func TestRowSecurityAsEachRole(t *testing.T) {
	t.Parallel()
	defer stopOnFailedStep(t)
	c := start(t)
	deuCase := germanyToIraq(t, c)
	_, votReturn := thailandVictimReturnsHome(t, c)
	yemenStrandedMigrant(t, c)
	// The stories close no return: one closing, so that returns.status_change has a row too.
	tha := c.env.As(t, auth.RoleCaseworker, "THA")
	r := must(c.returns.GetReturn(tha, &returnsv1.GetReturnRequest{CaseId: votReturn})).GetReturn()
	must(c.returns.CloseReturn(tha, &returnsv1.CloseReturnRequest{RequestId: uuid.NewString(), CaseId: votReturn,
		Version: r.GetVersion(), Reason: returnsv1.ClosureReason_CLOSURE_REASON_LOST_CONTACT}))
	// Nor do they assign a case or break the glass: one of each, for intake's access tables.
	deu := c.env.As(t, auth.RoleSupervisor, "DEU")
	c.env.Provision(t, "caseworker-2", auth.RoleCaseworker, "DEU")
	must(c.intake.AssignCase(deu, &intakev1.AssignCaseRequest{RequestId: uuid.NewString(), CaseId: deuCase, StaffId: "caseworker-2"}))
	// Nor do they keep a note or a document: the assigned caseworker writes one and uploads the
	// other, for intake's note and document tables.
	assigned := c.env.AsStaff(t, "caseworker-2", auth.RoleCaseworker, "DEU")
	must(casenotev1.NewCaseNoteServiceClient(c.env.Conn).AddCaseNote(assigned,
		&casenotev1.AddCaseNoteRequest{RequestId: uuid.NewString(), CaseId: deuCase, Text: "Counselled the family on reintegration options.",
			Sensitivity: casenotev1.Sensitivity_SENSITIVITY_NORMAL}))
	upload := must(documentv1.NewDocumentServiceClient(c.env.Conn).UploadDocument(assigned))
	must(0, upload.Send(&documentv1.UploadDocumentRequest{Part: &documentv1.UploadDocumentRequest_Header{Header: &documentv1.UploadHeader{
		RequestId: uuid.NewString(), CaseId: deuCase, Kind: documentv1.DocumentKind_DOCUMENT_KIND_SIGNED_CONSENT,
		MediaType: "application/pdf", SizeBytes: 9}}}))
	must(0, upload.Send(&documentv1.UploadDocumentRequest{Part: &documentv1.UploadDocumentRequest_Chunk{Chunk: []byte("%PDF-1.7\n")}}))
	must(upload.CloseAndRecv())
	must(c.intake.BreakGlass(deu, &intakev1.BreakGlassRequest{RequestId: uuid.NewString(), CaseId: deuCase,
		Reason: "the caseworker is away and the family asks for news today"}))
	// And one erasure, for vault.erasure: a household member asks to be forgotten.
	kase := must(c.intake.GetCase(deu, &intakev1.GetCaseRequest{CaseId: deuCase})).GetCase()
	must(c.intake.ErasePerson(deu, &intakev1.ErasePersonRequest{RequestId: uuid.NewString(), CaseId: deuCase,
		SubjectId: kase.GetHouseholdMembers()[0].GetSubjectId(), Reason: intakev1.ErasureReason_ERASURE_REASON_DATA_SUBJECT_REQUEST}))
	// And one consent withdrawn, for intake.consent_withdrawal.
	kase = must(c.intake.GetCase(deu, &intakev1.GetCaseRequest{CaseId: deuCase})).GetCase()
	must(c.intake.WithdrawConsent(deu, &intakev1.WithdrawConsentRequest{RequestId: uuid.NewString(), CaseId: deuCase,
		Version: kase.GetVersion(), ConsentId: kase.GetConsents()[0].GetConsentId(), Date: kase.GetRegistrationDate()}))

	// The follow-ups the stories made, once the return closed last has closed its own, and a
	// schedule override with its request, for the follow-up service's tables.
	followUps := followupv1.NewFollowUpServiceClient(c.env.Conn)
	thaBoss := c.env.As(t, auth.RoleSupervisor, "THA")
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		resp, err := followUps.ListFollowUps(thaBoss, &followupv1.ListFollowUpsRequest{Scope: followupv1.Scope_SCOPE_MISSION, CaseId: votReturn})
		if err == nil && len(resp.GetFollowUps()) == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the closed return's follow-ups are still open: %v, %v", resp.GetFollowUps(), err)
		}
	}
	// The case assignment above, as the follow-up service keeps it (followup.case_assignee).
	for deadline := time.Now().Add(10 * time.Second); c.env.Count(t, "followup.case_assignee") == 0; time.Sleep(50 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("the follow-up service never learnt of the case assignment")
		}
	}
	must(followUps.SetSchedule(deu, &followupv1.SetScheduleRequest{RequestId: uuid.NewString(), Version: 1,
		Overrides: []*followupv1.ScheduleEntry{{Programme: commonv1.Programme_PROGRAMME_AVRR,
			Kind: followupv1.FollowUpKind_FOLLOW_UP_KIND_ARRIVAL_CONFIRMATION, Occurrence: 1, DueAfterDays: 5, RemindDaysBefore: 1}}}))

	ctx := context.Background()
	// And an outbound webhook delivery per mission, attempted once, for the webhook tables.
	outbound(t, c, "DEU", "THA")

	owner, err := pgx.Connect(ctx, c.env.AdminURL)
	if err != nil {
		t.Fatal(err)
	}
	defer owner.Close(ctx)

	// What the owner, who bypasses row-level security, sees: per table, the rows per mission.
	counts := map[string]map[string]int{}
	totals := map[string]int{}
	missions := []string{"ZZZ"} // declared, but without a row anywhere
	for _, tb := range missionTables {
		counts[tb.name] = map[string]int{}
		rows, _ := owner.Query(ctx, `SELECT `+tb.mission+`, count(*) FROM `+tb.name+` t GROUP BY 1`)
		var m string
		var n int
		if _, err := pgx.ForEachRow(rows, []any{&m, &n}, func() error {
			counts[tb.name][m] = n
			totals[tb.name] += n
			if !slices.Contains(missions, m) {
				missions = append(missions, m)
			}
			return nil
		}); err != nil {
			t.Fatalf("%s: %v", tb.name, err)
		}
		if totals[tb.name] == 0 {
			t.Errorf("%s has no rows after the stories: the checks on it prove nothing", tb.name)
		}
	}
	t.Logf("rows per mission: %v", counts)

	for _, role := range serviceRoles {
		t.Run(role, func(t *testing.T) {
			url, err := database.RoleURL(c.env.AdminURL, role)
			if err != nil {
				t.Fatal(err)
			}
			conn, err := pgx.Connect(ctx, url)
			if err != nil {
				t.Fatal(err)
			}
			defer conn.Close(ctx)
			for _, tb := range missionTables {
				privileges := tablePrivileges(t, owner, role, tb.name)
				if len(privileges) == 0 {
					continue
				}
				if slices.Contains(privileges, "SELECT") {
					// Nothing declared: a fresh connection reads NULL; one that declared in a
					// finished transaction reads ''. Both see nothing.
					wantCount(t, conn, "", "", tb.name, 0)
				}
				for _, m := range missions {
					checkMission(t, owner, conn, role, tb, m, privileges, counts[tb.name][m], totals[tb.name])
				}
				if slices.Contains(privileges, "SELECT") {
					wantCount(t, conn, "", "", tb.name, 0)
					// Declared as an outbox consumer, for no mission: intake's events only (the
					// programmes' and intake's case assignments to the follow-up service, every
					// one to the projector).
					want := 0
					switch {
					case tb.name == "outbox.event" && role == "passage_analytics_projector":
						want = totals[tb.name]
					case tb.name == "outbox.event" && role == followup.Role:
						want = ownerInt(t, owner, `SELECT count(*) FROM outbox.event WHERE producer IN ('returns', 'trafficking', 'hasm')
  OR (producer = 'intake' AND event_type = 'passage.intake.v1.CaseAssignmentChanged')`)
					case tb.name == "outbox.event" && role == intake.Role:
						// Intake reads the hand-over service's profiles, acceptances and
						// completions (its case shares), and nothing else.
						want = ownerInt(t, owner, `SELECT count(*) FROM outbox.event WHERE producer = 'handover' AND event_type IN
  ('passage.handover.v1.HandoverProfilePublished', 'passage.handover.v1.HandoverAccepted', 'passage.handover.v1.HandoverCompleted')`)
					case tb.name == "outbox.event":
						want = ownerInt(t, owner, `SELECT count(*) FROM outbox.event WHERE producer = 'intake'`)
					}
					wantCount(t, conn, database.ConsumerSetting, "test", tb.name, want)
					// Declared as the webhook worker: every mission's deliveries, for the
					// referral role alone, and nothing else.
					want = 0
					if role == "passage_referral" && strings.HasPrefix(tb.name, "webhook.") {
						want = totals[tb.name]
					}
					wantCount(t, conn, database.WebhookWorkerSetting, "test", tb.name, want)
				}
			}
		})
	}
}

// checkMission declares m on conn (connected as role) and checks what each privilege reaches
// of table tb: exactly mission m's rows (own), or every row where a policy says so by design.
func checkMission(t *testing.T, owner, conn *pgx.Conn, role string, tb rlsTable, m string, privileges []string, own, total int) {
	t.Helper()
	hqReads := role == hasm.Role && m == "HQ" && (tb.name == "hasm.request" || tb.name == `hasm."case"`)
	wantRead, wantUpdate := own, own
	switch {
	case tb.name == "hasm.fund": // any declared mission reads and updates HQ's funds
		wantRead, wantUpdate = total, total
	case hqReads: // HQ reads every mission's requests and cases, and decides requests
		wantRead = total
		if tb.name == "hasm.request" {
			wantUpdate = total
		}
	}
	if slices.Contains(privileges, "SELECT") {
		wantCount(t, conn, database.MissionSetting, m, tb.name, wantRead)
		if !hqReads && tb.name != "hasm.fund" {
			// Spelled out: no row of another mission, whatever the query asks for.
			wantCount(t, conn, database.MissionSetting, m, tb.name+" t WHERE "+tb.mission+" IS DISTINCT FROM '"+m+"'", 0)
		}
	}
	if slices.Contains(privileges, "UPDATE") {
		col := ownerString(t, owner, `SELECT quote_ident(attname) FROM pg_attribute WHERE attrelid = $1::regclass
AND attnum > 0 AND NOT attisdropped AND attidentity = '' AND attgenerated = '' ORDER BY attnum LIMIT 1`, tb.name)
		if n := affected(t, conn, m, `UPDATE `+tb.name+` SET `+col+` = `+col); n != wantUpdate {
			t.Errorf("%s declared %s: UPDATE %s reached %d rows, want %d", role, m, tb.name, n, wantUpdate)
		}
	}
	// An identity is deleted only with its erasure recorded (a trigger, tested in
	// services/intake); SELECT and UPDATE above already show which of its rows intake reaches.
	if slices.Contains(privileges, "DELETE") && tb.name != "vault.identity" {
		if n := affected(t, conn, m, `DELETE FROM `+tb.name); n != own {
			t.Errorf("%s declared %s: DELETE FROM %s reached %d rows, want %d", role, m, tb.name, n, own)
		}
	}
	// HQ may create funds, and records its calls in the audit chain of the mission whose data
	// it touched (record_hq_inserts in 000008).
	hqMayInsert := m == "HQ" && (tb.name == "hasm.fund" || tb.name == "audit.record")
	if slices.Contains(privileges, "INSERT") && !hqMayInsert {
		// A copy of a row of another mission (for hasm's HQ, not one of the RequestDecided
		// events it may record for any mission).
		where := tb.mission + " IS DISTINCT FROM $1"
		if tb.name == "outbox.event" {
			where += ` AND event_type <> 'passage.hasm.v1.RequestDecided'`
		}
		var row string
		err := owner.QueryRow(context.Background(), `SELECT row_to_json(t)::text FROM `+tb.name+` t WHERE `+where+` LIMIT 1`, m).Scan(&row)
		if errors.Is(err, pgx.ErrNoRows) {
			return
		}
		if err != nil {
			t.Fatalf("pick a row of %s outside %s: %v", tb.name, m, err)
		}
		cols := ownerString(t, owner, `SELECT string_agg(quote_ident(attname), ', ' ORDER BY attnum) FROM pg_attribute
WHERE attrelid = $1::regclass AND attnum > 0 AND NOT attisdropped AND attidentity = '' AND attgenerated = ''`, tb.name)
		_, err = inTx(conn, m, `INSERT INTO `+tb.name+` (`+cols+`) SELECT `+cols+` FROM json_populate_record(NULL::`+tb.name+`, $1::json)`, row)
		var pgErr *pgconn.PgError
		if !errors.As(err, &pgErr) || pgErr.Code != "42501" || !strings.Contains(pgErr.Message, "row-level security") {
			t.Errorf("%s declared %s: INSERT of another mission's row into %s = %v, want a row-level security violation", role, m, tb.name, err)
		}
	}
}

// inTx runs sql in a transaction declared for mission m, and rolls it back.
func inTx(conn *pgx.Conn, m, sql string, args ...any) (pgconn.CommandTag, error) {
	ctx := context.Background()
	tx, err := conn.Begin(ctx)
	if err != nil {
		return pgconn.CommandTag{}, err
	}
	defer tx.Rollback(ctx) //nolint:errcheck // nothing may stay
	if _, err := tx.Exec(ctx, `SELECT set_config($1, $2, true)`, database.MissionSetting, m); err != nil {
		return pgconn.CommandTag{}, err
	}
	return tx.Exec(ctx, sql, args...)
}

func affected(t *testing.T, conn *pgx.Conn, m, sql string) int {
	t.Helper()
	tag, err := inTx(conn, m, sql)
	if err != nil {
		t.Fatalf("declared %s: %s: %v", m, sql, err)
	}
	return int(tag.RowsAffected())
}

// wantCount counts the rows of from (a table, maybe with an alias and a WHERE) in a
// transaction that declared value for setting (nothing when setting is empty).
func wantCount(t *testing.T, conn *pgx.Conn, setting, value, from string, want int) {
	t.Helper()
	ctx := context.Background()
	tx, err := conn.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback(ctx) //nolint:errcheck // read only
	if setting != "" {
		if _, err := tx.Exec(ctx, `SELECT set_config($1, $2, true)`, setting, value); err != nil {
			t.Fatal(err)
		}
	}
	var n int
	if err := tx.QueryRow(ctx, `SELECT count(*) FROM `+from).Scan(&n); err != nil {
		t.Fatalf("%s=%q: count %s: %v", setting, value, from, err)
	}
	if n != want {
		t.Errorf("%s=%q: %d rows of %s visible, want %d", setting, value, n, from, want)
	}
}

func tablePrivileges(t *testing.T, owner *pgx.Conn, role, table string) []string {
	t.Helper()
	var out []string
	for _, p := range []string{"SELECT", "INSERT", "UPDATE", "DELETE"} {
		var ok bool
		if err := owner.QueryRow(context.Background(), `SELECT has_table_privilege($1, $2, $3)`, role, table, p).Scan(&ok); err != nil {
			t.Fatal(err)
		}
		if ok {
			out = append(out, p)
		}
	}
	return out
}

func ownerInt(t *testing.T, owner *pgx.Conn, sql string, args ...any) int {
	t.Helper()
	var n int
	if err := owner.QueryRow(context.Background(), sql, args...).Scan(&n); err != nil {
		t.Fatalf("%s: %v", sql, err)
	}
	return n
}

func ownerString(t *testing.T, owner *pgx.Conn, sql string, args ...any) string {
	t.Helper()
	var s string
	if err := owner.QueryRow(context.Background(), sql, args...).Scan(&s); err != nil {
		t.Fatalf("%s: %v", sql, err)
	}
	return s
}

// endpoint is a partner registry of one endpoint.
type endpoint struct {
	url    string
	secret webhook.Secret
}

func (e endpoint) Endpoint(context.Context, string, uuid.UUID) (string, webhook.Secret, error) {
	return e.url, e.secret, nil
}

// outbound queues a webhook delivery in each mission, as the referral service does, and has
// the worker deliver them to a receiver that accepts everything.
func outbound(t *testing.T, c *clients, missions ...string) {
	t.Helper()
	ctx := context.Background()
	db := database.NewDB(c.env.Pool(t, "passage_referral"))
	hook := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusNoContent) }))
	defer hook.Close()
	partner := uuid.New()
	for _, m := range missions {
		err := db.MissionTx(ctx, m, func(tx pgx.Tx) error {
			b := &pgx.Batch{}
			webhook.Queue(b, webhook.Delivery{Mission: m, Partner: partner, OrderingKey: uuid.New(), Event: webhook.Event{
				ID: uuid.NewString(), Source: "/passage/referral/" + m, Type: "org.iom.passage.referral.v1.sent", Data: json.RawMessage(`{}`)}})
			return tx.SendBatch(ctx, b).Close()
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	w := webhook.NewWorker(db, endpoint{url: hook.URL, secret: webhook.NewSecret()}, webhook.WorkerConfig{AllowNetworks: egress.Loopback()})
	if n, err := w.DeliverDue(ctx); err != nil || n != len(missions) {
		t.Fatalf("webhook deliveries: %d, %v", n, err)
	}
}
