package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"text/tabwriter"

	"google.golang.org/grpc"
	"google.golang.org/protobuf/proto"

	"github.com/passage-cm/passage/internal/enumcode"
	commonv1 "github.com/passage-cm/passage/proto/gen/passage/common/v1"
	followupv1 "github.com/passage-cm/passage/proto/gen/passage/followup/v1"
)

const followupUsage = `usage: passage followup <command> [arguments]

commands (caseworkers and supervisors of the mission):
  list [--scope S] [--staff SUBJECT] [--state S] [--programme P] [--case ID] [--due-before D] [--all]
                                                 follow-ups, soonest due first (default: your open ones)
  get FOLLOW_UP_ID                               show a follow-up
  close FOLLOW_UP_ID --version N (--done | --not-needed REASON)
                                                 close an open follow-up
  schedule [get]                                 the mission's schedule: each follow-up's delay
commands (supervisors):
  assign FOLLOW_UP_ID --version N --to SUBJECT   assign an open follow-up to a staff member
  schedule set --version N [--override P,KIND,OCCURRENCE,MONTHS,DAYS,REMIND]...
                                                 replace the mission's overrides (none: the defaults)

Every command takes --addr (PASSAGE_ADDR), --token (PASSAGE_TOKEN), --insecure, the --tls-*
flags, --json and --timeout. "passage followup <command> -h" lists a command's flags.
`

// runFollowUp runs `passage followup <command>`: the client of the FollowUpService.
func runFollowUp(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	return newClient(stdout, stderr).followupRun(ctx, args)
}

var (
	followUpScopes   = newEnumNames(followupv1.Scope_value)
	followUpStates   = newEnumNames(followupv1.StateFilter_value)
	followUpKinds    = newEnumNames(followupv1.FollowUpKind_value)
	notNeededReasons = newEnumNames(followupv1.NotNeededReason_value, "case_closed")
)

// followupRun dispatches the group's commands. Every group dispatches alike (runGroup), from a
// table of its own commands.
func (c *client) followupRun(ctx context.Context, args []string) error {
	return runGroup(ctx, "followup", followupUsage, args, c.stdout, c.stderr, commands{
		"list":     c.followupList,
		"get":      c.followupGet,
		"close":    c.followupClose,
		"assign":   c.followupAssign,
		"schedule": c.followupSchedule,
	})
}

// followupMutation fills in a request id, announces it and makes the call.
func followupMutation[Req interface {
	proto.Message
	GetRequestId() string
}, Resp proto.Message](ctx context.Context, c *client, o *clientOptions, method string, req Req, setID func(string),
	rpc func(followupv1.FollowUpServiceClient, context.Context, Req, ...grpc.CallOption) (Resp, error), human func(io.Writer, Resp) error,
) error {
	return mutationOn(ctx, &c.cli, o, c.followup, method, req, setID, rpc, human)
}

func followUpOf[R interface{ GetFollowUp() *followupv1.FollowUp }](w io.Writer, resp R) error {
	return formatFollowUp(w, resp.GetFollowUp())
}

func scheduleOf[R interface{ GetSchedule() *followupv1.Schedule }](w io.Writer, resp R) error {
	formatSchedule(w, resp.GetSchedule())
	return nil
}

var errNoFollowUpVersion = errors.New("--version is required: the version you read (passage followup get)")

// Commands.

