package main

import (
	"cmp"
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/protobuf/proto"

	analyticsv1 "github.com/passage-cm/passage/proto/gen/passage/analytics/v1"
	commonv1 "github.com/passage-cm/passage/proto/gen/passage/common/v1"
)

const analyticsUsage = `usage: passage analytics <command> [arguments]

commands (analysts at HQ):
  aggregate MEASURE [--by DIM,...] [filters] [--k K | --epsilon E]
  export MEASURE [--by DIM,...] [filters] [--k K | --epsilon E] [--out FILE]
  victims [--from Y] [--to Y] [--country C]... [--citizenship C]... [--k K] [--out FILE]
  regions
  budget [--year Y]

aggregate prints a table of anonymised counts: small cells withheld (x), or under
differential privacy with --epsilon. export writes the same table as CSV with HXL hashtags,
for publication (--epsilon too, from the same budget); victims writes the victims'
de-identified records in the CTDC layout, k-anonymous. Every export's rows end in its
provenance: how it was released (method, k or epsilon and delta), when, from data as of when.

filters: --year Y, or --from Y and --to Y; --programme P, --host-country C, --host-region R,
--return-country C, --return-region R, --nationality C (each repeatable, or comma-separated).

Every command takes --addr (PASSAGE_ADDR), --token (PASSAGE_TOKEN), --insecure, --json and
--timeout.
`

// runAnalytics runs `passage analytics <command>`: the client of the AnalyticsService.
func runAnalytics(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	return newClient(stdout, stderr).analyticsRun(ctx, args)
}

var (
	measureNames   = newEnumNames(analyticsv1.Measure_value)
	dimensionNames = newEnumNames(analyticsv1.Dimension_value)
)

// analyticsRun dispatches the group's commands. Every group dispatches alike (runGroup), from a
// table of its own commands.
func (c *client) analyticsRun(ctx context.Context, args []string) error {
	return runGroup(ctx, "analytics", analyticsUsage, args, c.stdout, c.stderr, commands{
		"aggregate": c.analyticsAggregate,
		"export":    c.analyticsExport,
		"victims":   c.analyticsVictims,
		"regions":   c.analyticsRegions,
		"budget":    c.analyticsBudget,
	})
}

// tableFlags are what aggregate and export share: the dimensions and the filter.
type tableFlags struct {
	by                                       listFlag
	year, from, to                           int
	programmes, hostCountries, hostRegions   listFlag
	returnCountries, returnRegions, national listFlag
	k                                        int
}

// listFlag is a repeatable flag whose values may also be comma-separated.
type listFlag []string

func (l *listFlag) String() string { return strings.Join(*l, ",") }

func (l *listFlag) Set(s string) error {
	for v := range strings.SplitSeq(s, ",") {
		if v = strings.TrimSpace(v); v != "" {
			*l = append(*l, v)
		}
	}
	return nil
}

func (f *tableFlags) bind(fs *flag.FlagSet) {
	fs.Var(&f.by, "by", "`DIM`s to group by, in order (up to 4): "+dimensionNames.list())
	fs.IntVar(&f.year, "year", 0, "count one `YEAR` (same as --from Y --to Y)")
	fs.IntVar(&f.from, "from", 0, "first `YEAR` counted")
	fs.IntVar(&f.to, "to", 0, "last `YEAR` counted")
	fs.Var(&f.programmes, "programme", "count only these `PROGRAMME`s: "+programmes.list())
	fs.Var(&f.hostCountries, "host-country", "count only these host `COUNTRY` codes")
	fs.Var(&f.hostRegions, "host-region", "count only these host `REGION` codes (see `passage analytics regions`)")
	fs.Var(&f.returnCountries, "return-country", "count only these return `COUNTRY` codes")
	fs.Var(&f.returnRegions, "return-region", "count only these return `REGION` codes")
	fs.Var(&f.national, "nationality", "count only these nationality `COUNTRY` codes")
	fs.IntVar(&f.k, "k", 0, "withhold counts below `K` (0: the server's default, 11)")
}

