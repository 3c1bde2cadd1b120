package projector

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"google.golang.org/protobuf/proto"

	"github.com/passage-cm/passage/internal/database"
	"github.com/passage-cm/passage/internal/enumcode"
	"github.com/passage-cm/passage/internal/handoverpart"
	"github.com/passage-cm/passage/internal/intakecase"
	"github.com/passage-cm/passage/internal/outbox"
	commonv1 "github.com/passage-cm/passage/proto/gen/passage/common/v1"
	handoverv1 "github.com/passage-cm/passage/proto/gen/passage/handover/v1"
	hasmv1 "github.com/passage-cm/passage/proto/gen/passage/hasm/v1"
	intakev1 "github.com/passage-cm/passage/proto/gen/passage/intake/v1"
	referralv1 "github.com/passage-cm/passage/proto/gen/passage/referral/v1"
	returnsv1 "github.com/passage-cm/passage/proto/gen/passage/returns/v1"
	traffickingv1 "github.com/passage-cm/passage/proto/gen/passage/trafficking/v1"
)

// Role is the database role the projector connects with.
const Role = "passage_analytics_projector"

// Name is the projector's consumer name (its cursor row).
const Name = "analytics"

// The measures, as stored.
const (
	CasesRegistered      = "CASES_REGISTERED"
	PersonsReturned      = "PERSONS_RETURNED"
	PersonsAssisted      = "PERSONS_ASSISTED"
	VictimsIdentified    = "VICTIMS_IDENTIFIED"
	HASMRequestsApproved = "HASM_REQUESTS_APPROVED"
	HASMRequestsRejected = "HASM_REQUESTS_REJECTED"
	Referrals            = "REFERRALS"
)

// unknown is a value that was not recorded.
const unknown = "UNKNOWN"

func name(m proto.Message) string { return string(proto.MessageName(m)) }

// Events are every event type the projector applies.
var Events = append([]string{
	name(&commonv1.DepartureRecorded{}),
	name(&returnsv1.AssistanceDelivered{}),
	name(&traffickingv1.VictimScreened{}),
	name(&traffickingv1.ExploitationRecorded{}),
	name(&traffickingv1.AssistanceProvided{}),
	name(&hasmv1.RequestDecided{}),
	name(&referralv1.ReferralChanged{}),
}, slices.Concat(intakecase.Events, handoverpart.Events)...)

// parts is the projector's table of accepted hand-overs (internal/handoverpart's columns):
// which missions hold parts of another mission's case.
const parts = "analytics_state.part"

// New returns the projector's consumer over pool, connected as Role. It keeps one partition
// (outbox.ConsumerConfig.Partitions): a referral's events, filed under the referral, read its
// case's state, which partitions would let them read before the case's own events are
// applied; and every event adds to a few shared rollup rows, whose row locks, held until each
// drain commits, would make partitions applied at once wait on each other.
func New(pool *pgxpool.Pool) *outbox.Consumer {
	return outbox.NewConsumer(pool, outbox.ConsumerConfig{
		Name:        Name,
		CursorTable: "analytics_state.outbox_cursor",
		Types:       Events,
		Handle:      Apply,
		HandleBatch: ApplyBatch,
	})
}

