package catalog_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"testing"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/reflect/protoregistry"
	"google.golang.org/protobuf/types/dynamicpb"

	"github.com/passage-cm/passage/internal/auth"
	"github.com/passage-cm/passage/internal/testserver"
	"github.com/passage-cm/passage/services/catalog"

	// The contracts of every service, so that their descriptors are registered even for a
	// service the catalog forgot.
	_ "github.com/passage-cm/passage/proto/gen/passage/analytics/v1"
	_ "github.com/passage-cm/passage/proto/gen/passage/casenote/v1"
	_ "github.com/passage-cm/passage/proto/gen/passage/document/v1"
	_ "github.com/passage-cm/passage/proto/gen/passage/handover/v1"
	_ "github.com/passage-cm/passage/proto/gen/passage/hasm/v1"
	_ "github.com/passage-cm/passage/proto/gen/passage/intake/v1"
	_ "github.com/passage-cm/passage/proto/gen/passage/referral/v1"
	_ "github.com/passage-cm/passage/proto/gen/passage/returns/v1"
	_ "github.com/passage-cm/passage/proto/gen/passage/staff/v1"
	_ "github.com/passage-cm/passage/proto/gen/passage/trafficking/v1"
)

const (
	cw = auth.RoleCaseworker
	sv = auth.RoleSupervisor
	pm = auth.RoleProgrammeManager
	an = auth.RoleAnalyst
	pa = auth.RolePartner
	ad = auth.RoleAdmin
)

