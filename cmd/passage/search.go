package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"

	"google.golang.org/genproto/googleapis/type/date"

	"github.com/passage-cm/passage/internal/bootstrap"
	"github.com/passage-cm/passage/internal/database"
	commonv1 "github.com/passage-cm/passage/proto/gen/passage/common/v1"
	searchv1 "github.com/passage-cm/passage/proto/gen/passage/search/v1"
	"github.com/passage-cm/passage/services/intake/search"
)

// `passage search`: find a person already registered in the caller's mission;
// `passage search elsewhere`: a supervisor asks whether other missions know them.

const searchSynopsis = `(--document TYPE:COUNTRY:NUMBER | --name GIVEN,FAMILY --dob YYYY[-MM[-DD]] [--nationality C] | --phone P) --purpose P`

const elsewhereSynopsis = `(--document TYPE:COUNTRY:NUMBER | --name GIVEN,FAMILY --dob YYYY-MM-DD) --purpose P`

// searcher is the search command's type: cli, and how to reach the person search.
type searcher struct {
	cli
	search func(clientOptions) (searchv1.PersonSearchServiceClient, func(), error)
}

func runSearch(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) > 0 && args[0] == "reindex" {
		return runReindex(ctx, args[1:], stdout, stderr)
	}
	s := &searcher{cli: newCLI(stdout, stderr), search: dialer(searchv1.NewPersonSearchServiceClient)}
	if len(args) > 0 && args[0] == "elsewhere" {
		return s.elsewhere(ctx, args[1:])
	}
	return s.run(ctx, args)
}

// runReindex runs `passage search reindex`: the operator's backfill of the search's blind
// indexes for the people of a mission registered before migration 000034 (search.Reindex).
// It decrypts every identity of the mission, so it is audited as the operator's, --by.
func runReindex(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("search reindex", flag.ContinueOnError)
	fs.SetOutput(stderr)
	mission := fs.String("mission", "", "the `MISSION` whose people to index (required)")
	by := fs.String("by", "", "staff `ID` of the operator running the job, for the audit record (required)")
	batch := fs.Int("batch", 500, "people indexed per transaction")
	dev := fs.Bool("dev", false, "use the cleartext development keys under PASSAGE_DEV_DIR")
	if _, _, err := parseFlags(fs, args); err != nil {
		return err
	}
	if *mission == "" || *by == "" {
		return errors.New("--mission and --by are required")
	}
	if *batch <= 0 {
		return errors.New("--batch must be positive")
	}
	cfg, err := bootstrap.KeyConfigFromEnv(*dev)
	if err != nil {
		return err
	}
	pool, keys, err := operatorIntakePool(ctx, cfg)
	if err != nil {
		return err
	}
	defer pool.Close()
	n, err := search.Reindex(ctx, database.NewDB(pool), keys, *mission, *by, *batch)
	fmt.Fprintf(stdout, "indexed %d people of %s\n", n, *mission)
	return err
}

// criterionFlags are the flags both search commands take: a document, or a name with a date
// of birth, and the purpose; each command adds its own to fs before parse.
type criterionFlags struct {
	group                        string
	fs                           *flag.FlagSet
	o                            *clientOptions
	document, name, dob, purpose *string
}

// criterionFlags declares the shared flags of the command group on a new flag set; dob is
// the --dob flag's help, which says how much of the date the command compares.
func (s *searcher) criterionFlags(group, synopsis, dob string) *criterionFlags {
	fs, o := s.groupFlagSet(group, "", synopsis, nil)
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "usage: passage %s %s\n\nflags:\n", group, synopsis)
		fs.PrintDefaults()
	}
	return &criterionFlags{group: group, fs: fs, o: o,
		document: fs.String("document", "", "an identity document `TYPE:COUNTRY:NUMBER`, as case register takes it; TYPE: "+documentTypes.list()),
		name:     fs.String("name", "", "`GIVEN,FAMILY` names (the family name may be empty); needs --dob"),
		dob:      fs.String("dob", "", dob),
		purpose:  fs.String("purpose", "", "why you search (required): "+accessPurposes.list()),
	}
}

// parse parses args into the flags and returns the purpose.
func (f *criterionFlags) parse(s *searcher, args []string) (commonv1.AccessPurpose, error) {
	if _, _, err := s.groupParse(f.group, f.fs, f.o, args, 0, "takes no arguments besides flags"); err != nil {
		return 0, err
	}
	p, err := parseEnum[commonv1.AccessPurpose](accessPurposes, *f.purpose)
	if err != nil {
		return 0, fmt.Errorf("--purpose: %w", err)
	}
	return p, nil
}

// parseDocument parses --document.
func (f *criterionFlags) parseDocument() (*commonv1.IdentityDocument, error) {
	d, err := parseDocument(*f.document)
	if err != nil {
		return nil, fmt.Errorf("--document: %w", err)
	}
	return d, nil
}

// parseName parses --name and its --dob, whose format the error names.
func (f *criterionFlags) parseName(format string) (given, family string, dob *date.Date, err error) {
	if *f.dob == "" {
		return "", "", nil, errors.New("--name needs --dob " + format)
	}
	if dob, err = parseDate(*f.dob); err != nil {
		return "", "", nil, fmt.Errorf("--dob: %w", err)
	}
	given, family, _ = strings.Cut(*f.name, ",")
	return strings.TrimSpace(given), strings.TrimSpace(family), dob, nil
}