func (c *client) followupList(ctx context.Context, args []string) error {
	fs, o := c.groupFlagSet("followup", "list", "list [--scope S] [--staff SUBJECT] [--state S] [--programme P] [--case ID] [--due-before D] [--all]", nil)
	scope := fs.String("scope", "", "whose `SCOPE`: "+followUpScopes.list()+" (default: mine; staff needs --staff, supervisors only)")
	staff := fs.String("staff", "", "the staff member's `SUBJECT`, with --scope staff")
	state := fs.String("state", "", "only this `STATE`: "+followUpStates.list()+" (default: open)")
	programme := fs.String("programme", "", "only this `PROGRAMME`'s: "+programmes.list())
	caseID := fs.String("case", "", "only this `CASE_ID`'s")
	dueBefore := fs.String("due-before", "", "only those due before `DATE` (YYYY-MM-DD)")
	pageToken := fs.String("page-token", "", "continue from a previous page's `TOKEN`")
	all := fs.Bool("all", false, "follow the pages to the last one")
	if _, _, err := c.groupParse("followup", fs, o, args, 0, "list takes no arguments besides flags"); err != nil {
		return err
	}
	req := &followupv1.ListFollowUpsRequest{StaffSubject: strings.TrimSpace(*staff), CaseId: strings.TrimSpace(*caseID), PageToken: *pageToken}
	if *all {
		req.PageSize = 100
	}
	var err error
	if *scope != "" {
		if req.Scope, err = parseEnum[followupv1.Scope](followUpScopes, *scope); err != nil {
			return fmt.Errorf("--scope %w", err)
		}
	}
	if *state != "" {
		if req.State, err = parseEnum[followupv1.StateFilter](followUpStates, *state); err != nil {
			return fmt.Errorf("--state %w", err)
		}
	}
	if *programme != "" {
		if req.Programme, err = parseEnum[commonv1.Programme](programmes, *programme); err != nil {
			return fmt.Errorf("--programme %w", err)
		}
	}
	if *dueBefore != "" {
		if req.DueBefore, err = parseFullDate(*dueBefore); err != nil {
			return fmt.Errorf("--due-before: %w", err)
		}
	}
	return printPages(ctx, o, c.stdout, c.stderr, c.failed, c.followup, "ListFollowUps", "follow-ups", *all,
		followupv1.FollowUpServiceClient.ListFollowUps, req, func(t string) { req.PageToken = t },
		func(r *followupv1.ListFollowUpsResponse) ([]*followupv1.FollowUp, string) {
			return r.GetFollowUps(), r.GetNextPageToken()
		},
		func(fs []*followupv1.FollowUp) proto.Message { return &followupv1.ListFollowUpsResponse{FollowUps: fs} },
		func(w io.Writer, fs []*followupv1.FollowUp) error { formatFollowUpList(w, fs); return nil })
}

func (c *client) followupGet(ctx context.Context, args []string) error {
	fs, o := c.groupFlagSet("followup", "get", "get FOLLOW_UP_ID", nil)
	pos, _, err := c.groupParse("followup", fs, o, args, 1, "get takes one FOLLOW_UP_ID")
	if err != nil {
		return err
	}
	return unaryOn(ctx, &c.cli, o, c.followup, "GetFollowUp", "", followupv1.FollowUpServiceClient.GetFollowUp,
		&followupv1.GetFollowUpRequest{FollowUpId: pos[0]}, followUpOf)
}

func (c *client) followupClose(ctx context.Context, args []string) error {
	req := &followupv1.CloseFollowUpRequest{}
	fs, o := c.groupFlagSet("followup", "close", "close FOLLOW_UP_ID --version N (--done | --not-needed REASON)", &req.RequestId)
	fs.Int64Var(&req.Version, "version", 0, "the follow-up version you read (passage followup get); required")
	done := fs.Bool("done", false, "it was done")
	notNeeded := fs.String("not-needed", "", "it is not needed, for `REASON`: "+notNeededReasons.list())
	pos, _, err := c.groupParse("followup", fs, o, args, 1, "close takes one FOLLOW_UP_ID")
	if err != nil {
		return err
	}
	req.FollowUpId = pos[0]
	if req.Version <= 0 {
		return errNoFollowUpVersion
	}
	switch {
	case *done == (*notNeeded != ""):
		return errors.New("close takes one of --done and --not-needed REASON")
	case *done:
		req.Outcome = followupv1.Outcome_OUTCOME_DONE
	default:
		req.Outcome = followupv1.Outcome_OUTCOME_NOT_NEEDED
		if req.NotNeededReason, err = parseEnum[followupv1.NotNeededReason](notNeededReasons, *notNeeded); err != nil {
			return fmt.Errorf("--not-needed %w", err)
		}
	}
	return followupMutation(ctx, c, o, "CloseFollowUp", req, func(id string) { req.RequestId = id },
		followupv1.FollowUpServiceClient.CloseFollowUp, followUpOf)
}