// want is who may call each RPC, written from issue 4's roles:
//   - caseworker and supervisor: their mission's cases (identity further limited in intake to
//     the cases they work on); supervisors alone assign cases, break glass, erase a person and reopen returns;
//     both list and close their mission's follow-ups; supervisors alone assign them and set the schedule;
//   - programme manager (HQ): HASM requests and decisions, and the funds; no case identity;
//   - analyst (HQ): aggregates only: every analytics RPC (anonymised counts, never a row about
//     a person), and no RPC of the case services, which all serve rows about a person;
//   - programme manager (HQ) reads the same statistics to set policy; administrators, who keep
//     keys, users and funds, do not, nor do field staff and partners;
//   - partner: what was referred to it (issue 6): its referrals, their data while live, its
//     feed, inbound referrals, its own registry entry and the data profiles; no case RPC;
//   - administrator: keys, users and funds, and the review of break-glass grants (who opened
//     which case when; never a case's content).
//
// A new RPC fails TestEveryRPCHasAPolicy until it is added here and to its service's Policy.
var want = map[string][]auth.Role{
	"/passage.intake.v1.IntakeService/RegisterCase":         {cw, sv},
	"/passage.intake.v1.IntakeService/GetCase":              {cw, sv},
	"/passage.intake.v1.IntakeService/ListCases":            {cw, sv},
	"/passage.intake.v1.IntakeService/UpdateCase":           {cw, sv},
	"/passage.intake.v1.IntakeService/CloseCase":            {cw, sv},
	"/passage.intake.v1.IntakeService/OpenCase":             {cw, sv},
	"/passage.intake.v1.IntakeService/AssignCase":           {sv},
	"/passage.intake.v1.IntakeService/UnassignCase":         {sv},
	"/passage.intake.v1.IntakeService/BreakGlass":           {sv},
	"/passage.intake.v1.IntakeService/ListBreakGlassGrants": {sv, ad},
	"/passage.intake.v1.IntakeService/ReviewBreakGlass":     {sv, ad},
	"/passage.intake.v1.IntakeService/ErasePerson":          {sv},
	"/passage.intake.v1.IntakeService/RecordConsent":        {cw, sv},
	"/passage.intake.v1.IntakeService/WithdrawConsent":      {cw, sv},
	"/passage.intake.v1.IntakeService/GetCaseHistory":       {cw, sv},

	// Case notes (issue 18): field staff; which notes of which case, intake's access rules and
	// the notes' sensitivity decide in the handlers.
	"/passage.casenote.v1.CaseNoteService/AddCaseNote":   {cw, sv},
	"/passage.casenote.v1.CaseNoteService/EditCaseNote":  {cw, sv},
	"/passage.casenote.v1.CaseNoteService/GetCaseNote":   {cw, sv},
	"/passage.casenote.v1.CaseNoteService/ListCaseNotes": {cw, sv},

	// Documents (issue 18): field staff; which documents of which case, intake's access rules
	// decide in the handlers.
	"/passage.document.v1.DocumentService/UploadDocument":   {cw, sv},
	"/passage.document.v1.DocumentService/DownloadDocument": {cw, sv},
	"/passage.document.v1.DocumentService/GetDocument":      {cw, sv},
	"/passage.document.v1.DocumentService/ListDocuments":    {cw, sv},

	// The person search, on intake's role: the field staff who meet the person.
	"/passage.search.v1.PersonSearchService/SearchPersons": {cw, sv},
	"/passage.search.v1.PersonSearchService/FindElsewhere": {sv},

	// The staff directory (issue 18), on intake's role: supervisors read their own mission's
	// team (checked in the handlers), administrators any mission's; administrators alone
	// provision, deactivate and reactivate staff.
	"/passage.staff.v1.StaffService/ListStaff":       {sv, ad},
	"/passage.staff.v1.StaffService/GetStaff":        {sv, ad},
	"/passage.staff.v1.StaffService/ProvisionStaff":  {ad},
	"/passage.staff.v1.StaffService/DeactivateStaff": {ad},
	"/passage.staff.v1.StaffService/ReactivateStaff": {ad},

	"/passage.returns.v1.ReturnService/GetReturn":              {cw, sv},
	"/passage.returns.v1.ReturnService/ListReturns":            {cw, sv},
	"/passage.returns.v1.ReturnService/RecordEligibility":      {cw, sv},
	"/passage.returns.v1.ReturnService/RecordPreDepartureStep": {cw, sv},
	"/passage.returns.v1.ReturnService/RecordDeparture":        {cw, sv},
	"/passage.returns.v1.ReturnService/RecordArrival":          {cw, sv},
	"/passage.returns.v1.ReturnService/SetReintegrationPlan":   {cw, sv},
	"/passage.returns.v1.ReturnService/RecordAssistance":       {cw, sv},
	"/passage.returns.v1.ReturnService/RecordMonitoringVisit":  {cw, sv},
	"/passage.returns.v1.ReturnService/CloseReturn":            {cw, sv},
	"/passage.returns.v1.ReturnService/ReopenReturn":           {sv},

	"/passage.trafficking.v1.TraffickingService/RecordScreening":                 {cw, sv},
	"/passage.trafficking.v1.TraffickingService/RecordExploitation":              {cw, sv},
	"/passage.trafficking.v1.TraffickingService/RecordAssistance":                {cw, sv},
	"/passage.trafficking.v1.TraffickingService/EndAssistance":                   {cw, sv},
	"/passage.trafficking.v1.TraffickingService/RecordLawEnforcementCooperation": {cw, sv},
	"/passage.trafficking.v1.TraffickingService/AssessRisk":                      {cw, sv},
	"/passage.trafficking.v1.TraffickingService/CloseVictimCase":                 {cw, sv},
	"/passage.trafficking.v1.TraffickingService/GetVictimCase":                   {cw, sv},
	"/passage.trafficking.v1.TraffickingService/ListVictimCases":                 {cw, sv},

	"/passage.hasm.v1.StrandedMigrantService/RequestAssistance": {cw, sv},
	"/passage.hasm.v1.StrandedMigrantService/GetRequest":        {cw, sv, pm},
	"/passage.hasm.v1.StrandedMigrantService/ListRequests":      {cw, sv, pm},
	"/passage.hasm.v1.StrandedMigrantService/DecideRequest":     {pm},
	"/passage.hasm.v1.StrandedMigrantService/RecordDeparture":   {cw, sv},
	"/passage.hasm.v1.StrandedMigrantService/RecordArrival":     {cw, sv},
	"/passage.hasm.v1.StrandedMigrantService/CloseRequest":      {cw, sv},
	"/passage.hasm.v1.StrandedMigrantService/CreateFund":        {pm, ad},
	"/passage.hasm.v1.StrandedMigrantService/SetFundBudget":     {pm, ad},
	"/passage.hasm.v1.StrandedMigrantService/GetFund":           {pm, ad},

	// Referrals (issue 6): HQ keeps the registry and the profiles (programme managers set
	// policy, administrators keep reference data); field staff refer their mission's cases and
	// answer inbound referrals (supervisors alone may override a missing consent, checked in
	// the handler); partners answer what was referred to them, read its data while the
	// referral is live, send inbound referrals and read their feed. Analysts: none, as
	// referrals are about a person.
	"/passage.referral.v1.ReferralService/RegisterPartner":       {pm, ad},
	"/passage.referral.v1.ReferralService/GetPartner":            {cw, sv, pm, ad, pa},
	"/passage.referral.v1.ReferralService/ListPartners":          {cw, sv, pm, ad},
	"/passage.referral.v1.ReferralService/UpdatePartner":         {pm, ad},
	"/passage.referral.v1.ReferralService/PublishDataProfile":    {pm, ad},
	"/passage.referral.v1.ReferralService/ListDataProfiles":      {cw, sv, pm, ad, pa},
	"/passage.referral.v1.ReferralService/CreateReferral":        {cw, sv},
	"/passage.referral.v1.ReferralService/SendReferral":          {cw, sv},
	"/passage.referral.v1.ReferralService/GetReferral":           {cw, sv, pa},
	"/passage.referral.v1.ReferralService/ListReferrals":         {cw, sv, pa},
	"/passage.referral.v1.ReferralService/RevokeReferral":        {cw, sv},
	"/passage.referral.v1.ReferralService/CreateInboundReferral": {pa},
	"/passage.referral.v1.ReferralService/AcceptReferral":        {cw, sv, pa},
	"/passage.referral.v1.ReferralService/DeclineReferral":       {cw, sv, pa},
	"/passage.referral.v1.ReferralService/CompleteReferral":      {cw, sv, pa},
	"/passage.referral.v1.ReferralService/LinkReferralCase":      {cw, sv},
	"/passage.referral.v1.ReferralService/GetReferralData":       {pa},
	"/passage.referral.v1.ReferralService/ListReferralEvents":    {pa},

	"/passage.followup.v1.FollowUpService/ListFollowUps":  {cw, sv},
	"/passage.followup.v1.FollowUpService/GetFollowUp":    {cw, sv},
	"/passage.followup.v1.FollowUpService/CloseFollowUp":  {cw, sv},
	"/passage.followup.v1.FollowUpService/AssignFollowUp": {sv},
	"/passage.followup.v1.FollowUpService/GetSchedule":    {cw, sv},
	"/passage.followup.v1.FollowUpService/SetSchedule":    {sv},

	// Hand-overs between missions (issue 17): field staff of the two missions propose, answer
	// and complete them (which side may make which move, the service's transition table
	// decides); HQ publishes the profiles of what a receiving mission may see, which staff
	// read. Analysts and partners: none, as a hand-over is about a person.
	"/passage.handover.v1.HandoverService/PublishHandoverProfile": {pm, ad},
	"/passage.handover.v1.HandoverService/ListHandoverProfiles":   {cw, sv, pm, ad},
	"/passage.handover.v1.HandoverService/ProposeHandover":        {cw, sv},
	"/passage.handover.v1.HandoverService/WithdrawHandover":       {cw, sv},
	"/passage.handover.v1.HandoverService/AcceptHandover":         {cw, sv},
	"/passage.handover.v1.HandoverService/DeclineHandover":        {cw, sv},
	"/passage.handover.v1.HandoverService/CompleteHandover":       {cw, sv},
	"/passage.handover.v1.HandoverService/GetHandover":            {cw, sv},
	"/passage.handover.v1.HandoverService/ListHandovers":          {cw, sv},

	"/passage.analytics.v1.AnalyticsService/Aggregate":           {pm, an},
	"/passage.analytics.v1.AnalyticsService/ListRegions":         {pm, an},
	"/passage.analytics.v1.AnalyticsService/ExportAggregate":     {pm, an},
	"/passage.analytics.v1.AnalyticsService/ExportVictimRecords": {pm, an},
	"/passage.analytics.v1.AnalyticsService/GetPrivacyBudget":    {pm, an},
}