// request returns the measure, dimensions and filter, or an error naming the flag.
func (f *tableFlags) request(measureName string) (analyticsv1.Measure, []analyticsv1.Dimension, *analyticsv1.Filter, error) {
	measure, err := parseEnum[analyticsv1.Measure](measureNames, measureName)
	if err != nil {
		return 0, nil, nil, fmt.Errorf("MEASURE %w", err)
	}
	var dims []analyticsv1.Dimension
	for _, name := range f.by {
		d, err := parseEnum[analyticsv1.Dimension](dimensionNames, name)
		if err != nil {
			return 0, nil, nil, fmt.Errorf("--by %w", err)
		}
		dims = append(dims, d)
	}
	filter := &analyticsv1.Filter{YearFrom: int32(f.from), YearTo: int32(f.to)}
	if f.year != 0 {
		if f.from != 0 || f.to != 0 {
			return 0, nil, nil, fmt.Errorf("--year counts one year: give it, or --from and --to, not both")
		}
		filter.YearFrom, filter.YearTo = int32(f.year), int32(f.year)
	}
	for _, name := range f.programmes {
		p, err := parseEnum[commonv1.Programme](programmes, name)
		if err != nil {
			return 0, nil, nil, fmt.Errorf("--programme %w", err)
		}
		filter.Programmes = append(filter.Programmes, p)
	}
	codes := func(vs []string) []string {
		var out []string
		for _, v := range vs {
			out = append(out, countryCode(v))
		}
		return out
	}
	filter.HostCountries, filter.HostRegions = codes(f.hostCountries), codes(f.hostRegions)
	filter.ReturnCountries, filter.ReturnRegions = codes(f.returnCountries), codes(f.returnRegions)
	filter.Nationalities = codes(f.national)
	return measure, dims, filter, nil
}

func (c *client) analyticsAggregate(ctx context.Context, args []string) error {
	fs, o := c.groupFlagSet("analytics", "aggregate", "aggregate MEASURE [--by DIM,...] [filters] [--k K | --epsilon E]", nil)
	var f tableFlags
	f.bind(fs)
	epsilon := fs.Float64("epsilon", 0, "release under differential privacy, spending `E` of the yearly privacy budget")
	pos, given, err := c.groupParse("analytics", fs, o, args, 1, "aggregate takes one MEASURE: "+measureNames.list())
	if err != nil {
		return err
	}
	measure, dims, filter, err := f.request(pos[0])
	if err != nil {
		return err
	}
	req := &analyticsv1.AggregateRequest{Measure: measure, GroupBy: dims, Filter: filter}
	switch {
	case given["epsilon"] && given["k"]:
		return fmt.Errorf("--k and --epsilon are two ways to release: choose one")
	case given["epsilon"]:
		req.Release = &analyticsv1.AggregateRequest_DifferentialPrivacy{DifferentialPrivacy: &analyticsv1.DifferentialPrivacy{Epsilon: *epsilon}}
	case given["k"]:
		req.Release = &analyticsv1.AggregateRequest_Suppression{Suppression: &analyticsv1.Suppression{K: int32(f.k)}}
	}
	return analyticsUnary(ctx, c, o, "Aggregate", analyticsv1.AnalyticsServiceClient.Aggregate, req,
		func(w io.Writer, resp *analyticsv1.AggregateResponse) error { return formatAggregate(w, req, resp) })
}

func (c *client) analyticsExport(ctx context.Context, args []string) error {
	fs, o := c.groupFlagSet("analytics", "export", "export MEASURE [--by DIM,...] [filters] [--k K | --epsilon E] [--out FILE]", nil)
	var f tableFlags
	f.bind(fs)
	epsilon := fs.Float64("epsilon", 0, "release under differential privacy, spending `E` of the yearly privacy budget")
	out := fs.String("out", "", "write the CSV to `FILE` (default: standard output)")
	pos, given, err := c.groupParse("analytics", fs, o, args, 1, "export takes one MEASURE: "+measureNames.list())
	if err != nil {
		return err
	}
	measure, dims, filter, err := f.request(pos[0])
	if err != nil {
		return err
	}
	req := &analyticsv1.ExportAggregateRequest{Measure: measure, GroupBy: dims, Filter: filter}
	switch {
	case given["epsilon"] && given["k"]:
		return fmt.Errorf("--k and --epsilon are two ways to release: choose one")
	case given["epsilon"]:
		req.DifferentialPrivacy = &analyticsv1.DifferentialPrivacy{Epsilon: *epsilon}
	case f.k != 0:
		req.Suppression = &analyticsv1.Suppression{K: int32(f.k)}
	}
	return analyticsUnary(ctx, c, o, "ExportAggregate", analyticsv1.AnalyticsServiceClient.ExportAggregate, req,
		func(w io.Writer, resp *analyticsv1.ExportAggregateResponse) error {
			summary := fmt.Sprintf("small counts withheld at k = %d", resp.GetK())
			if p := resp.GetProvenance(); p.GetMethod() == analyticsv1.ReleaseMethod_RELEASE_METHOD_DIFFERENTIAL_PRIVACY {
				summary = fmt.Sprintf("released under differential privacy: ε %s spent, %s left this year (noisy counts; categories too rare to show are left out)",
					formatEpsilon(p.GetEpsilon()), formatEpsilon(resp.GetRemainingBudget()))
			}
			return c.analyticsWriteCSV(*out, resp.GetCsv(), summary+released(resp.GetProvenance()))
		})
}

