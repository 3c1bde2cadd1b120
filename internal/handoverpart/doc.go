// Package handoverpart reads the hand-over service's acceptances for the services whose case a
// receiving mission then works in part (returns, trafficking, HASM, follow-up): which parts of
// which case an accepted hand-over gives to which mission (Grant, Of), writing a drain's grants
// into a service's own table of them (Project), which mission holds a part of a case now
// (Holder), and whether a mission may take a step of that part (Check).
//
// Check is the one decision every such service makes before a step of a part: the part's
// holder takes it, and the case's own mission while no grant gives the part away. Any other
// mission is refused with a Refusal, which each service reports with Refusal.Status in its
// own error domain, alike everywhere: FAILED_PRECONDITION, ErrorInfo reason PART_HANDED_OVER
// for the case's own mission (it handed the part over) or PART_NOT_HELD for another holder of
// the case, metadata {part, mission: the holder's}, codes only. A mission with no part of a
// case never gets that far: the case is not found for it.
//
// Each such service keeps the grants in a table of its own schema with these columns
// (migrations/000025 to 000029 create them):
//
//	handover_id  uuid PRIMARY KEY
//	case_id      uuid NOT NULL
//	mission      text NOT NULL  -- the receiving mission, which holds the parts
//	from_mission text NOT NULL  -- the sending mission
//	programme    text NOT NULL  -- the programme's code, e.g. "AVRR"
//	parts        text[] NOT NULL -- the parts' codes, e.g. {RECEPTION,MONITORING}
//	accepted_at  timestamptz NOT NULL
//
// A grant's row is written under the receiving mission's declaration and is visible to both
// missions (the sender must know it no longer holds a part), to no third one. A case without
// a grant is worked whole by the mission that registered it, as before hand-overs existed.
package handoverpart
