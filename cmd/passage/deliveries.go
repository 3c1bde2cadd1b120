package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"text/tabwriter"
	"time"

	"github.com/google/uuid"

	"github.com/passage-cm/passage/internal/bootstrap"
	"github.com/passage-cm/passage/internal/database"
	"github.com/passage-cm/passage/internal/webhook"
)

const deliveriesUsage = `usage: passage referral deliveries list [--dead] [--partner ID] [--limit N]
       passage referral deliveries replay [--partner ID] [--since T] --by STAFF_ID

list shows the outbound webhook deliveries of every mission, newest first (ids, type, state,
attempts and the last error's status line; never a payload). replay queues the dead ones again,
due now, with their own webhook-id, and audits each under the staff id given with --by.
Both connect as the referral service's role (PASSAGE_REFERRAL_DATABASE_URL, or DATABASE_URL's
server as passage_referral).
`

// runReferralDeliveries runs `passage referral deliveries`, the operator's view of the
// outbound webhook queue.
func runReferralDeliveries(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	switch {
	case len(args) == 0:
		fmt.Fprint(stderr, deliveriesUsage)
		return errUsage
	case isHelp(args[0]):
		fmt.Fprint(stdout, deliveriesUsage)
		return nil
	case args[0] != "list" && args[0] != "replay":
		return &usageError{command: "referral deliveries", err: fmt.Errorf("unknown command %q", args[0])}
	}
	fs := flag.NewFlagSet("referral deliveries "+args[0], flag.ContinueOnError)
	fs.SetOutput(stderr)
	partner := fs.String("partner", "", "only this partner's deliveries (partner `ID`)")
	var dead *bool
	var limit *int
	var since, by *string
	if args[0] == "list" {
		dead = fs.Bool("dead", false, "only the dead letters")
		limit = fs.Int("limit", 100, "at most `N` deliveries (up to 1000)")
	} else {
		since = fs.String("since", "", "only deliveries dead since `T` (RFC 3339 or YYYY-MM-DD)")
		by = fs.String("by", "", "staff `ID` of who asked for the replay, for the audit record (required)")
	}
	positional, _, err := parseFlags(fs, args[1:])
	if err != nil {
		return err
	}
	if len(positional) > 0 {
		return fmt.Errorf("unexpected argument %q", positional[0])
	}
	var partnerID uuid.UUID
	if *partner != "" {
		if partnerID, err = uuid.Parse(*partner); err != nil {
			return errors.New("--partner must be a partner id (a UUID)")
		}
	}
	db, done, err := operatorReferral(ctx)
	if err != nil {
		return err
	}
	defer done()

	if args[0] == "replay" {
		if *by == "" {
			return errors.New("--by is required: the replay is audited under the operator's staff id")
		}
		f := webhook.ReplayFilter{Partner: partnerID, By: *by}
		if *since != "" {
			if f.Since, err = parseSince(*since); err != nil {
				return err
			}
		}
		n, err := webhook.Replay(ctx, db, f)
		if err != nil {
			return err
		}
		fmt.Fprintf(stdout, "replayed %d\n", n)
		return nil
	}

	f := webhook.ListFilter{Partner: partnerID, Limit: *limit}
	if *dead {
		f.State = webhook.StateDead
	}
	list, err := webhook.List(ctx, db, f)
	if err != nil {
		return err
	}
	tw := tabwriter.NewWriter(stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tMISSION\tPARTNER\tORDERING KEY\tWEBHOOK-ID\tTYPE\tSTATE\tATTEMPTS\tCREATED\tNEXT OR FINISHED\tLAST ERROR")
	for _, d := range list {
		when := d.NextAttempt
		if d.FinishedAt != nil {
			when = *d.FinishedAt
		}
		fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\t%s\t%s\t%d\t%s\t%s\t%s\n", d.ID, d.Mission, d.Partner, d.OrderingKey, d.EventID,
			d.EventType, d.State, d.Attempts, d.CreatedAt.UTC().Format(time.RFC3339), when.UTC().Format(time.RFC3339), d.LastError)
	}
	return tw.Flush()
}

// operatorReferral connects as the referral service's role, as `passage erase` connects as
// intake's: the queue's worker declaration is that role's, and the operator needs no more.
func operatorReferral(ctx context.Context) (*database.DB, func(), error) {
	admin := os.Getenv("DATABASE_URL")
	own := bootstrap.ServiceDatabaseURL("referral")
	if admin == "" && own == "" {
		return nil, nil, errors.New("DATABASE_URL is not set")
	}
	pool, err := database.Open(ctx, database.PoolConfig{URL: own, AdminURL: admin, Role: "passage_referral", MaxConns: 2})
	if err != nil {
		return nil, nil, err
	}
	return database.NewDB(pool), pool.Close, nil
}

func parseSince(s string) (time.Time, error) { return parseInstant("--since", s) }
