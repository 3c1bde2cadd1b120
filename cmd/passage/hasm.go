package main

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"

	"google.golang.org/grpc"
	"google.golang.org/protobuf/proto"

	"github.com/passage-cm/passage/internal/enumcode"
	hasmv1 "github.com/passage-cm/passage/proto/gen/passage/hasm/v1"
)

const hasmUsage = `usage: passage hasm <command> [arguments]

commands (caseworkers of the mission):
  request CASE_ID --stranded R --no-other R --cost N --currency C --fund CODE --year Y
  get CASE_ID
  list [--mission M] [--status S] [--all]
  depart CASE_ID --version N --date D --to COUNTRY [--traveller SUBJECT_ID]...
  arrive CASE_ID --version N --date D
  close CASE_ID --version N --reason R
commands (programme managers at HQ):
  decide CASE_ID --version N (--approve | --reject REASON)
  fund create --code C --year Y --currency CUR --budget N
  fund set-budget --code C --year Y --version N --budget N
  fund get --code C --year Y

Amounts are in minor units of the currency (cents for USD). Every command takes --addr
(PASSAGE_ADDR), --token (PASSAGE_TOKEN), --insecure, --json and --timeout.
`

// runHASM runs `passage hasm <command>`: the client of the StrandedMigrantService.
func runHASM(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	return newClient(stdout, stderr).hasmRun(ctx, args)
}

var (
	hasmStatuses   = newEnumNames(hasmv1.RequestStatus_value)
	strandedNames  = newEnumNames(hasmv1.StrandedReason_value)
	noOtherNames   = newEnumNames(hasmv1.NoOtherAssistanceReason_value)
	rejectionNames = newEnumNames(hasmv1.RejectionReason_value)
	hasmClosures   = newEnumNames(hasmv1.ClosureReason_value)
)

// hasmRun dispatches the group's commands. Every group dispatches alike (runGroup), from a
// table of its own commands.
func (c *client) hasmRun(ctx context.Context, args []string) error {
	return runGroup(ctx, "hasm", hasmUsage, args, c.stdout, c.stderr, commands{
		"request": c.hasmRequest,
		"get":     c.hasmGet,
		"list":    c.hasmList,
		"decide":  c.hasmDecide,
		"depart":  c.hasmDepart,
		"arrive":  c.hasmArrive,
		"close":   c.hasmClose,
		"fund":    c.hasmFund,
	})
}

// mutation fills in a request id, announces it and makes the call.
func hasmMutation[Req interface {
	proto.Message
	GetRequestId() string
}, Resp proto.Message](ctx context.Context, c *client, o *clientOptions, method string, req Req, setID func(string),
	rpc func(hasmv1.StrandedMigrantServiceClient, context.Context, Req, ...grpc.CallOption) (Resp, error), human func(io.Writer, Resp) error,
) error {
	return mutationOn(ctx, &c.cli, o, c.hasm, method, req, setID, rpc, human)
}

// hasmUnary connects, makes one call and prints its response: as JSON with --json, else with
// human. requestID is the call's idempotency key, empty for reads.
func hasmUnary[Req any, Resp proto.Message](ctx context.Context, c *client, o *clientOptions, method, requestID string,
	rpc func(hasmv1.StrandedMigrantServiceClient, context.Context, Req, ...grpc.CallOption) (Resp, error),
	req Req, human func(io.Writer, Resp) error,
) error {
	return unaryOn(ctx, &c.cli, o, c.hasm, method, requestID, rpc, req, human)
}

func requestOf[R interface {
	GetRequest() *hasmv1.AssistanceRequest
}](w io.Writer, resp R) error {
	return formatAssistance(w, resp.GetRequest())
}

func fundOf[R interface{ GetFund() *hasmv1.Fund }](w io.Writer, resp R) error {
	return formatFund(w, resp.GetFund())
}

// Commands.