// Apply applies one event, under the event's mission.
func Apply(ctx context.Context, tx pgx.Tx, r outbox.Record) error {
	m, err := r.Decode()
	if err != nil {
		return err
	}
	p := &projection{ctx: ctx, base: tx, event: r.ID}
	// Declared with the first statement, in its round trip.
	p.declare(r.Mission)
	switch e := m.(type) {
	case *intakev1.CaseRegistered, *intakev1.CaseUpdated, *intakev1.CaseClosed, *intakev1.ConsentRecorded, *intakev1.ConsentWithdrawn:
		err = p.caseEvent(intakecase.Of(e))
	case *handoverv1.HandoverAccepted:
		err = handoverpart.Project(ctx, tx, []outbox.Record{r}, parts, commonv1.Programme_PROGRAMME_AVRR,
			commonv1.Programme_PROGRAMME_VOT, commonv1.Programme_PROGRAMME_HASM)
	case *commonv1.DepartureRecorded:
		err = p.departure(e)
	case *returnsv1.AssistanceDelivered:
		a := e.GetAssistance()
		err = p.assisted(e.GetCaseId(), a.GetSubjectId(), "AVRR_"+enumcode.Code(a.GetType()),
			int(a.GetDeliveryDate().GetYear()), e.GetReturnCountry())
	case *traffickingv1.AssistanceProvided:
		a := e.GetAssistance()
		err = p.assisted(e.GetVictimCase().GetCaseId(), "", "VOT_"+enumcode.Code(a.GetType()),
			int(a.GetStartDate().GetYear()), "")
	case *traffickingv1.VictimScreened:
		err = p.screened(e)
	case *traffickingv1.ExploitationRecorded:
		err = p.exploitation(e.GetVictimCase().GetCaseId(), e.GetExploitation())
	case *hasmv1.RequestDecided:
		err = p.decided(e)
	case *referralv1.ReferralChanged:
		err = p.referral(e)
	}
	if err != nil {
		return fmt.Errorf("analytics projector: event %d (%s): %w", r.ID, r.Type, err)
	}
	return nil
}

// projection applies one event. Its statements run under one mission's declaration: the
// event's, or the case's own when the event's mission holds parts of another mission's case
// (ownCase).
type projection struct {
	ctx context.Context
	// base is the consumer's transaction, tx the same declared for mission.
	base    pgx.Tx
	tx      pgx.Tx
	mission string
	event   int64
}

// declare declares the projection for mission from its next statement on.
func (p *projection) declare(mission string) {
	if p.tx == nil || p.mission != mission {
		p.tx, p.mission = database.WithMission(p.base, mission), mission
	}
}

// ownCase runs read, a read of a case's state, under the declared mission; should it find
// nothing (pgx.ErrNoRows) because the case is another mission's, of which the declared mission
// holds parts (an accepted hand-over's receiving mission records the steps of its parts under
// its own mission), it declares the case's own mission and runs read once more. The case's
// people, and what counted them once already, are the state of the mission that registered
// the case: an event of the receiving mission counts them there, by the same rules and at
// most once, as an event of the case's own mission does. A mission that holds no part of the
// case does not see it (migrations/000030's part_holder_reads), and its event counts nobody.
func (p *projection) ownCase(caseID string, read func() error) error {
	err := read()
	if !errors.Is(err, pgx.ErrNoRows) {
		return err
	}
	var mission string
	switch herr := p.tx.QueryRow(p.ctx, `SELECT mission FROM analytics_state."case" WHERE case_id = $1`, caseID).Scan(&mission); {
	case errors.Is(herr, pgx.ErrNoRows):
		return err
	case herr != nil:
		return fmt.Errorf("case: %w", herr)
	case mission == p.mission:
		return err
	}
	p.declare(mission)
	return read()
}

// fact is one person (or request, or referral) counted, de-identified.
type fact struct {
	measure, programme, sex, ageBand, nationality, host, ret, assistance string
	year                                                                 int
	vulnerabilities, exploitation, means                                 []string
	// status, partnerType and direction describe a referral; "" for every other measure.
	status, partnerType, direction string
}

// count appends f as the event's ordinal-th fact and adds one to its rollup row. It returns
// the fact's id, or 0 when the event's fact was recorded already.
func (p *projection) count(ordinal int, f fact) (int64, error) {
	var id int64
	err := p.tx.QueryRow(p.ctx, `INSERT INTO analytics.fact (event_id, ordinal, measure, year, programme, sex,
age_band, nationality, host_country, return_country, vulnerabilities, assistance_type, exploitation_types, means_of_control,
referral_status, partner_type, referral_direction)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17)
ON CONFLICT (event_id, measure, ordinal) DO NOTHING RETURNING fact_id`,
		p.event, ordinal, f.measure, f.year, f.programme, f.sex, f.ageBand, orUnknown(f.nationality),
		orUnknown(f.host), f.ret, set(f.vulnerabilities), f.assistance, set(f.exploitation), set(f.means),
		f.status, f.partnerType, f.direction).Scan(&id)
	if errors.Is(err, pgx.ErrNoRows) {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("fact: %w", err)
	}
	return id, p.add(f, 1)
}