// released says when an export was made and from data as of when, from its provenance.
func released(p *analyticsv1.Provenance) string {
	if !p.GetReleaseTime().IsValid() {
		return ""
	}
	s := "; released " + p.GetReleaseTime().AsTime().UTC().Format(time.RFC3339)
	if p.GetDataAsOf().IsValid() {
		s += " from data as of " + p.GetDataAsOf().AsTime().UTC().Format(time.RFC3339)
	}
	return s
}

func (c *client) analyticsVictims(ctx context.Context, args []string) error {
	fs, o := c.groupFlagSet("analytics", "victims", "victims [--from Y] [--to Y] [--country C]... [--citizenship C]... [--k K] [--out FILE]", nil)
	from := fs.Int("from", 0, "first `YEAR` of identification")
	to := fs.Int("to", 0, "last `YEAR` of identification")
	var countries, citizenships listFlag
	fs.Var(&countries, "country", "only these countries of exploitation (`COUNTRY` codes)")
	fs.Var(&citizenships, "citizenship", "only these citizenships (`COUNTRY` codes)")
	k := fs.Int("k", 0, "every released combination of quasi-identifiers is shared by at least `K` records (0: 11)")
	out := fs.String("out", "", "write the CSV to `FILE` (default: standard output)")
	if _, _, err := c.groupParse("analytics", fs, o, args, 0, "victims takes no argument"); err != nil {
		return err
	}
	filter := &analyticsv1.VictimRecordFilter{YearFrom: int32(*from), YearTo: int32(*to)}
	for _, v := range countries {
		filter.CountriesOfExploitation = append(filter.CountriesOfExploitation, countryCode(v))
	}
	for _, v := range citizenships {
		filter.Citizenships = append(filter.Citizenships, countryCode(v))
	}
	req := &analyticsv1.ExportVictimRecordsRequest{Filter: filter, K: int32(*k)}
	return analyticsUnary(ctx, c, o, "ExportVictimRecords", analyticsv1.AnalyticsServiceClient.ExportVictimRecords, req,
		func(w io.Writer, resp *analyticsv1.ExportVictimRecordsResponse) error {
			return c.analyticsWriteCSV(*out, resp.GetCsv(), fmt.Sprintf("%d records, %d-anonymous: %d generalised, %d withheld, %d values suppressed",
				resp.GetRecords(), resp.GetK(), resp.GetGeneralised(), resp.GetWithheld(), resp.GetSuppressed())+released(resp.GetProvenance()))
		})
}

func (c *client) analyticsRegions(ctx context.Context, args []string) error {
	fs, o := c.groupFlagSet("analytics", "regions", "regions", nil)
	if _, _, err := c.groupParse("analytics", fs, o, args, 0, "regions takes no argument"); err != nil {
		return err
	}
	return analyticsUnary(ctx, c, o, "ListRegions", analyticsv1.AnalyticsServiceClient.ListRegions, &analyticsv1.ListRegionsRequest{},
		func(w io.Writer, resp *analyticsv1.ListRegionsResponse) error {
			tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
			fmt.Fprintln(tw, "REGION\tNAME\tCOUNTRIES")
			for _, r := range resp.GetRegions() {
				fmt.Fprintf(tw, "%s\t%s\t%d: %s\n", r.GetCode(), r.GetName(), len(r.GetCountries()), strings.Join(r.GetCountries(), " "))
			}
			return tw.Flush()
		})
}

func (c *client) analyticsBudget(ctx context.Context, args []string) error {
	fs, o := c.groupFlagSet("analytics", "budget", "budget [--year Y]", nil)
	year := fs.Int("year", 0, "the `YEAR` (default: this one)")
	if _, _, err := c.groupParse("analytics", fs, o, args, 0, "budget takes no argument"); err != nil {
		return err
	}
	return analyticsUnary(ctx, c, o, "GetPrivacyBudget", analyticsv1.AnalyticsServiceClient.GetPrivacyBudget,
		&analyticsv1.GetPrivacyBudgetRequest{Year: int32(*year)},
		func(w io.Writer, resp *analyticsv1.GetPrivacyBudgetResponse) error {
			_, err := fmt.Fprintf(w, "privacy budget %d: ε %s spent of %s, %s left\n", resp.GetYear(),
				formatEpsilon(resp.GetSpent()), formatEpsilon(resp.GetBudget()), formatEpsilon(resp.GetRemaining()))
			return err
		})
}