func (c *client) hasmRequest(ctx context.Context, args []string) error {
	req := &hasmv1.RequestAssistanceRequest{}
	fs, o := c.groupFlagSet("hasm", "request", "request CASE_ID --stranded R --no-other R --cost N --currency C --fund CODE --year Y", &req.RequestId)
	stranded := fs.String("stranded", "", "why the migrant is stranded, `REASON`: "+strandedNames.list())
	noOther := fs.String("no-other", "", "why no other assistance is available, `REASON`: "+noOtherNames.list())
	fs.Int64Var(&req.EstimatedCost, "cost", 0, "estimated cost in minor units of the currency (`CENTS`)")
	currency := fs.String("currency", "", "ISO 4217 `CODE` of the cost, the fund's currency")
	fund := fs.String("fund", "", "`CODE` of the fund to charge")
	year := fs.Int("year", 0, "`YEAR` of the fund (default: this year)")
	pos, _, err := c.groupParse("hasm", fs, o, args, 1, "request takes one CASE_ID")
	if err != nil {
		return err
	}
	req.CaseId = pos[0]
	if req.StrandedReason, err = parseEnum[hasmv1.StrandedReason](strandedNames, *stranded); err != nil {
		return fmt.Errorf("--stranded %w", err)
	}
	if req.NoOtherAssistanceReason, err = parseEnum[hasmv1.NoOtherAssistanceReason](noOtherNames, *noOther); err != nil {
		return fmt.Errorf("--no-other %w", err)
	}
	if req.EstimatedCost <= 0 {
		return errors.New("--cost is required: the estimated cost in minor units")
	}
	req.Currency = countryCode(*currency) // upper-cased like a country code
	req.FundCode = strings.ToUpper(strings.TrimSpace(*fund))
	req.FundYear = int32(cmp.Or(*year, c.now().Year()))
	return hasmMutation(ctx, c, o, "RequestAssistance", req, func(id string) { req.RequestId = id },
		hasmv1.StrandedMigrantServiceClient.RequestAssistance, requestOf)
}

func (c *client) hasmGet(ctx context.Context, args []string) error {
	fs, o := c.groupFlagSet("hasm", "get", "get CASE_ID [--mission M]", nil)
	mission := fs.String("mission", "", "the `MISSION` whose request to read (default: the token's; at HQ: the case's own)")
	pos, _, err := c.groupParse("hasm", fs, o, args, 1, "get takes one CASE_ID")
	if err != nil {
		return err
	}
	return hasmUnary(ctx, c, o, "GetRequest", "", hasmv1.StrandedMigrantServiceClient.GetRequest,
		&hasmv1.GetRequestRequest{CaseId: pos[0], Mission: strings.ToUpper(strings.TrimSpace(*mission))}, requestOf)
}

func (c *client) hasmList(ctx context.Context, args []string) error {
	fs, o := c.groupFlagSet("hasm", "list", "list [--mission M] [--status S] [--all]", nil)
	mission := fs.String("mission", "", "`MISSION` to list (default: the token's; at HQ: every mission)")
	st := fs.String("status", "", "only this `STATUS`: "+hasmStatuses.list())
	pageToken := fs.String("page-token", "", "continue from a previous page's `TOKEN`")
	all := fs.Bool("all", false, "follow the pages to the last one")
	if _, _, err := c.groupParse("hasm", fs, o, args, 0, "list takes no arguments besides flags"); err != nil {
		return err
	}
	req := &hasmv1.ListRequestsRequest{Mission: strings.ToUpper(strings.TrimSpace(*mission)), PageToken: *pageToken}
	if *all {
		req.PageSize = 100
	}
	if *st != "" {
		var err error
		if req.Status, err = parseEnum[hasmv1.RequestStatus](hasmStatuses, *st); err != nil {
			return fmt.Errorf("--status %w", err)
		}
	}
	return printPages(ctx, o, c.stdout, c.stderr, c.failed, c.hasm, "ListRequests", "requests", *all,
		hasmv1.StrandedMigrantServiceClient.ListRequests, req, func(t string) { req.PageToken = t },
		func(r *hasmv1.ListRequestsResponse) ([]*hasmv1.AssistanceRequest, string) {
			return r.GetRequests(), r.GetNextPageToken()
		},
		func(rs []*hasmv1.AssistanceRequest) proto.Message { return &hasmv1.ListRequestsResponse{Requests: rs} },
		func(w io.Writer, rs []*hasmv1.AssistanceRequest) error { formatAssistanceList(w, rs); return nil })
}