// add adds delta to f's rollup row; a negative delta moves a count away from a row that has
// it, so the row exists.
func (p *projection) add(f fact, delta int64) error {
	args := []any{f.measure, f.year, f.programme, f.sex, f.ageBand, orUnknown(f.nationality), orUnknown(f.host),
		f.ret, set(f.vulnerabilities), f.assistance, set(f.exploitation), f.status, f.partnerType, f.direction, delta}
	sql := `INSERT INTO analytics.rollup (measure, year, programme, sex, age_band, nationality, host_country,
return_country, vulnerabilities, assistance_type, exploitation_types, referral_status, partner_type,
referral_direction, persons)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)
ON CONFLICT (measure, year, programme, sex, age_band, nationality, host_country, return_country,
vulnerabilities, assistance_type, exploitation_types, referral_status, partner_type, referral_direction)
DO UPDATE SET persons = analytics.rollup.persons + EXCLUDED.persons, tx_id = pg_current_xact_id()`
	if delta < 0 {
		sql = `UPDATE analytics.rollup SET persons = persons + $15, tx_id = pg_current_xact_id()
WHERE measure = $1 AND year = $2 AND programme = $3 AND sex = $4 AND age_band = $5 AND nationality = $6
AND host_country = $7 AND return_country = $8 AND vulnerabilities = $9 AND assistance_type = $10
AND exploitation_types = $11 AND referral_status = $12 AND partner_type = $13 AND referral_direction = $14`
	}
	if _, err := p.tx.Exec(p.ctx, sql, args...); err != nil {
		return fmt.Errorf("rollup: %w", err)
	}
	return nil
}

// caseEvent keeps the case and its people, as the latest intake event says, and counts the
// registration once the principal is in statistics.
func (p *projection) caseEvent(c *intakev1.Case) error {
	var applied, counted bool
	err := p.tx.QueryRow(p.ctx, `INSERT INTO analytics_state."case" (case_id, mission, programme, intake_version,
host_country, vulnerabilities, registration_year)
VALUES ($1, $2, $3, $4, $5, $6, $7)
ON CONFLICT (case_id) DO UPDATE SET intake_version = EXCLUDED.intake_version, host_country = EXCLUDED.host_country,
vulnerabilities = EXCLUDED.vulnerabilities
WHERE analytics_state."case".intake_version < EXCLUDED.intake_version
RETURNING true, registration_counted`,
		c.GetCaseId(), c.GetMission(), programme(c.GetProgramme()), c.GetVersion(), c.GetHostCountry(),
		vulnerabilities(c.GetVulnerabilities()), c.GetRegistrationDate().GetYear()).Scan(&applied, &counted)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil // an older event than the one applied
	}
	if err != nil {
		return fmt.Errorf("case: %w", err)
	}
	members := append([]*intakev1.CaseMember{c.GetPrincipal()}, c.GetHouseholdMembers()...)
	b := &pgx.Batch{}
	for i, m := range members {
		b.Queue(`INSERT INTO analytics_state.member (case_id, mission, position, subject_id, sex, age_band, nationality, in_statistics)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
ON CONFLICT (case_id, subject_id) DO UPDATE SET position = EXCLUDED.position, sex = EXCLUDED.sex,
age_band = EXCLUDED.age_band, nationality = EXCLUDED.nationality, in_statistics = EXCLUDED.in_statistics`,
			c.GetCaseId(), c.GetMission(), i, m.GetSubjectId(), sex(m.GetSex()), ageBand(m.GetAgeBand()),
			orUnknown(m.GetNationality()), m.GetInStatistics())
	}
	pr := c.GetPrincipal()
	count := !counted && pr.GetInStatistics()
	if count {
		// In the members' round trip: the registration is counted below, in this transaction.
		b.Queue(`UPDATE analytics_state."case" SET registration_counted = true WHERE case_id = $1`, c.GetCaseId())
	}
	if err := p.tx.SendBatch(p.ctx, b).Close(); err != nil {
		return fmt.Errorf("case members: %w", err)
	}
	if !count {
		return nil
	}
	_, err = p.count(0, fact{
		measure: CasesRegistered, year: int(c.GetRegistrationDate().GetYear()), programme: programme(c.GetProgramme()),
		sex: sex(pr.GetSex()), ageBand: ageBand(pr.GetAgeBand()), nationality: pr.GetNationality(),
		host: c.GetHostCountry(), vulnerabilities: vulnerabilities(c.GetVulnerabilities()),
	})
	return err
}

