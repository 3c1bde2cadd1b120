// Package hasm is the Humanitarian Assistance for Stranded Migrants service
// (passage.hasm.v1.StrandedMigrantService): a mission requests a stranded migrant's return,
// programme managers at HQ approve or reject it against a fund whose yearly budget can never
// be overdrawn, even by concurrent approvals, and the approved return is recorded with the
// same departure event as AVRR. It learns of HASM cases from intake's outbox events.
//
// A case's part can be handed over to another mission (services/handover): a stranded migrant
// assisted in Libya is received in Niger. The same consumer that reads intake's events reads
// the hand-over service's HandoverAccepted and keeps the grants of HASM cases in hasm.part
// (internal/handoverpart; part.go). HASM's part is RECEPTION, the assistance on arrival at
// origin; TRANSFER moves the whole case, when the person moves on before return.
//
// A request belongs to the mission that made it: a case has at most one request per mission
// (hasm.request is keyed by case and mission), the case's own mission's (its return from the
// host country) and the receiving mission's (the reception). Field staff always work their own
// mission's request; HQ names the mission of the request it reads or decides (empty: the case's
// own). Each step belongs to a part (stepPart, tested):
//
//   - RECEPTION: a new request (RequestAssistance) once the part is handed over, and the
//     departure, arrival (the disbursement and its confirmation) and closure of a request the
//     receiving mission made. The holder takes them (handoverpart.Check); the case's own
//     mission is refused FAILED_PRECONDITION, reason PART_HANDED_OVER, metadata part and
//     mission (codes only); a third mission finds no case (NOT_FOUND).
//   - A request the case's own mission made stays its own, and so do its steps, unless the
//     whole case is transferred (TRANSFER).
//   - HQ's decisions and funds belong to no part: HQ decides every mission's request, and a
//     request's amount is charged to its fund as before, under the mission that made it.
//
// Row-level security holds it underneath (migration 000027): a grant is visible to its two
// missions only; a mission holding a part reads the projected case and its coded people; a
// request is made only for a case the mission works, and no mission reads another's requests
// (amounts, funds and coded reasons are the details of the mission that made them). A
// receiving mission's first request after the acceptance waits for the consumer to catch up
// before it finds no case. A case without a grant is worked whole by its own mission, as before.
package hasm