func (c *client) hasmDecide(ctx context.Context, args []string) error {
	req := &hasmv1.DecideRequestRequest{}
	fs, o := c.groupFlagSet("hasm", "decide", "decide CASE_ID --version N (--approve | --reject REASON) [--mission M]", &req.RequestId)
	fs.Int64Var(&req.Version, "version", 0, "the request version you read (passage hasm get); required")
	mission := fs.String("mission", "", "the `MISSION` whose request to decide (default: the case's own)")
	approve := fs.Bool("approve", false, "approve: commit the estimated cost on the request's fund")
	reject := fs.String("reject", "", "reject for `REASON`: "+rejectionNames.list())
	pos, given, err := c.groupParse("hasm", fs, o, args, 1, "decide takes one CASE_ID")
	if err != nil {
		return err
	}
	req.CaseId, req.Mission = pos[0], strings.ToUpper(strings.TrimSpace(*mission))
	if req.Version <= 0 {
		return errors.New("--version is required: the version you read (passage hasm get)")
	}
	switch {
	case *approve == given["reject"]:
		return errors.New("give either --approve or --reject REASON")
	case *approve:
		req.Decision = hasmv1.Decision_DECISION_APPROVE
	default:
		req.Decision = hasmv1.Decision_DECISION_REJECT
		if req.RejectionReason, err = parseEnum[hasmv1.RejectionReason](rejectionNames, *reject); err != nil {
			return fmt.Errorf("--reject %w", err)
		}
	}
	return hasmMutation(ctx, c, o, "DecideRequest", req, func(id string) { req.RequestId = id },
		hasmv1.StrandedMigrantServiceClient.DecideRequest, func(w io.Writer, resp *hasmv1.DecideRequestResponse) error {
			if err := formatAssistance(w, resp.GetRequest()); err != nil {
				return err
			}
			fmt.Fprintln(w)
			return formatFund(w, resp.GetFund())
		})
}

func (c *client) hasmDepart(ctx context.Context, args []string) error {
	req := &hasmv1.RecordDepartureRequest{}
	fs, o := c.groupFlagSet("hasm", "depart", "depart CASE_ID --version N --date D --to COUNTRY [--traveller SUBJECT_ID]...", &req.RequestId)
	fs.Int64Var(&req.Version, "version", 0, "the request version you read (passage hasm get); required")
	day := fs.String("date", "", "departure `DATE` YYYY-MM-DD")
	to := fs.String("to", "", "return country, ISO 3166-1 alpha-3 `CODE`")
	var travellers stringList
	fs.Var(&travellers, "traveller", "`SUBJECT_ID` of a person travelling, repeatable, the principal included (default: everyone in the case)")
	pos, _, err := c.groupParse("hasm", fs, o, args, 1, "depart takes one CASE_ID")
	if err != nil {
		return err
	}
	req.CaseId, req.ReturnCountry = pos[0], countryCode(*to)
	if req.Version <= 0 {
		return errors.New("--version is required: the version you read (passage hasm get)")
	}
	if req.DepartureDate, err = parseFullDate(*day); err != nil {
		return fmt.Errorf("--date: %w", err)
	}
	for _, s := range travellers {
		req.TravellingSubjectIds = append(req.TravellingSubjectIds, strings.TrimSpace(s))
	}
	return hasmMutation(ctx, c, o, "RecordDeparture", req, func(id string) { req.RequestId = id },
		hasmv1.StrandedMigrantServiceClient.RecordDeparture, requestOf)
}