// member is a person of a case as the state holds them.
type member struct {
	sex, ageBand, nationality string
	inStatistics              bool
	host                      string
	vulnerabilities           []string
	programme                 string
}

// person reads a case's person (the principal when subject is empty), under the case's own
// mission when the event's holds parts of it (ownCase, which then leaves the projection
// declared for the case's mission); ok is false when the case or person is not known, which
// counts nobody.
func (p *projection) person(caseID, subject string) (member, bool, error) {
	var m member
	where, args := whose(caseID, subject)
	err := p.ownCase(caseID, func() error {
		return p.tx.QueryRow(p.ctx, `SELECT m.sex, m.age_band, m.nationality, m.in_statistics, c.host_country,
c.vulnerabilities, c.programme
FROM analytics_state.member m JOIN analytics_state."case" c ON c.case_id = m.case_id
WHERE `+where, args...).Scan(&m.sex, &m.ageBand, &m.nationality, &m.inStatistics, &m.host,
			&m.vulnerabilities, &m.programme)
	})
	if errors.Is(err, pgx.ErrNoRows) {
		return m, false, nil
	}
	if err != nil {
		return m, false, fmt.Errorf("person: %w", err)
	}
	return m, true, nil
}

// whose is the condition on analytics_state.member m, and its arguments, that picks a case's
// person: the principal when subject is empty.
func whose(caseID, subject string) (string, []any) {
	if subject == "" {
		return `m.case_id = $1 AND m.position = 0`, []any{caseID}
	}
	return `m.case_id = $1 AND m.subject_id = $2::uuid`, []any{caseID, subject}
}

// departure counts each traveller in statistics as returned, AVRR and HASM alike, at the
// first departure of the case that names them: one person, one journey, counted once. A case
// may record two departures (in HASM, the host mission's request and, after a hand-over of
// RECEPTION, the receiving mission's); the later one counts nobody it names again. Whether a
// departure named a person is kept with the person (analytics_state.member.departed, in the
// case's own mission's state, which person leaves the projection declared for), as assisted
// keeps who was counted for an assistance type and year. A traveller not in statistics at
// their first departure is not counted at a later one either.
func (p *projection) departure(e *commonv1.DepartureRecorded) error {
	year := int(e.GetDepartureDate().GetYear())
	for i, t := range e.GetTravellers() {
		m, ok, err := p.person(e.GetCaseId(), t.GetSubjectId())
		if err != nil {
			return err
		}
		if !ok {
			continue
		}
		first, err := p.departed(e.GetCaseId(), t.GetSubjectId())
		if err != nil {
			return err
		}
		if !first || !m.inStatistics {
			continue
		}
		if _, err := p.count(i, fact{
			measure: PersonsReturned, year: year, programme: programme(e.GetProgramme()),
			sex: sex(t.GetSex()), ageBand: ageBand(t.GetAgeBand()), nationality: t.GetNationality(),
			host: e.GetHostCountry(), ret: orUnknown(e.GetReturnCountry()),
			vulnerabilities: vulnerabilities(e.GetVulnerabilities()),
		}); err != nil {
			return err
		}
	}
	return nil
}

// departed records that a departure of the case named the person (the principal when subject
// is empty); first is false when one had already.
func (p *projection) departed(caseID, subject string) (first bool, err error) {
	where, args := whose(caseID, subject)
	tag, err := p.tx.Exec(p.ctx, `UPDATE analytics_state.member m SET departed = true WHERE NOT m.departed AND `+where, args...)
	if err != nil {
		return false, fmt.Errorf("departed: %w", err)
	}
	return tag.RowsAffected() > 0, nil
}