// rpc is one method of a Passage service, from the generated descriptors.
type rpc struct {
	name string // full gRPC method name, "/pkg.Service/Method"
	desc protoreflect.MethodDescriptor
}

// passageRPCs returns every method of every registered service in a passage.* package,
// sorted by name.
func passageRPCs() []rpc {
	var out []rpc
	protoregistry.GlobalFiles.RangeFiles(func(f protoreflect.FileDescriptor) bool {
		if !strings.HasPrefix(string(f.Package()), "passage.") {
			return true
		}
		for i := range f.Services().Len() {
			s := f.Services().Get(i)
			for j := range s.Methods().Len() {
				m := s.Methods().Get(j)
				out = append(out, rpc{name: fmt.Sprintf("/%s/%s", s.FullName(), m.Name()), desc: m})
			}
		}
		return true
	})
	slices.SortFunc(out, func(a, b rpc) int { return strings.Compare(a.name, b.name) })
	return out
}

// policy is the union of the catalog's policies, as `passage serve` builds it.
func policy() auth.Policy {
	p := auth.Policy{}
	for _, s := range catalog.Services() {
		for m, roles := range s.Policy {
			p[m] = roles
		}
	}
	return p
}

func TestEveryRPCHasAPolicy(t *testing.T) {
	t.Parallel()
	rpcs := passageRPCs()
	if len(rpcs) < len(want) {
		t.Fatalf("found %d RPCs in the descriptors, fewer than the %d expected: are the contracts linked?", len(rpcs), len(want))
	}
	p := policy()
	seen := map[string]bool{}
	for _, r := range rpcs {
		seen[r.name] = true
		roles, listed := p[r.name]
		if !listed {
			t.Errorf("%s has no entry in its service's Policy: every RPC is denied to everyone until it has one", r.name)
			continue
		}
		expected, ok := want[r.name]
		if !ok {
			t.Errorf("%s is not in this test's table: decide who may call it, from the issue's roles", r.name)
			continue
		}
		if !sameRoles(roles, expected) {
			t.Errorf("%s: policy allows %v, want %v", r.name, roles, expected)
		}
	}
	for m := range p {
		if !seen[m] {
			t.Errorf("policy lists %s, which no contract defines", m)
		}
	}
	for m := range want {
		if !seen[m] {
			t.Errorf("this test's table lists %s, which no contract defines", m)
		}
	}
	// Every service with a contract runs in the catalog.
	// A spec may serve more than its own service (intake's serves the person search): the
	// services whose methods its policy lists.
	served := map[string]bool{}
	for _, s := range catalog.Services() {
		served[s.Name] = true
		for _, name := range s.Includes {
			served[name] = true
		}
	}
	for _, r := range rpcs {
		if svc := string(r.desc.Parent().FullName()); !served[svc] {
			t.Errorf("%s has a contract but is not in the catalog", svc)
		}
	}
}