func (c *client) hasmArrive(ctx context.Context, args []string) error {
	req := &hasmv1.RecordArrivalRequest{}
	fs, o := c.groupFlagSet("hasm", "arrive", "arrive CASE_ID --version N --date D", &req.RequestId)
	fs.Int64Var(&req.Version, "version", 0, "the request version you read (passage hasm get); required")
	day := fs.String("date", "", "arrival `DATE` YYYY-MM-DD")
	pos, _, err := c.groupParse("hasm", fs, o, args, 1, "arrive takes one CASE_ID")
	if err != nil {
		return err
	}
	req.CaseId = pos[0]
	if req.Version <= 0 {
		return errors.New("--version is required: the version you read (passage hasm get)")
	}
	if req.ArrivalDate, err = parseFullDate(*day); err != nil {
		return fmt.Errorf("--date: %w", err)
	}
	return hasmMutation(ctx, c, o, "RecordArrival", req, func(id string) { req.RequestId = id },
		hasmv1.StrandedMigrantServiceClient.RecordArrival, requestOf)
}

func (c *client) hasmClose(ctx context.Context, args []string) error {
	req := &hasmv1.CloseRequestRequest{}
	fs, o := c.groupFlagSet("hasm", "close", "close CASE_ID --version N --reason R", &req.RequestId)
	fs.Int64Var(&req.Version, "version", 0, "the request version you read (passage hasm get); required")
	reason := fs.String("reason", "", "closure `REASON`: "+hasmClosures.list())
	pos, _, err := c.groupParse("hasm", fs, o, args, 1, "close takes one CASE_ID")
	if err != nil {
		return err
	}
	req.CaseId = pos[0]
	if req.Version <= 0 {
		return errors.New("--version is required: the version you read (passage hasm get)")
	}
	if req.Reason, err = parseEnum[hasmv1.ClosureReason](hasmClosures, *reason); err != nil {
		return fmt.Errorf("--reason %w", err)
	}
	return hasmMutation(ctx, c, o, "CloseRequest", req, func(id string) { req.RequestId = id },
		hasmv1.StrandedMigrantServiceClient.CloseRequest, requestOf)
}

func (c *client) hasmFund(ctx context.Context, args []string) error {
	if len(args) == 0 {
		fmt.Fprint(c.stderr, hasmUsage)
		return errUsage
	}
	if isHelp(args[0]) {
		fmt.Fprint(c.stdout, hasmUsage)
		return nil
	}
	var requestID string
	fs, o := c.groupFlagSet("hasm", "fund "+args[0], "fund create|set-budget|get --code C --year Y [flags]", &requestID)
	code := fs.String("code", "", "fund `CODE`, e.g. HASM-GLOBAL")
	year := fs.Int("year", 0, "fund `YEAR` (default: this year)")
	currency := fs.String("currency", "", "ISO 4217 `CODE` (create)")
	budget := fs.Int64("budget", -1, "budget in minor units of the currency, `CENTS` (create, set-budget)")
	version := fs.Int64("version", 0, "the fund version you read (set-budget)")
	if _, _, err := c.groupParse("hasm", fs, o, args[1:], 0, "fund "+args[0]+" takes no arguments besides flags"); err != nil {
		return err
	}
	fundCode, fundYear := strings.ToUpper(strings.TrimSpace(*code)), int32(cmp.Or(*year, c.now().Year()))
	switch args[0] {
	case "create":
		if *budget < 0 {
			return errors.New("--budget is required")
		}
		req := &hasmv1.CreateFundRequest{RequestId: requestID, Code: fundCode, Year: fundYear, Currency: countryCode(*currency), Budget: *budget}
		return hasmMutation(ctx, c, o, "CreateFund", req, func(id string) { req.RequestId = id },
			hasmv1.StrandedMigrantServiceClient.CreateFund, fundOf)
	case "set-budget":
		if *budget < 0 || *version <= 0 {
			return errors.New("--budget and --version are required")
		}
		req := &hasmv1.SetFundBudgetRequest{RequestId: requestID, Code: fundCode, Year: fundYear, Version: *version, Budget: *budget}
		return hasmMutation(ctx, c, o, "SetFundBudget", req, func(id string) { req.RequestId = id },
			hasmv1.StrandedMigrantServiceClient.SetFundBudget, fundOf)
	case "get":
		return hasmUnary(ctx, c, o, "GetFund", "", hasmv1.StrandedMigrantServiceClient.GetFund,
			&hasmv1.GetFundRequest{Code: fundCode, Year: fundYear}, fundOf)
	}
	return fmt.Errorf("unknown hasm fund command %q: want create, set-budget or get", args[0])
}