// run parses one criterion and the purpose, calls SearchPersons and prints the matches,
// with the name and date of birth where the server returned the identity. Errors never
// quote a flag's value: it is personal data.
func (s *searcher) run(ctx context.Context, args []string) error {
	f := s.criterionFlags("search", searchSynopsis,
		"date of birth with --name, `YYYY[-MM[-DD]]`: a partial date matches the folded name")
	nationality := f.fs.String("nationality", "", "with --name: only people of this nationality (ISO 3166-1 alpha-3 `CODE`)")
	phone := f.fs.String("phone", "", "a phone `NUMBER` in any format; its last eight digits are compared")
	document, name, dob := f.document, f.name, f.dob
	req := &searchv1.SearchPersonsRequest{}
	var err error
	if req.Purpose, err = f.parse(s, args); err != nil {
		return err
	}
	n := 0
	for _, v := range []string{*document, *name, *phone} {
		if v != "" {
			n++
		}
	}
	if n != 1 {
		return errors.New("search takes exactly one of --document, --name (with --dob) or --phone")
	}
	if (*dob != "" || *nationality != "") && *name == "" {
		return errors.New("--dob and --nationality go with --name")
	}
	switch {
	case *document != "":
		d, err := f.parseDocument()
		if err != nil {
			return err
		}
		req.Criterion = &searchv1.SearchPersonsRequest_Document{Document: d}
	case *phone != "":
		req.Criterion = &searchv1.SearchPersonsRequest_Phone{Phone: *phone}
	default:
		given, family, d, err := f.parseName("YYYY[-MM[-DD]]")
		if err != nil {
			return err
		}
		req.Criterion = &searchv1.SearchPersonsRequest_Name{Name: &searchv1.NameCriterion{GivenName: given,
			FamilyName: family, DateOfBirth: d, Nationality: countryCode(*nationality)}}
	}
	return unaryOn(ctx, &s.cli, f.o, s.search, "SearchPersons", "", searchv1.PersonSearchServiceClient.SearchPersons, req, formatSearch)
}

// formatSearch prints one line per match; name and date of birth only where the server
// returned the identity.
func formatSearch(w io.Writer, resp *searchv1.SearchPersonsResponse) error {
	if len(resp.GetMatches()) == 0 {
		_, err := fmt.Fprintln(w, "no match in your mission")
		return err
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "CASE\tPROGRAMME\tSTATUS\tSUBJECT\tMATCH\tNAME (personal data)\tBORN")
	for _, m := range resp.GetMatches() {
		name, born := "-", "-"
		if p := m.GetIdentity(); p != nil {
			name, born = strings.TrimSpace(p.GetGivenName()+" "+p.GetFamilyName()), formatDate(p.GetDateOfBirth())
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\n", m.GetCaseId(), enumName(m.GetProgramme()), enumName(m.GetStatus()),
			m.GetSubjectId(), enumName(m.GetRule()), name, born)
	}
	if resp.GetTruncated() {
		fmt.Fprintln(tw, "more cases matched than are shown: narrow the search")
	}
	return tw.Flush()
}

// elsewhere parses one exact criterion and the purpose, calls FindElsewhere and prints the
// missions that know the person, with programme, status and year. Errors never quote a
// flag's value: it is personal data.
func (s *searcher) elsewhere(ctx context.Context, args []string) error {
	f := s.criterionFlags("search elsewhere", elsewhereSynopsis,
		"full date of birth with --name, `YYYY-MM-DD`: only exact matches are compared across missions")
	document, name, dob := f.document, f.name, f.dob
	req := &searchv1.FindElsewhereRequest{}
	var err error
	if req.Purpose, err = f.parse(s, args); err != nil {
		return err
	}
	if (*document == "") == (*name == "") {
		return errors.New("search elsewhere takes exactly one of --document or --name (with --dob)")
	}
	if *dob != "" && *name == "" {
		return errors.New("--dob goes with --name")
	}
	if *document != "" {
		d, err := f.parseDocument()
		if err != nil {
			return err
		}
		req.Criterion = &searchv1.FindElsewhereRequest_Document{Document: d}
	} else {
		given, family, d, err := f.parseName("YYYY-MM-DD")
		if err == nil && (d.GetMonth() == 0 || d.GetDay() == 0) {
			err = errors.New("--dob: must be a full date YYYY-MM-DD: other missions are searched by exact date only")
		}
		if err != nil {
			return err
		}
		req.Criterion = &searchv1.FindElsewhereRequest_Name{Name: &searchv1.ExactNameCriterion{GivenName: given,
			FamilyName: family, DateOfBirth: d}}
	}
	return unaryOn(ctx, &s.cli, f.o, s.search, "FindElsewhere", "", searchv1.PersonSearchServiceClient.FindElsewhere, req, formatElsewhere)
}

// formatElsewhere prints one line per case of another mission: mission, programme, status,
// year. The answer holds no id and no identity.
func formatElsewhere(w io.Writer, resp *searchv1.FindElsewhereResponse) error {
	if len(resp.GetKnown()) == 0 {
		_, err := fmt.Fprintln(w, "not known in another mission")
		return err
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "MISSION\tPROGRAMME\tSTATUS\tREGISTERED")
	for _, k := range resp.GetKnown() {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%d\n", k.GetMission(), enumName(k.GetProgramme()), enumName(k.GetStatus()), k.GetRegistrationYear())
	}
	return tw.Flush()
}