// assisted counts a person once per assistance type and year.
func (p *projection) assisted(caseID, subject, assistanceType string, year int, ret string) error {
	m, ok, err := p.person(caseID, subject)
	if err != nil || !ok || !m.inStatistics {
		return err
	}
	tag, err := p.tx.Exec(p.ctx, `INSERT INTO analytics_state.assisted (subject_id, mission, assistance_type, year)
SELECT m.subject_id, m.mission, $3, $4 FROM analytics_state.member m
WHERE m.case_id = $1 AND (m.subject_id::text = $2 OR ($2 = '' AND m.position = 0))
ON CONFLICT DO NOTHING`, caseID, subject, assistanceType, year)
	if err != nil {
		return fmt.Errorf("assisted: %w", err)
	}
	if tag.RowsAffected() == 0 {
		return nil // counted for this type and year already
	}
	if ret != "" {
		ret = orUnknown(ret)
	}
	_, err = p.count(0, fact{
		measure: PersonsAssisted, year: year, programme: m.programme, sex: m.sex, ageBand: m.ageBand,
		nationality: m.nationality, host: m.host, ret: ret, vulnerabilities: m.vulnerabilities,
		assistance: assistanceType,
	})
	return err
}

// screened counts a victim identified, once, and keeps their de-identified record.
func (p *projection) screened(e *traffickingv1.VictimScreened) error {
	if e.GetIdentification().GetStatus() != traffickingv1.IdentificationStatus_IDENTIFICATION_STATUS_IDENTIFIED_VICTIM {
		return nil
	}
	vc := e.GetVictimCase()
	m, ok, err := p.person(vc.GetCaseId(), "")
	if err != nil || !ok || !m.inStatistics {
		return err
	}
	var known bool
	if err := p.tx.QueryRow(p.ctx, `SELECT EXISTS (SELECT FROM analytics_state.victim WHERE case_id = $1)`,
		vc.GetCaseId()).Scan(&known); err != nil {
		return fmt.Errorf("victim: %w", err)
	}
	if known {
		return nil
	}
	ex := vc.GetExploitation()
	f := fact{
		measure: VictimsIdentified, year: int(e.GetIdentification().GetDate().GetYear()), programme: m.programme,
		sex: m.sex, ageBand: m.ageBand, nationality: m.nationality, host: m.host,
		vulnerabilities: m.vulnerabilities, exploitation: exploitationTypes(ex), means: meansOfControl(ex),
	}
	factID, err := p.count(0, f)
	if err != nil || factID == 0 {
		return err
	}
	var recordID int64
	if err := p.tx.QueryRow(p.ctx, `INSERT INTO analytics.victim_record (year, gender, age_broad, citizenship,
exploitation_types, means_of_control, country_of_exploitation)
VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING record_id`,
		vc.GetRegistrationDate().GetYear(), m.sex, m.ageBand, orUnknown(m.nationality), set(f.exploitation),
		set(f.means), countryOfExploitation(ex)).Scan(&recordID); err != nil {
		return fmt.Errorf("victim record: %w", err)
	}
	if _, err := p.tx.Exec(p.ctx, `INSERT INTO analytics_state.victim (case_id, mission, record_id, fact_id)
SELECT $1, mission, $2, $3 FROM analytics_state."case" WHERE case_id = $1`, vc.GetCaseId(), recordID, factID); err != nil {
		return fmt.Errorf("victim: %w", err)
	}
	return nil
}