// Output.

// formatAmount prints minor units with the currency: "850.00 USD" (two decimals, as most
// currencies have).
func formatAmount(minor int64, currency string) string {
	return fmt.Sprintf("%d.%02d %s", minor/100, minor%100, currency)
}

// formatAssistance prints a request as aligned keys and values.
func formatAssistance(w io.Writer, r *hasmv1.AssistanceRequest) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintf(tw, "case\t%s\n", r.GetCaseId())
	fmt.Fprintf(tw, "status\t%s   version %d\n", enumcode.Code(r.GetStatus()), r.GetVersion())
	fmt.Fprintf(tw, "mission\t%s   host %s   principal %s\n", r.GetMission(), r.GetHostCountry(), r.GetSubjectId())
	fmt.Fprintf(tw, "stranded\t%s\n", enumName(r.GetStrandedReason()))
	fmt.Fprintf(tw, "no other help\t%s\n", enumName(r.GetNoOtherAssistanceReason()))
	fmt.Fprintf(tw, "cost\t%s   fund %s/%d\n", formatAmount(r.GetEstimatedCost(), r.GetCurrency()), r.GetFundCode(), r.GetFundYear())
	switch {
	case r.GetApprovedAmount() != 0:
		fmt.Fprintf(tw, "approved\t%s by %s\n", formatAmount(r.GetApprovedAmount(), r.GetCurrency()), r.GetDecidedBy())
	case r.GetRejectionReason() != hasmv1.RejectionReason_REJECTION_REASON_UNSPECIFIED:
		fmt.Fprintf(tw, "rejected\t%s by %s\n", enumName(r.GetRejectionReason()), r.GetDecidedBy())
	}
	if r.GetDepartureDate() != nil {
		fmt.Fprintf(tw, "departed\t%s to %s, %d travelling\n", formatDate(r.GetDepartureDate()), r.GetReturnCountry(), len(r.GetTravellingSubjectIds()))
	}
	if r.GetArrivalDate() != nil {
		fmt.Fprintf(tw, "arrived\t%s\n", formatDate(r.GetArrivalDate()))
	}
	if r.GetClosureReason() != hasmv1.ClosureReason_CLOSURE_REASON_UNSPECIFIED {
		fmt.Fprintf(tw, "closed\t%s\n", enumName(r.GetClosureReason()))
	}
	return tw.Flush()
}

const hasmRowFormat = "%-36s  %-9s  %-7s  %-4s  %16s  %-16s  %7s\n"

// formatAssistanceList prints one request a line.
func formatAssistanceList(w io.Writer, rs []*hasmv1.AssistanceRequest) {
	fmt.Fprintf(w, hasmRowFormat, "CASE", "STATUS", "MISSION", "HOST", "COST", "FUND", "VERSION")
	for _, r := range rs {
		fmt.Fprintf(w, hasmRowFormat, r.GetCaseId(), enumcode.Code(r.GetStatus()), r.GetMission(), r.GetHostCountry(),
			formatAmount(r.GetEstimatedCost(), r.GetCurrency()), fmt.Sprintf("%s/%d", r.GetFundCode(), r.GetFundYear()), fmt.Sprint(r.GetVersion()))
	}
}

// formatFund prints a fund's balance.
func formatFund(w io.Writer, f *hasmv1.Fund) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintf(tw, "fund\t%s/%d   version %d\n", f.GetCode(), f.GetYear(), f.GetVersion())
	fmt.Fprintf(tw, "budget\t%s\n", formatAmount(f.GetBudget(), f.GetCurrency()))
	fmt.Fprintf(tw, "committed\t%s\n", formatAmount(f.GetCommitted(), f.GetCurrency()))
	fmt.Fprintf(tw, "remaining\t%s\n", formatAmount(f.GetRemaining(), f.GetCurrency()))
	return tw.Flush()
}
