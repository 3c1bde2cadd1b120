package trafficking

import (
	"context"
	"fmt"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/passage-cm/passage/internal/database"
	"github.com/passage-cm/passage/internal/enumcode"
	"github.com/passage-cm/passage/internal/handoverpart"
	handoverv1 "github.com/passage-cm/passage/proto/gen/passage/handover/v1"
	traffickingv1 "github.com/passage-cm/passage/proto/gen/passage/trafficking/v1"
)

// partTable holds the grants of parts of victim cases (internal/handoverpart's columns).
const partTable = "trafficking.part"

const (
	continuingAssistance = handoverv1.HandoverPart_HANDOVER_PART_CONTINUING_ASSISTANCE
	transfer             = handoverv1.HandoverPart_HANDOVER_PART_TRANSFER
)

// partOf says which part of a victim case a step belongs to, and whether it belongs to one.
//
// CONTINUING_ASSISTANCE is the victim's support after return, by the mission of origin:
// recording assistance and closing the case once it is over. Identification and what comes
// before return (screening, the exploitation details, law-enforcement cooperation where the
// victim was exploited, the risk assessment before return) stay with the identifying mission:
// no part of the programme but the whole case (TRANSFER) moves them, and a step not listed here
// is one of them. Ending an assistance record belongs to no part: each mission that works the
// case ends the records it made, the only ones it sees.
func partOf(req mutatingRequest) (handoverv1.HandoverPart, bool) {
	switch req.(type) {
	case *traffickingv1.RecordAssistanceRequest, *traffickingv1.CloseVictimCaseRequest:
		return continuingAssistance, true
	case *traffickingv1.EndAssistanceRequest:
		return handoverv1.HandoverPart_HANDOVER_PART_UNSPECIFIED, false
	}
	return transfer, true
}

// checkPart refuses mission a step of part p of case c unless it holds the part now: the
// receiving mission of the newest grant of p (or of the whole case), else the case's own
// mission (handoverpart.Check). q is declared for mission, so it sees the grants that mission sent or received.
func checkPart(ctx context.Context, q database.Querier, c *traffickingv1.VictimCase, mission string, p handoverv1.HandoverPart) error {
	holder, err := handoverpart.Holder(ctx, q, partTable, uuid.MustParse(c.GetCaseId()), p)
	if err != nil {
		return err
	}
	return handoverpart.Check(p, c.GetMission(), holder, mission)
}

// programmeParts are the parts of a victim case a hand-over may give, in the order a case
// lists them.
var programmeParts = []handoverv1.HandoverPart{continuingAssistance, transfer}

// loadParts fills in the parts of cases that accepted hand-overs gave to another mission, as
// the grants visible to q say, in one query for all of them: each part's holder is the
// receiving mission of the newest grant of it or of the whole case (handoverpart.Holder's
// rule).
func loadParts(ctx context.Context, q database.Querier, cases []*traffickingv1.VictimCase) error {
	if len(cases) == 0 {
		return nil
	}
	byID := make(map[string]*traffickingv1.VictimCase, len(cases))
	ids := make([]uuid.UUID, len(cases))
	for i, c := range cases {
		ids[i] = uuid.MustParse(c.CaseId)
		byID[c.CaseId] = c
	}
	// Oldest grant first, so that a newer one overrides it (between grants accepted at the
	// same time, the lower hand-over id stands, as in handoverpart.Holder).
	rows, err := q.Query(ctx, `SELECT case_id::text, mission, parts FROM `+partTable+`
WHERE case_id = ANY($1) ORDER BY case_id, accepted_at, handover_id DESC`, ids)
	if err != nil {
		return fmt.Errorf("read parts: %w", err)
	}
	holders := map[string]map[handoverv1.HandoverPart]string{}
	var caseID, mission string
	var parts []string
	_, err = pgx.ForEachRow(rows, []any{&caseID, &mission, &parts}, func() error {
		g := handoverpart.Grant{To: mission, Parts: enumcode.Values[handoverv1.HandoverPart](parts)}
		for _, p := range programmeParts {
			if g.Holds(p) {
				if holders[caseID] == nil {
					holders[caseID] = map[handoverv1.HandoverPart]string{}
				}
				holders[caseID][p] = g.To
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("read parts: %w", err)
	}
	for id, h := range holders {
		for _, p := range programmeParts {
			if m, ok := h[p]; ok {
				byID[id].Parts = append(byID[id].Parts, &traffickingv1.CasePart{Part: p, Mission: m})
			}
		}
	}
	return nil
}