// exploitation brings an identified victim's record and count up to the details recorded:
// the count moves from the old exploitation set to the new one.
func (p *projection) exploitation(caseID string, ex *traffickingv1.Exploitation) error {
	var recordID, factID int64
	err := p.ownCase(caseID, func() error {
		return p.tx.QueryRow(p.ctx, `SELECT record_id, fact_id FROM analytics_state.victim WHERE case_id = $1`, caseID).
			Scan(&recordID, &factID)
	})
	if errors.Is(err, pgx.ErrNoRows) {
		return nil // not an identified victim counted in statistics (yet)
	}
	if err != nil {
		return fmt.Errorf("victim: %w", err)
	}
	f, err := p.readFact(factID)
	if err != nil {
		return fmt.Errorf("victim %w", err)
	}
	types, means := exploitationTypes(ex), meansOfControl(ex)
	if slices.Equal(types, f.exploitation) && slices.Equal(means, f.means) {
		return nil
	}
	if err := p.add(f, -1); err != nil {
		return err
	}
	f.exploitation, f.means = types, means
	if err := p.add(f, 1); err != nil {
		return err
	}
	if _, err := p.tx.Exec(p.ctx, `UPDATE analytics.fact SET exploitation_types = $2, means_of_control = $3
WHERE fact_id = $1`, factID, set(types), set(means)); err != nil {
		return fmt.Errorf("victim fact: %w", err)
	}
	if _, err := p.tx.Exec(p.ctx, `UPDATE analytics.victim_record SET exploitation_types = $2, means_of_control = $3,
country_of_exploitation = $4 WHERE record_id = $1`, recordID, set(types), set(means), countryOfExploitation(ex)); err != nil {
		return fmt.Errorf("victim record: %w", err)
	}
	return nil
}

// readFact reads a fact back, to move its count.
func (p *projection) readFact(id int64) (fact, error) {
	var f fact
	if err := p.tx.QueryRow(p.ctx, `SELECT measure, year, programme, sex, age_band, nationality, host_country,
return_country, vulnerabilities, assistance_type, exploitation_types, means_of_control, referral_status, partner_type,
referral_direction
FROM analytics.fact WHERE fact_id = $1`, id).Scan(&f.measure, &f.year, &f.programme, &f.sex, &f.ageBand,
		&f.nationality, &f.host, &f.ret, &f.vulnerabilities, &f.assistance, &f.exploitation, &f.means, &f.status,
		&f.partnerType, &f.direction); err != nil {
		return f, fmt.Errorf("fact: %w", err)
	}
	return f, nil
}

// decided counts a HASM request approved or rejected, described by its principal.
func (p *projection) decided(e *hasmv1.RequestDecided) error {
	measure := HASMRequestsApproved
	switch e.GetDecision() {
	case hasmv1.Decision_DECISION_APPROVE:
	case hasmv1.Decision_DECISION_REJECT:
		measure = HASMRequestsRejected
	default:
		return nil
	}
	req := e.GetRequest()
	m, ok, err := p.person(req.GetCaseId(), "")
	if err != nil || !ok || !m.inStatistics {
		return err
	}
	_, err = p.count(0, fact{
		measure: measure, year: req.GetDecideTime().AsTime().UTC().Year(), programme: m.programme,
		sex: m.sex, ageBand: m.ageBand, nationality: m.nationality, host: orUnknown(req.GetHostCountry()),
		vulnerabilities: m.vulnerabilities,
	})
	return err
}

