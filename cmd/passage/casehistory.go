package main

import (
	"context"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	"google.golang.org/protobuf/proto"

	intakev1 "github.com/passage-cm/passage/proto/gen/passage/intake/v1"
)

// caseHistory runs `passage case history CASE_ID [--all]`: what happened to a case, oldest
// first, one line an entry.
func (c *client) caseHistory(ctx context.Context, args []string) error {
	fs, o := c.groupFlagSet("case", "history", "history CASE_ID [--all]", nil)
	pageToken := fs.String("page-token", "", "continue from a previous page's `TOKEN`")
	all := fs.Bool("all", false, "follow the pages to the last one")
	pos, _, err := c.groupParse("case", fs, o, args, 1, "history takes one CASE_ID")
	if err != nil {
		return err
	}
	req := &intakev1.GetCaseHistoryRequest{CaseId: strings.TrimSpace(pos[0]), PageToken: *pageToken}
	if *all {
		req.PageSize = 100
	}
	return printPages(ctx, o, c.stdout, c.stderr, c.failed, c.intake, "GetCaseHistory", "entries", *all,
		intakev1.IntakeServiceClient.GetCaseHistory, req, func(t string) { req.PageToken = t },
		func(r *intakev1.GetCaseHistoryResponse) ([]*intakev1.CaseHistoryEntry, string) {
			return r.GetEntries(), r.GetNextPageToken()
		},
		func(es []*intakev1.CaseHistoryEntry) proto.Message {
			return &intakev1.GetCaseHistoryResponse{Entries: es}
		},
		func(w io.Writer, es []*intakev1.CaseHistoryEntry) error { return formatHistory(w, es) })
}

// formatHistory prints one line an entry: when (UTC), the mission, the service, the event's
// short name, who, and the coded details (with the stated reason first, when there is one).
func formatHistory(w io.Writer, es []*intakev1.CaseHistoryEntry) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "TIME\tMISSION\tSERVICE\tEVENT\tWHO\tDETAILS")
	for _, e := range es {
		var details []string
		if e.GetReason() != "" {
			details = append(details, "reason="+e.GetReason())
		}
		for _, d := range e.GetDetails() {
			details = append(details, d.GetField()+"="+d.GetValue())
		}
		name := e.GetEventType()
		name = name[strings.LastIndexByte(name, '.')+1:]
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", e.GetTime().AsTime().UTC().Format(time.DateTime), e.GetMission(),
			e.GetService(), name, e.GetActor(), strings.Join(details, " "))
	}
	return tw.Flush()
}
