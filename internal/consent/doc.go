// Package consent holds the consent rules every service shares: which consent records of a
// case are in force (the latest per person, purpose and partner, granting consent or stating
// a legal basis, not withdrawn), the FAILED_PRECONDITION a purpose without one gets, and how a
// programme service makes sure it has applied every consent change intake committed before
// it acts on a case.
//
// Which operation needs which purpose:
//   - CONSENT_PURPOSE_ASSISTANCE: registering or opening a case and making it ACTIVE (intake),
//     and every mutation of a programme's assistance: each step of a return (returns, AVRR),
//     each VoT record (trafficking), a HASM request, its approval, departure and arrival
//     (hasm), for the case's principal applicant. The principal signs for the household; a
//     member with an ASSISTANCE record of their own is bound by it (MemberAssistanceAllowed),
//     so an AVRR departure or reintegration assistance naming a member who refused or
//     withdrew is refused too. Closing (a return, a VoT case, a HASM request, an intake
//     case), suspending, rejecting and correcting data stay possible without it: they are how
//     a withdrawal is acted on. Reads are not gated: the record of what was done is kept.
//   - CONSENT_PURPOSE_STATISTICS: being counted in anonymised statistics. Every intake event
//     carries each person's in_statistics; analytics leaves out those for whom it is false.
//   - CONSENT_PURPOSE_DATA_SHARING: referrals to partners (a later service); recorded now.
package consent