func (c *client) followupAssign(ctx context.Context, args []string) error {
	req := &followupv1.AssignFollowUpRequest{}
	fs, o := c.groupFlagSet("followup", "assign", "assign FOLLOW_UP_ID --version N --to SUBJECT", &req.RequestId)
	fs.Int64Var(&req.Version, "version", 0, "the follow-up version you read (passage followup get); required")
	fs.StringVar(&req.Assignee, "to", "", "the staff member's `SUBJECT`, as on their token; required")
	pos, _, err := c.groupParse("followup", fs, o, args, 1, "assign takes one FOLLOW_UP_ID")
	if err != nil {
		return err
	}
	req.FollowUpId, req.Assignee = pos[0], strings.TrimSpace(req.Assignee)
	if req.Version <= 0 {
		return errNoFollowUpVersion
	}
	if req.Assignee == "" {
		return errors.New("--to is required: the staff member's subject")
	}
	return followupMutation(ctx, c, o, "AssignFollowUp", req, func(id string) { req.RequestId = id },
		followupv1.FollowUpServiceClient.AssignFollowUp, followUpOf)
}

// followupSchedule runs `schedule [get]` and `schedule set`.
func (c *client) followupSchedule(ctx context.Context, args []string) error {
	if len(args) > 0 && args[0] == "set" {
		return c.followupScheduleSet(ctx, args[1:])
	}
	if len(args) > 0 && args[0] == "get" {
		args = args[1:]
	}
	fs, o := c.groupFlagSet("followup", "schedule", "schedule [get]", nil)
	if _, _, err := c.groupParse("followup", fs, o, args, 0, "schedule takes get or set"); err != nil {
		return err
	}
	return unaryOn(ctx, &c.cli, o, c.followup, "GetSchedule", "", followupv1.FollowUpServiceClient.GetSchedule,
		&followupv1.GetScheduleRequest{}, scheduleOf)
}

func (c *client) followupScheduleSet(ctx context.Context, args []string) error {
	req := &followupv1.SetScheduleRequest{}
	fs, o := c.groupFlagSet("followup", "schedule set", "schedule set --version N [--override P,KIND,OCCURRENCE,MONTHS,DAYS,REMIND]...", &req.RequestId)
	fs.Int64Var(&req.Version, "version", 0, "the schedule version you read (passage followup schedule); required")
	var overrides stringList
	fs.Var(&overrides, "override", "a follow-up's delay, `P,KIND,OCCURRENCE,MONTHS,DAYS,REMIND`: programme, kind ("+
		followUpKinds.list()+"), which one, due after MONTHS and DAYS, counted as due REMIND days before; repeatable")
	if _, _, err := c.groupParse("followup", fs, o, args, 0, "schedule set takes no arguments besides flags"); err != nil {
		return err
	}
	if req.Version <= 0 {
		return errors.New("--version is required: the version you read (passage followup schedule)")
	}
	for i, s := range overrides {
		e, err := parseScheduleEntry(s)
		if err != nil {
			return fmt.Errorf("--override %d: %w", i+1, err)
		}
		req.Overrides = append(req.Overrides, e)
	}
	return followupMutation(ctx, c, o, "SetSchedule", req, func(id string) { req.RequestId = id },
		followupv1.FollowUpServiceClient.SetSchedule, scheduleOf)
}

