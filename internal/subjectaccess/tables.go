package subjectaccess

// A table is one table read into the record, every row that is about the person's cases in
// one mission, each row whole as to_jsonb gives it (columns named as in the migrations) but
// for the columns in omit: sealed text, digests and secrets, which say nothing readable.
type table struct {
	// source is the service whose database role reads the table: the one that keeps it.
	source Source
	// name is the table, schema-qualified, as the record names it.
	name string
	// where selects the rows, over p.cases (the person's case ids), p.subject (their subject
	// id) and p.mission (the mission declared). Tables without a mission column of their own
	// are held to the mission by their row-level security policy, through their parent.
	where string
	// order sorts the rows, so that two exports of the same data are alike.
	order string
	omit  []string
}

// byCase is the filter of a table of a mission's rows about the person's cases.
const byCase = `t.case_id = ANY(p.cases) AND t.mission = p.mission`

// bySubject narrows byCase to the rows about the person, or about the whole case.
const bySubject = byCase + ` AND (t.subject_id IS NULL OR t.subject_id = p.subject)`

// personConsents are the person's consents (and the case's own) on their cases.
const personConsents = `SELECT c.consent_id FROM intake.consent c WHERE c.case_id = ANY(p.cases) AND c.mission = p.mission
  AND (c.subject_id IS NULL OR c.subject_id = p.subject)`

// referrals are the referrals of the person, or of their cases, made by the mission.
const referrals = `SELECT r.referral_id FROM referral.referral r WHERE r.mission = p.mission
  AND (r.case_id = ANY(p.cases) OR r.subject_id = p.subject)`

// tables is what the record holds of each mission, in the order it is read. Notes, documents,
// the identity and the case history are read apart (notes.go, documents.go, export.go).
var tables = []table{
	{source: Intake, name: "intake.case", where: byCase, order: "t.registration_date, t.case_id"},
	{source: Intake, name: "intake.case_member", where: byCase + ` AND t.subject_id = p.subject`, order: "t.case_id"},
	{source: Intake, name: "intake.consent", where: bySubject, order: "t.recorded_at, t.consent_id"},
	{source: Intake, name: "intake.consent_withdrawal", where: `t.mission = p.mission AND t.consent_id IN (` + personConsents + `)`,
		order: "t.recorded_at, t.consent_id"},
	{source: Intake, name: "intake.case_assignment", where: byCase, order: "t.assigned_at, t.staff_id"},
	// The grant's reason is kept as a digest only (a reason can name people): nothing to read.
	{source: Intake, name: "intake.break_glass_grant", where: byCase, order: "t.created_at, t.grant_id", omit: []string{"reason_digest"}},
	{source: Intake, name: "intake.case_share", where: byCase, order: "t.accepted_at, t.handover_id"},
	{source: Intake, name: "vault.erasure", where: `t.subject_id = p.subject AND t.mission = p.mission`, order: "t.erased_at"},

	{source: Returns, name: "returns.case", where: byCase, order: "t.case_id"},
	{source: Returns, name: "returns.case_member", where: `t.case_id = ANY(p.cases) AND t.subject_id = p.subject`, order: "t.case_id"},
	{source: Returns, name: "returns.return", where: byCase, order: "t.case_id"},
	{source: Returns, name: "returns.status_change", where: byCase, order: "t.case_id, t.version"},
	{source: Returns, name: "returns.eligibility_decision", where: byCase, order: "t.case_id, t.version"},
	{source: Returns, name: "returns.pre_departure_step", where: bySubject, order: "t.case_id, t.version"},
	{source: Returns, name: "returns.departure", where: byCase, order: "t.case_id, t.version"},
	{source: Returns, name: "returns.arrival", where: byCase, order: "t.case_id, t.version"},
	{source: Returns, name: "returns.reintegration_plan", where: byCase, order: "t.case_id, t.version"},
	{source: Returns, name: "returns.assistance", where: bySubject, order: "t.case_id, t.version, t.assistance_id"},
	{source: Returns, name: "returns.monitoring_visit", where: byCase, order: "t.case_id, t.version, t.visit_id"},
	{source: Returns, name: "returns.part", where: byCase, order: "t.accepted_at, t.handover_id"},

	{source: Trafficking, name: "trafficking.victim_case", where: byCase, order: "t.case_id"},
	{source: Trafficking, name: "trafficking.assistance", where: byCase, order: "t.case_id, t.recorded_at, t.assistance_id"},
	{source: Trafficking, name: "trafficking.part", where: byCase, order: "t.accepted_at, t.handover_id"},

	{source: HASM, name: "hasm.case", where: byCase, order: "t.case_id"},
	{source: HASM, name: "hasm.case_member", where: `t.case_id = ANY(p.cases) AND t.subject_id = p.subject`, order: "t.case_id"},
	{source: HASM, name: "hasm.request", where: byCase, order: "t.case_id"},
	{source: HASM, name: "hasm.part", where: byCase, order: "t.accepted_at, t.handover_id"},

	{source: FollowUp, name: "followup.follow_up", where: byCase, order: "t.due_on, t.follow_up_id"},
	{source: FollowUp, name: "followup.case_assignee", where: byCase, order: "t.case_id, t.staff_subject"},
	{source: FollowUp, name: "followup.part", where: byCase, order: "t.accepted_at, t.handover_id"},

	// Hand-overs are read once, in the mission that sent them (the receiver sees the same row);
	// what was shared is the hand-over profile's fields, by version.
	{source: Handover, name: "handover.handover", where: `t.case_id = ANY(p.cases) AND t.from_mission = p.mission`,
		order: "t.created_at, t.handover_id"},
	{source: Handover, name: "handover.part", where: `t.case_id = ANY(p.cases) AND t.from_mission = p.mission`,
		order: "t.handover_id, t.part"},
	{source: Handover, name: "handover.profile", where: `(t.programme, t.version) IN (SELECT h.programme, h.profile_version FROM handover.handover h
  WHERE h.case_id = ANY(p.cases) AND h.from_mission = p.mission)`, order: "t.programme, t.version"},

	{source: Referral, name: "referral.referral", where: `t.referral_id IN (` + referrals + `)`, order: "t.created_at, t.referral_id"},
	{source: Referral, name: "referral.transition", where: `t.referral_id IN (` + referrals + `)`, order: "t.referral_id, t.version, t.transition_id"},
	{source: Referral, name: "referral.partner_event", where: `t.referral_id IN (` + referrals + `)`, order: "t.seq"},
	// The agencies referred to, named; their connection details and secrets are theirs.
	{source: Referral, name: "referral.partner", where: `t.partner_id IN (SELECT r.partner_id FROM referral.referral r WHERE r.referral_id IN (` + referrals + `))`,
		order: "t.partner_id", omit: []string{"signing_secret", "signing_secret_kek", "webhook_url", "services", "connection_kind"}},
	// What a referral shares with the partner: the data profile's fields, by version.
	{source: Referral, name: "referral.data_profile", where: `(t.service_category, t.version) IN (SELECT r.service_category, r.profile_version
  FROM referral.referral r WHERE r.referral_id IN (` + referrals + `))`, order: "t.service_category, t.version"},
}