// referral counts a referral once, under its current status. The first change applied while
// it may be counted appends its fact (described by the case's principal for an outbound
// referral, by nobody for an inbound one) and adds one under its status; every later change
// moves that one from the status the fact holds to the new status. The state's version makes
// a change applied twice or out of order (an event redelivered, the cursor rewound) move
// nothing: only a version above the last one applied counts.
//
// Consent, as for every measure: an outbound referral counts only while its principal's
// statistics consent is in force. Not yet counted, it is counted from the first change
// applied while it is; counted already and the consent withdrawn, it stays counted under the
// status it had, and later changes do not move it (nothing recorded after a withdrawal counts
// the person). An inbound referral names no case and no person in Passage (the partner knows
// who they are, Passage holds nothing of them), so there is no one whose consent applies and
// nothing personal to count: it is counted with every person dimension UNKNOWN.
func (p *projection) referral(e *referralv1.ReferralChanged) error {
	r := e.GetReferral()
	var factID *int64
	err := p.tx.QueryRow(p.ctx, `INSERT INTO analytics_state.referral (referral_id, mission, version)
VALUES ($1, $2, $3)
ON CONFLICT (referral_id) DO UPDATE SET version = EXCLUDED.version
WHERE analytics_state.referral.version < EXCLUDED.version
RETURNING fact_id`, r.GetReferralId(), r.GetMission(), r.GetVersion()).Scan(&factID)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil // this change or a later one was applied already
	}
	if err != nil {
		return fmt.Errorf("referral: %w", err)
	}
	status := enumcode.Code(r.GetStatus())
	f := fact{
		measure: Referrals, year: r.GetCreateTime().AsTime().UTC().Year(), programme: unknown, sex: unknown,
		ageBand: unknown, vulnerabilities: []string{unknown}, status: status,
		partnerType: partnerType(cmp.Or(e.GetPartnerCategory(), r.GetPartnerCategory())), direction: enumcode.Code(r.GetDirection()),
	}
	if r.GetDirection() != referralv1.Direction_DIRECTION_INBOUND {
		mission := p.mission
		m, ok, err := p.person(r.GetCaseId(), r.GetSubjectId())
		if err != nil || !ok || !m.inStatistics {
			return err // not counted now; if counted before, it stays where it was
		}
		f.programme, f.sex, f.ageBand, f.nationality, f.host, f.vulnerabilities =
			m.programme, m.sex, m.ageBand, m.nationality, m.host, m.vulnerabilities
		// The referral's own state is its mission's, which may hold parts of the case
		// person read under the case's mission.
		p.declare(mission)
	}
	if factID == nil {
		id, err := p.count(0, f)
		if err != nil || id == 0 {
			return err
		}
		if _, err := p.tx.Exec(p.ctx, `UPDATE analytics_state.referral SET fact_id = $2 WHERE referral_id = $1`,
			r.GetReferralId(), id); err != nil {
			return fmt.Errorf("referral: %w", err)
		}
		return nil
	}
	counted, err := p.readFact(*factID)
	if err != nil {
		return fmt.Errorf("referral %w", err)
	}
	if counted.status == status {
		return nil
	}
	if err := p.add(counted, -1); err != nil {
		return err
	}
	counted.status = status
	if err := p.add(counted, 1); err != nil {
		return err
	}
	if _, err := p.tx.Exec(p.ctx, `UPDATE analytics.fact SET referral_status = $2 WHERE fact_id = $1`,
		*factID, status); err != nil {
		return fmt.Errorf("referral fact: %w", err)
	}
	return nil
}

// partnerType is a partner's category as stored; UNKNOWN when the event does not say.
func partnerType(c commonv1.PartnerCategory) string {
	if c == commonv1.PartnerCategory_PARTNER_CATEGORY_UNSPECIFIED {
		return unknown
	}
	return enumcode.Code(c)
}

func programme(p commonv1.Programme) string { return enumcode.Code(p) }
func sex(s commonv1.Sex) string {
	if s == commonv1.Sex_SEX_UNSPECIFIED {
		return unknown
	}
	return enumcode.Code(s)
}
func ageBand(a commonv1.AgeBand) string {
	if a == commonv1.AgeBand_AGE_BAND_UNSPECIFIED {
		return unknown
	}
	return enumcode.Code(a)
}

func vulnerabilities(vs []commonv1.Vulnerability) []string {
	return sorted(enumcode.Codes(vs))
}

func exploitationTypes(ex *traffickingv1.Exploitation) []string {
	return sorted(enumcode.Codes(ex.GetTypes()))
}

func meansOfControl(ex *traffickingv1.Exploitation) []string {
	return sorted(enumcode.Codes(ex.GetMeansOfControl()))
}

// countryOfExploitation is the first country recorded, as the CTDC keeps one.
func countryOfExploitation(ex *traffickingv1.Exploitation) string {
	if cs := ex.GetCountriesOfExploitation(); len(cs) > 0 {
		return cs[0]
	}
	return unknown
}

// sorted returns a sorted, duplicate-free copy: the canonical form of a set.
func sorted(s []string) []string {
	out := slices.Clone(s)
	slices.Sort(out)
	return slices.Compact(out)
}

// set is a set as stored: never NULL.
func set(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

func orUnknown(s string) string {
	if strings.TrimSpace(s) == "" {
		return unknown
	}
	return s
}