// parseScheduleEntry reads PROGRAMME,KIND,OCCURRENCE,MONTHS,DAYS,REMIND.
func parseScheduleEntry(s string) (*followupv1.ScheduleEntry, error) {
	parts := strings.Split(s, ",")
	if len(parts) != 6 {
		return nil, errors.New("want PROGRAMME,KIND,OCCURRENCE,MONTHS,DAYS,REMIND")
	}
	e := &followupv1.ScheduleEntry{}
	var err error
	if e.Programme, err = parseEnum[commonv1.Programme](programmes, parts[0]); err != nil {
		return nil, fmt.Errorf("programme %w", err)
	}
	if e.Kind, err = parseEnum[followupv1.FollowUpKind](followUpKinds, parts[1]); err != nil {
		return nil, fmt.Errorf("kind %w", err)
	}
	var n [4]int32
	for i, p := range parts[2:] {
		v, err := strconv.ParseInt(strings.TrimSpace(p), 10, 32)
		if err != nil || v < 0 {
			return nil, errors.New("OCCURRENCE, MONTHS, DAYS and REMIND are whole numbers, not negative")
		}
		n[i] = int32(v)
	}
	e.Occurrence, e.DueAfterMonths, e.DueAfterDays, e.RemindDaysBefore = n[0], n[1], n[2], n[3]
	return e, nil
}

// Output.

// formatFollowUp prints a follow-up.
func formatFollowUp(w io.Writer, f *followupv1.FollowUp) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintf(tw, "follow-up\t%s   version %d\n", f.GetFollowUpId(), f.GetVersion())
	fmt.Fprintf(tw, "case\t%s   %s   mission %s\n", f.GetCaseId(), enumcode.Code(f.GetProgramme()), f.GetMission())
	fmt.Fprintf(tw, "kind\t%s %d\n", enumName(f.GetKind()), f.GetOccurrence())
	fmt.Fprintf(tw, "due\t%s (counted as due from %s)%s\n", formatDate(f.GetDueDate()), formatDate(f.GetRemindDate()), overdueMark(f))
	fmt.Fprintf(tw, "assignee\t%s\n", orNone(f.GetAssignee()))
	if f.GetState() == followupv1.FollowUpState_FOLLOW_UP_STATE_CLOSED {
		outcome := enumName(f.GetOutcome())
		if f.GetNotNeededReason() != followupv1.NotNeededReason_NOT_NEEDED_REASON_UNSPECIFIED {
			outcome += ": " + enumName(f.GetNotNeededReason())
		}
		fmt.Fprintf(tw, "closed\t%s on %s by %s\n", outcome, formatDate(f.GetClosedDate()), orNone(f.GetClosedBy()))
	}
	return tw.Flush()
}

const followUpRowFormat = "%-36s  %-10s  %-24s  %-36s  %-9s  %-16s  %7s\n"

// formatFollowUpList prints one follow-up a line.
func formatFollowUpList(w io.Writer, fs []*followupv1.FollowUp) {
	fmt.Fprintf(w, followUpRowFormat, "FOLLOW-UP", "DUE", "KIND", "CASE", "STATE", "ASSIGNEE", "VERSION")
	for _, f := range fs {
		state := enumName(f.GetState())
		if f.GetOverdue() {
			state = "overdue"
		}
		fmt.Fprintf(w, followUpRowFormat, f.GetFollowUpId(), formatDate(f.GetDueDate()),
			fmt.Sprintf("%s %d", enumName(f.GetKind()), f.GetOccurrence()), f.GetCaseId(), state, orNone(f.GetAssignee()), fmt.Sprint(f.GetVersion()))
	}
}

// formatSchedule prints a mission's schedule, one follow-up a line.
func formatSchedule(w io.Writer, s *followupv1.Schedule) {
	fmt.Fprintf(w, "schedule of %s, version %d\n", s.GetMission(), s.GetVersion())
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "PROGRAMME\tKIND\tOCCURRENCE\tDUE AFTER\tREMIND\t")
	for _, e := range s.GetEntries() {
		mark := ""
		if e.GetOverridden() {
			mark = "overridden"
		}
		fmt.Fprintf(tw, "%s\t%s\t%d\t%d months %d days\t%d days before\t%s\n", enumName(e.GetProgramme()), enumName(e.GetKind()),
			e.GetOccurrence(), e.GetDueAfterMonths(), e.GetDueAfterDays(), e.GetRemindDaysBefore(), mark)
	}
	_ = tw.Flush()
}

func overdueMark(f *followupv1.FollowUp) string {
	if f.GetOverdue() {
		return "   OVERDUE"
	}
	return ""
}

func orNone(s string) string {
	if s == "" {
		return "(none)"
	}
	return s
}
