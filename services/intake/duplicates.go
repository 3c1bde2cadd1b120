package intake

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"slices"

	"github.com/google/uuid"

	"github.com/passage-cm/passage/internal/auth"
	"github.com/passage-cm/passage/internal/idempotency"
	"github.com/passage-cm/passage/internal/vault"
	intakev1 "github.com/passage-cm/passage/proto/gen/passage/intake/v1"
)

// Suspected duplicates, and who sees what of them.
//
// The duplicate search is a membership test: whoever registers a case learns whether the
// mission already knows someone with the same document, or the same name, date of birth and
// nationality. That much is the search's purpose, and every caller is told. Which case
// matched is another matter: its id leads to its coded record (programme, vulnerabilities),
// which for a victim of trafficking says what the person went through, and a caseworker can
// make a case hold nothing but a passport number they want to look up. So a match names the
// existing case and person only to staff who work on that case (its creator and those a
// supervisor assigned, the rule that opens identity: access.go) and to the mission's
// supervisors, who merge and link duplicates and may assign the case or break glass anyway.
// Anyone else gets one redacted entry per person of their new case: a match exists, on these
// bases, ask a supervisor. However many of the mission's cases matched that person, the
// entry is one, so their number does not show either.
//
// Every registration's audit record carries the outcome of its search (duplicateCheck.reason):
// how many existing cases matched and how many of those were withheld from the caller, counts
// only, so that an auditor can see a caseworker probing the mission's register. A probe that
// finds nothing is a membership test too, and is recorded as "matched=0".
//
// The first result of a registration, redaction included, is what a retry with its request id
// gets back, and only its own caller may retry it (callerKey): another staff member sending
// the same request is refused rather than handed a list disclosed to someone else.

// askRole is whom a caller is told to ask about a redacted match: the supervisors of the
// mission, never a named person.
const askRole = auth.RoleSupervisor

// seesMatch reports whether who may see the existing case of m in full.
func seesMatch(who auth.Claims, m match) bool {
	return who.Role == auth.RoleSupervisor || m.createdBy == who.Subject || slices.Contains(m.assigned, who.Subject)
}

// duplicateCheck is the outcome of one registration's duplicate search, as its caller sees it.
type duplicateCheck struct {
	found []*intakev1.SuspectedDuplicate
	// matched counts the existing cases any person of the new case matched; withheld, those
	// of them the caller does not see.
	matched, withheld int
}

// checkDuplicates turns blind-index hits into what who may see of them: one full
// SuspectedDuplicate per existing case the caller sees and pair of people (existing, new),
// with every basis they matched on (a person in two cases, through OpenCase, is named in
// both), and after them one redacted entry per new person for all the cases the caller does
// not see (after, so that where it falls among the full entries, which come in the order of
// their case ids, says nothing of the withheld ids). subjects[i] is the new case's i-th
// person and indexes[i] their blind indexes.
func checkDuplicates(who auth.Claims, subjects []uuid.UUID, indexes [][]vault.BlindIndex, matches []match) duplicateCheck {
	var out duplicateCheck
	full := map[[3]uuid.UUID]*intakev1.SuspectedDuplicate{}
	redacted := make([]*intakev1.SuspectedDuplicate, len(subjects)) // by new person
	// Each matched case: whether the caller sees it.
	shown := map[uuid.UUID]bool{}
	for i, ixs := range indexes {
		for _, ix := range ixs {
			for _, m := range matches {
				if !bytes.Equal(m.digest, ix.Digest) {
					continue
				}
				visible := seesMatch(who, m)
				shown[m.caseID] = visible
				var d *intakev1.SuspectedDuplicate
				if visible {
					k := [3]uuid.UUID{m.caseID, m.subjectID, subjects[i]}
					if d = full[k]; d == nil {
						d = &intakev1.SuspectedDuplicate{CaseId: m.caseID.String(), SubjectId: m.subjectID.String(),
							MatchedSubjectId: subjects[i].String(), Disclosure: intakev1.DuplicateDisclosure_DUPLICATE_DISCLOSURE_FULL}
						full[k] = d
						out.found = append(out.found, d)
					}
				} else if d = redacted[i]; d == nil {
					d = &intakev1.SuspectedDuplicate{MatchedSubjectId: subjects[i].String(),
						Disclosure: intakev1.DuplicateDisclosure_DUPLICATE_DISCLOSURE_REDACTED, AskRole: string(askRole)}
					redacted[i] = d
				}
				if basis := matchBasis(ix.Kind); !slices.Contains(d.MatchedOn, basis) {
					d.MatchedOn = append(d.MatchedOn, basis)
				}
			}
		}
	}
	for _, d := range redacted {
		if d != nil {
			out.found = append(out.found, d)
		}
	}
	for _, visible := range shown {
		out.matched++
		if !visible {
			out.withheld++
		}
	}
	return out
}

// reason is the check's outcome as the registration's audit record carries it: counts and a
// fixed code, never an id of the cases matched.
func (c duplicateCheck) reason() string {
	return fmt.Sprintf("DUPLICATE_CHECK matched=%d withheld=%d", c.matched, c.withheld)
}

func matchBasis(k vault.Kind) intakev1.MatchBasis {
	if k == vault.KindDocument {
		return intakev1.MatchBasis_MATCH_BASIS_DOCUMENT
	}
	return intakev1.MatchBasis_MATCH_BASIS_NAME_DATE_OF_BIRTH_NATIONALITY
}

// callerKey binds a registration's idempotency key to its caller: the fingerprint covers who
// sent the request (staff subject and role) as well as what it says, so that another staff
// member of the mission sending the same request id and body is refused as a reused request
// id instead of being handed the first caller's result, whose suspected duplicates were
// disclosed for the first caller.
func callerKey(f idempotency.Fingerprinter, k idempotency.Key, who auth.Claims) idempotency.Key {
	var b []byte
	for _, s := range []string{string(k.Fingerprint), who.Subject, string(who.Role)} {
		b = binary.BigEndian.AppendUint32(b, uint32(len(s)))
		b = append(b, s...)
	}
	k.Fingerprint = f.Fingerprint(k.Method+"#caller", b)
	return k
}