func sameRoles(a, b []auth.Role) bool {
	a, b = slices.Clone(a), slices.Clone(b)
	slices.Sort(a)
	slices.Sort(b)
	return slices.Equal(a, b)
}

// missionOf is the mission a caller of role r carries in these tests.
func missionOf(r auth.Role) string {
	if r.IsHQ() {
		return auth.MissionHQ
	}
	return "NER"
}

// invoke calls r with in, one message (the first of a client stream), and reads its answer
// (the first message of a server stream) into out.
func invoke(ctx context.Context, conn *grpc.ClientConn, r rpc, in, out *dynamicpb.Message) error {
	if !r.desc.IsStreamingClient() && !r.desc.IsStreamingServer() {
		return conn.Invoke(ctx, r.name, in, out)
	}
	stream, err := conn.NewStream(ctx, &grpc.StreamDesc{ClientStreams: r.desc.IsStreamingClient(), ServerStreams: r.desc.IsStreamingServer()}, r.name)
	if err != nil {
		return err
	}
	if err := stream.SendMsg(in); err != nil && !errors.Is(err, io.EOF) {
		return err
	}
	if err := stream.CloseSend(); err != nil {
		return err
	}
	return stream.RecvMsg(out)
}

// TestEveryRoleAgainstEveryRPC calls every RPC of every service, through the real server and
// its interceptors, as every role, and checks the call is refused with PERMISSION_DENIED
// exactly when the role is not allowed. The request is empty: an allowed call goes on to
// validation or the handler, which is all this test needs to know.
func TestEveryRoleAgainstEveryRPC(t *testing.T) {
	t.Parallel()
	env := testserver.Start(t, testserver.Options{Services: catalog.Services()})
	tokens := map[auth.Role]context.Context{}
	for _, r := range auth.AllRoles() {
		tokens[r] = env.As(t, r, missionOf(r))
	}
	calls := 0
	for _, r := range passageRPCs() {
		for _, role := range auth.AllRoles() {
			in := dynamicpb.NewMessage(r.desc.Input())
			out := dynamicpb.NewMessage(r.desc.Output())
			err := invoke(tokens[role], env.Conn, r, in, out)
			calls++
			st := status.Convert(err)
			// The interceptor's refusal, as opposed to a handler's rule on the request.
			denied := st.Code() == codes.PermissionDenied && strings.Contains(st.Message(), "may not call")
			if allowed := slices.Contains(want[r.name], role); denied == allowed {
				t.Errorf("%s as %s: %v, %s", r.name, role, st.Code(), map[bool]string{true: "want allowed", false: "want PERMISSION_DENIED"}[allowed])
			}
		}
	}
	if calls != len(passageRPCs())*len(auth.AllRoles()) || calls == 0 {
		t.Errorf("made %d calls", calls)
	}
}