// writeCSV writes an export to path (standard output when empty) and says what it holds on
// standard error, so that the CSV alone goes down a pipe.
func (c *client) analyticsWriteCSV(path string, csv []byte, summary string) error {
	if path == "" {
		if _, err := c.stdout.Write(csv); err != nil {
			return err
		}
	} else if err := os.WriteFile(path, csv, 0o600); err != nil {
		return err
	}
	fmt.Fprintln(c.stderr, summary)
	return nil
}

// analyticsUnary connects, makes one read and prints its response: as JSON with --json, else
// with human.
func analyticsUnary[Req any, Resp proto.Message](ctx context.Context, c *client, o *clientOptions, method string,
	rpc func(analyticsv1.AnalyticsServiceClient, context.Context, Req, ...grpc.CallOption) (Resp, error),
	req Req, human func(io.Writer, Resp) error,
) error {
	return unaryOn(ctx, &c.cli, o, c.analytics, method, "", rpc, req, human)
}

// formatAggregate prints an Aggregate as a table: one column per dimension ("all" in a
// total), the count ("x" withheld) and its share of the grand total; the cells first, then
// the totals; then how many values each dimension holds, and how the table was released.
func formatAggregate(w io.Writer, req *analyticsv1.AggregateRequest, resp *analyticsv1.AggregateResponse) error {
	dims := req.GetGroupBy()
	var grand int64 = -1 // the grand total (every key "", or no key), when released
	for _, t := range append(resp.GetTotals(), resp.GetCells()...) {
		if !t.GetSuppressed() && !slices.ContainsFunc(t.GetKeys(), func(k string) bool { return k != "" }) {
			grand = t.GetCount()
		}
	}
	// Rows of text first, so that the counts and shares can be aligned right.
	header := make([]string, 0, len(dims)+2)
	for _, d := range dims {
		header = append(header, strings.ToUpper(enumName(d)))
	}
	header = append(header, strings.ToUpper(enumName(req.GetMeasure())), "SHARE")
	rows := [][]string{header}
	for _, cell := range append(slices.Clip(resp.GetCells()), resp.GetTotals()...) {
		row := make([]string, 0, len(header))
		for _, k := range cell.GetKeys() {
			row = append(row, cmp.Or(k, "all"))
		}
		switch {
		case cell.GetSuppressed():
			row = append(row, "x", "")
		case grand > 0:
			row = append(row, thousands(cell.GetCount()), fmt.Sprintf("%.2f%%", 100*float64(cell.GetCount())/float64(grand)))
		default:
			row = append(row, thousands(cell.GetCount()), "")
		}
		rows = append(rows, row)
	}
	n := len(header)
	widths := [2]int{}
	for _, row := range rows {
		widths[0], widths[1] = max(widths[0], len(row[n-2])), max(widths[1], len(row[n-1]))
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	for _, row := range rows {
		row[n-2], row[n-1] = fmt.Sprintf("%*s", widths[0], row[n-2]), fmt.Sprintf("%*s", widths[1], row[n-1])
		fmt.Fprintln(tw, strings.TrimRight(strings.Join(row, "\t"), " \t"))
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	if len(dims) > 0 {
		var parts []string
		for i, d := range dims {
			if i < len(resp.GetDistinctValues()) {
				parts = append(parts, fmt.Sprintf("%s %d", enumName(d), resp.GetDistinctValues()[i]))
			}
		}
		fmt.Fprintf(w, "values: %s\n", strings.Join(parts, ", "))
	}
	var err error
	if resp.GetEpsilon() > 0 {
		_, err = fmt.Fprintf(w, "released under differential privacy: ε %s spent, %s left this year (noisy counts; categories too rare to show are left out)\n",
			formatEpsilon(resp.GetEpsilon()), formatEpsilon(resp.GetRemainingBudget()))
	} else if withheld := slices.ContainsFunc(append(slices.Clip(resp.GetCells()), resp.GetTotals()...),
		(*analyticsv1.Cell).GetSuppressed); withheld {
		_, err = fmt.Fprintf(w, "x: withheld, counting fewer than %d or hiding one that does\n", resp.GetK())
	} else {
		_, err = fmt.Fprintf(w, "no count withheld (none below %d)\n", resp.GetK())
	}
	return err
}

// thousands formats n with commas between groups of three digits.
func thousands(n int64) string {
	s := strconv.FormatInt(n, 10)
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	var b strings.Builder
	for i, r := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(r)
	}
	if neg {
		return "-" + b.String()
	}
	return b.String()
}

func formatEpsilon(e float64) string { return strconv.FormatFloat(e, 'f', -1, 64) }
