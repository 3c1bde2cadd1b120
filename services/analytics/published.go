package analytics

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/passage-cm/passage/internal/disclosure"
	"github.com/passage-cm/passage/internal/enumcode"
	"github.com/passage-cm/passage/internal/middleware"
	"github.com/passage-cm/passage/internal/region"
	"github.com/passage-cm/passage/internal/rpcerr"
	analyticsv1 "github.com/passage-cm/passage/proto/gen/passage/analytics/v1"
	"github.com/passage-cm/passage/services/analytics/cube"
)

// Suppressed answers are not protected one by one. Each population — one measure, one year,
// one programme: a block — has one protected release per release table (a set of at most
// three dimensions, below), computed once by disclosure.Protect over every combination of
// its dimensions at every level (country, region, all) and kept until the block's counts
// change. Every number an answer gives is an entry of those releases (a filter names one
// country, one region or one nationality) or a sum of the same entry across blocks (a range of
// years, several programmes), and is released only when every part is: an answer can
// therefore never tell more than the releases themselves, however answers are combined. See
// internal/disclosure's documentation for the attack this defeats.
//
// A release table's dimensions are released together; dimensions of two tables are not, so
// a question that groups or filters by both (sex by nationality, say) is refused, with the
// tables named, and differential privacy offered instead. The tables of every measure:
//   - where: host country (and region), and return country (and region) where the measure
//     has one — the walk-through's tables of persons returned;
//   - sex, alone;
//   - nationality, alone, and age band, alone.
//
// Small tables keep the margins: in the smaller programmes (HASM, VoT: a few hundred persons)
// and small missions, a cross-table of two person dimensions, or of the countries with sex,
// has hundreds of combinations of one or two persons, and protecting them withholds most of
// its totals (nationality by age band withheld 8 of the 13 large HASM nationality totals of
// the seed's walk-through; as separate tables, none).
//   - vulnerability, alone (multi-valued);
//   - what the measure has of its own: assistance type; exploitation type (multi-valued,
//     alone); referral status, partner type and direction.

// table is one release table: its dimensions, at their finest (countries, not regions).
type table []cube.Dim

// tablesOf lists the release tables of measure.
func tablesOf(measure string) []table {
	where := table{cube.HostCountry}
	if meaningful[measure][cube.ReturnCountry] {
		where = table{cube.HostCountry, cube.ReturnCountry}
	}
	out := []table{where, {cube.Sex}, {cube.Nationality}, {cube.AgeBand}, {cube.Vulnerability}}
	switch {
	case meaningful[measure][cube.AssistanceType]:
		out = append(out, table{cube.AssistanceType})
	case meaningful[measure][cube.ExploitationType]:
		out = append(out, table{cube.ExploitationType})
	case meaningful[measure][cube.ReferralStatus]:
		out = append(out, table{cube.ReferralStatus, cube.PartnerType, cube.ReferralDirection})
	}
	return out
}

// finer maps the region dimensions to the country dimension they group.
var finer = map[cube.Dim]cube.Dim{cube.HostRegion: cube.HostCountry, cube.ReturnRegion: cube.ReturnCountry}

// fine is d at its finest: a region dimension's country dimension, any other d itself.
func fine(d cube.Dim) cube.Dim {
	if f, ok := finer[d]; ok {
		return f
	}
	return d
}

// blockDim reports whether d picks blocks (year, programme) rather than entries of a release.
func blockDim(d cube.Dim) bool { return d == cube.Year || d == cube.Programme }

// tableFor finds the release table that holds every dimension q groups or filters by, but the
// year and the programme. A question outside every table is INVALID_ARGUMENT on the first
// field that leaves the table of the ones before it; so is a filter by more than one value of
// a dimension (years and programmes excepted: they pick whole populations).
func tableFor(q aggregateQuery) (int, error) {
	tables := tablesOf(q.measure)
	type use struct {
		d     cube.Dim
		field string
	}
	var uses []use
	for i, d := range q.query.GroupBy {
		if !blockDim(d) {
			uses = append(uses, use{fine(d), "group_by[" + strconv.Itoa(i) + "]"})
		}
	}
	for _, f := range filterFields {
		vs, ok := q.query.Filter[f.dim]
		if !ok {
			continue
		}
		if len(vs) > 1 {
			// A set of values adds up entries of one line of a release; what the line's
			// withheld entries add up to together is its total less its released entries,
			// which may be small. A question names one node of each dimension (a country, a
			// region, or all), or groups by the dimension.
			return 0, rpcerr.InvalidArgument(rpcerr.FieldViolation(f.field,
				"exact counts filter by one value (one country, one region): group by "+dimName(f.dim)+
					" to see several, or use differential_privacy for a set"))
		}
		uses = append(uses, use{fine(f.dim), f.field})
	}
	candidates := make([]bool, len(tables))
	for i := range candidates {
		candidates[i] = true
	}
	for n, u := range uses {
		left := false
		for i, t := range tables {
			candidates[i] = candidates[i] && slices.Contains(t, u.d)
			left = left || candidates[i]
		}
		if !left {
			return 0, rpcerr.InvalidArgument(rpcerr.FieldViolation(u.field, fmt.Sprintf(
				"%s is not released together with %s: exact counts combine only dimensions of one of the tables %s; use differential_privacy for this question",
				dimName(u.d), dimName(uses[max(n-1, 0)].d), describeTables(tables))))
		}
	}
	for i, ok := range candidates {
		if ok {
			return i, nil
		}
	}
	return 0, nil // unreachable: no use leaves every table a candidate
}

// filterFields names the filters that narrow by a dimension of a release table, in the
// order of the request's fields.
var filterFields = []struct {
	dim   cube.Dim
	field string
}{
	{cube.HostCountry, "filter.host_countries"},
	{cube.HostRegion, "filter.host_regions"},
	{cube.ReturnCountry, "filter.return_countries"},
	{cube.ReturnRegion, "filter.return_regions"},
	{cube.Nationality, "filter.nationalities"},
}

// dimName is the contract's name of d ("HOST_COUNTRY").
func dimName(d cube.Dim) string {
	for a, c := range dims {
		if c == d {
			return enumcode.Code(a)
		}
	}
	return strconv.Itoa(int(d))
}

// describeTables renders tables as "[HOST_COUNTRY HOST_REGION] [SEX] …", regions
// named beside their countries.
func describeTables(tables []table) string {
	parts := make([]string, len(tables))
	for i, t := range tables {
		var names []string
		for _, d := range t {
			names = append(names, dimName(d))
			for r, c := range finer {
				if c == d {
					names = append(names, dimName(r))
				}
			}
		}
		parts[i] = "[" + strings.Join(names, " ") + "]"
	}
	return strings.Join(parts, " ")
}

// releaseKey names one protected release: a table of a block.
type releaseKey struct {
	measure   string
	year      int
	programme string
	table     int
}

// releases holds the protected releases computed so far, each with the version of its block
// it was computed at. Computing a release takes longer than a query should, so keepReleases
// computes them ahead, and again whenever their block changes; a query computes one itself
// only when it finds none, or one behind its block (a change keepReleases has not reached
// yet), so that every answer is of the counts of the moment, and answers agree.
type releases struct {
	mu    sync.Mutex
	slots map[releaseKey]*releaseSlot
}

// releaseSlot is one release and the cube version it was computed at.
type releaseSlot struct {
	// compute is held while the release is computed, so that it is computed once.
	compute sync.Mutex

	mu      sync.Mutex
	version uint64
	release *disclosure.Release
}

// slot returns the slot of key, made empty when new.
func (rs *releases) slot(key releaseKey) *releaseSlot {
	rs.mu.Lock()
	defer rs.mu.Unlock()
	if rs.slots == nil {
		rs.slots = map[releaseKey]*releaseSlot{}
	}
	slot, ok := rs.slots[key]
	if !ok {
		slot = &releaseSlot{}
		rs.slots[key] = slot
	}
	return slot
}

// current returns the slot's release and the version it is of.
func (sl *releaseSlot) current() (*disclosure.Release, uint64) {
	sl.mu.Lock()
	defer sl.mu.Unlock()
	return sl.release, sl.version
}

// release returns the current protected release of table t of block (measure, year,
// programme), computing it if keepReleases has not.
//
// A new release is protected afresh, not on top of the previous pattern: a year's counts grow
// from nothing, and a pattern kept from its first small weeks would withhold its large
// figures for ever. What two releases of one block, before and after a change, may tell in
// combination is about the change only (see internal/disclosure, "What is not protected").
func (s *Service) release(measure string, year int, programme string, t int) (*disclosure.Release, error) {
	key := releaseKey{measure, year, programme, t}
	slot := s.releases.slot(key)
	if r, v := slot.current(); r != nil && v == s.cube.Version(measure, year) {
		return r, nil
	}
	return s.recompute(slot, key)
}

// recompute computes the release of key into slot, unless it is there and current by the
// time the slot is free.
func (s *Service) recompute(slot *releaseSlot, key releaseKey) (*disclosure.Release, error) {
	slot.compute.Lock()
	defer slot.compute.Unlock()
	// The version is read before the counts: a change that lands meanwhile leaves the
	// release marked older than it is, and it is computed again.
	version := s.cube.Version(key.measure, key.year)
	if r, v := slot.current(); r != nil && v == version {
		return r, nil
	}
	cover, err := s.cover(key.measure, key.year, key.programme, tablesOf(key.measure)[key.table])
	if err != nil {
		return nil, err
	}
	r, err := disclosure.Protect(cover, DefaultK, nil)
	if err != nil {
		return nil, fmt.Errorf("analytics: protect %s %d: %w", key.measure, key.year, err)
	}
	slot.mu.Lock()
	slot.release, slot.version = r, version
	slot.mu.Unlock()
	return r, nil
}

// keepReleases keeps the releases current until ctx ends: every interval it recomputes those
// whose block changed, one at a time (one core at most, leaving the other to queries). At
// start it computes every block's releases, the latest years first, so that the first
// questions find them ready.
func (s *Service) keepReleases(ctx context.Context, interval time.Duration) error {
	t := time.NewTicker(interval)
	defer t.Stop()
	warm := true
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
		if warm && s.cube.Len() > 0 {
			warm = false
			s.warmReleases(ctx)
		}
		s.releases.mu.Lock()
		keys := make([]releaseKey, 0, len(s.releases.slots))
		for k := range s.releases.slots {
			keys = append(keys, k)
		}
		s.releases.mu.Unlock()
		for _, k := range keys {
			if ctx.Err() != nil {
				return nil
			}
			slot := s.releases.slot(k)
			if _, v := slot.current(); v == s.cube.Version(k.measure, k.year) {
				continue
			}
			if _, err := s.recompute(slot, k); err != nil {
				s.logger.ErrorContext(ctx, "analytics: release", "measure", k.measure, "year", k.year, middleware.ErrorAttr(err))
			}
		}
	}
}

// warmReleases computes the release of every table of every block that has none, the latest
// years first.
func (s *Service) warmReleases(ctx context.Context) {
	var keys []releaseKey
	for _, measure := range measures {
		bs, err := s.blocks(aggregateQuery{measure: measure, query: cube.Query{Measure: measure}})
		if err != nil {
			s.logger.ErrorContext(ctx, "analytics: release", "measure", measure, middleware.ErrorAttr(err))
			continue
		}
		for _, b := range bs {
			for t := range tablesOf(measure) {
				keys = append(keys, releaseKey{measure, b.year, b.programme, t})
			}
		}
	}
	slices.SortStableFunc(keys, func(a, b releaseKey) int { return b.year - a.year })
	for _, k := range keys {
		if ctx.Err() != nil {
			return
		}
		if _, err := s.recompute(s.releases.slot(k), k); err != nil {
			s.logger.ErrorContext(ctx, "analytics: release", "measure", k.measure, "year", k.year, middleware.ErrorAttr(err))
		}
	}
}

// cover is what table t of a block protects: the block's counts by every combination of the
// table's dimensions, and its persons.
func (s *Service) cover(measure string, year int, programme string, t table) (disclosure.Cover, error) {
	res, err := s.cube.Aggregate(cube.Query{Measure: measure, GroupBy: t, YearFrom: year, YearTo: year,
		Filter: map[cube.Dim][]string{cube.Programme: {programme}}})
	if err != nil {
		return disclosure.Cover{}, err
	}
	c := disclosure.Cover{Dimensions: make([]disclosure.Dimension, len(t)), Cells: make([]disclosure.Cell, len(res.Cells))}
	for i, d := range t {
		c.Dimensions[i].MultiValued = d.MultiValued()
		if d == cube.HostCountry || d == cube.ReturnCountry {
			c.Dimensions[i].GroupOf = regionOfCountry
		}
	}
	for i, cell := range res.Cells {
		c.Cells[i] = disclosure.Cell{Keys: cell.Keys, Count: cell.Count}
	}
	for _, total := range res.Totals {
		if !slices.ContainsFunc(total.Keys, func(k string) bool { return k != "" }) {
			c.Persons = total.Count
		}
	}
	return c, nil
}

// regionOfCountry is a country's region as the cube has it: its region code, UNKNOWN for a
// country outside every region, NONE for no return country.
func regionOfCountry(country string) (string, bool) {
	if country == cube.None {
		return cube.None, true
	}
	if r, ok := region.CodeOf(country); ok {
		return r, true
	}
	return cube.Unknown, true
}

// block is one population: a year and a programme of the measure asked.
type block struct {
	year      int
	programme string
}

// blocks lists the blocks q counts: its years and programmes with anyone in them.
func (s *Service) blocks(q aggregateQuery) ([]block, error) {
	bq := cube.Query{Measure: q.measure, GroupBy: []cube.Dim{cube.Year, cube.Programme},
		YearFrom: q.query.YearFrom, YearTo: q.query.YearTo}
	if ps, ok := q.query.Filter[cube.Programme]; ok {
		bq.Filter = map[cube.Dim][]string{cube.Programme: ps}
	}
	res, err := s.cube.Aggregate(bq)
	if err != nil {
		return nil, err
	}
	out := make([]block, 0, len(res.Cells))
	for _, c := range res.Cells {
		y, err := strconv.Atoi(c.Keys[0])
		if err != nil {
			return nil, fmt.Errorf("analytics: year %q: %w", c.Keys[0], err)
		}
		out = append(out, block{y, c.Keys[1]})
	}
	return out, nil
}

// answerKey is the keys of one number of an answer: one per grouped dimension ("" for one
// totalled), at most four.
type answerKey [4]string

// sum is one number of an answer on its way: the entries added so far.
type sum struct {
	count    int64
	parts    int
	withheld bool
}

// published answers q from the protected releases: every cell and every marginal total, each
// the sum of the entries it covers, withheld when one of them is.
func (s *Service) published(q aggregateQuery) (cells, totals []*analyticsv1.Cell, err error) {
	t, err := tableFor(q)
	if err != nil {
		return nil, nil, err
	}
	tab := tablesOf(q.measure)[t]
	bs, err := s.blocks(q)
	if err != nil {
		return nil, nil, err
	}
	rels := make([]*disclosure.Release, len(bs))
	for i, b := range bs {
		if rels[i], err = s.release(q.measure, b.year, b.programme, t); err != nil {
			return nil, nil, err
		}
	}
	n := len(q.query.GroupBy)
	a := newAnswerer(q, tab)
	for mask := (1 << n) - 1; mask >= 0; mask-- {
		// mask's bits are the grouped dimensions kept; the others are totalled.
		index := map[answerKey]int{}
		var keys []answerKey
		var sums []sum
		for i, b := range bs {
			a.add(mask, b, rels[i], func(k answerKey, count int64, withheld bool) {
				j, ok := index[k]
				if !ok {
					j = len(sums)
					index[k] = j
					keys, sums = append(keys, k), append(sums, sum{})
				}
				sm := &sums[j]
				sm.count += count
				sm.parts++
				sm.withheld = sm.withheld || withheld
			})
		}
		if mask == 0 && len(sums) == 0 {
			// The grand total is always given, zero when nobody is counted.
			keys, sums = append(keys, answerKey{}), append(sums, sum{})
		}
		backing := make([]analyticsv1.Cell, len(sums))
		for j, sm := range sums {
			c := &backing[j]
			if n > 0 {
				c.Keys = slices.Clone(keys[j][:n])
			}
			c.Count = sm.count
			if sm.withheld {
				c.Count, c.Suppressed = 0, true
				c.WithheldReason = analyticsv1.WithheldReason_WITHHELD_REASON_SUPPRESSED
				if sm.parts > 1 {
					c.WithheldReason = analyticsv1.WithheldReason_WITHHELD_REASON_PART_SUPPRESSED
				}
			}
			if mask == (1<<n)-1 {
				cells = append(cells, c)
			} else {
				totals = append(totals, c)
			}
		}
	}
	sortCells(cells)
	sortCells(totals)
	return cells, totals, nil
}

// answerer reads the entries of releases that a question's numbers add up.
type answerer struct {
	q   aggregateQuery
	tab table
	// at[i] is the position in the table of grouped dimension i (-1 for year and programme).
	at []int
	// filters per table position: the values (countries, or regions when region) let through.
	filters []entryFilter
}

type entryFilter struct {
	values map[string]bool
	region bool
}

func newAnswerer(q aggregateQuery, tab table) *answerer {
	a := &answerer{q: q, tab: tab, at: make([]int, len(q.query.GroupBy)), filters: make([]entryFilter, len(tab))}
	for i, d := range q.query.GroupBy {
		a.at[i] = slices.Index(tab, fine(d))
	}
	for d, vs := range q.query.Filter {
		j := slices.Index(tab, fine(d))
		if j < 0 {
			continue // the programme: blocks are chosen by it
		}
		set := map[string]bool{}
		for _, v := range vs {
			set[v] = true
		}
		_, isRegion := finer[d]
		a.filters[j] = entryFilter{values: set, region: isRegion}
	}
	return a
}

// add reads, from release r of block b, the entries that the numbers of the answer at mask
// (the grouped dimensions kept) add up, and gives fn each with its keys in the answer.
func (a *answerer) add(mask int, b block, r *disclosure.Release, fn func(keys answerKey, count int64, withheld bool)) {
	levels := make([]disclosure.Level, len(a.tab))
	for i, d := range a.q.query.GroupBy {
		j := a.at[i]
		if j < 0 || mask&(1<<i) == 0 {
			continue
		}
		l := disclosure.LevelValue
		if d != fine(d) {
			l = disclosure.LevelGroup
		}
		levels[j] = max(levels[j], l)
	}
	for j, f := range a.filters {
		switch {
		case f.values == nil:
		case f.region:
			levels[j] = max(levels[j], disclosure.LevelGroup)
		default:
			levels[j] = disclosure.LevelValue
		}
	}
	year := strconv.Itoa(b.year)
	var out answerKey
	r.Entries(levels, func(keys []disclosure.Key, count int64, withheld bool) {
		for j, f := range a.filters {
			if f.values == nil {
				continue
			}
			v := keys[j].Value
			if f.region && !keys[j].Group {
				v, _ = regionOfCountry(v)
			}
			if !f.values[v] {
				return
			}
		}
		for i, d := range a.q.query.GroupBy {
			switch {
			case mask&(1<<i) == 0:
				out[i] = ""
			case d == cube.Year:
				out[i] = year
			case d == cube.Programme:
				out[i] = b.programme
			case d != fine(d) && !keys[a.at[i]].Group:
				out[i], _ = regionOfCountry(keys[a.at[i]].Value)
			default:
				out[i] = keys[a.at[i]].Value
			}
		}
		fn(out, count, withheld)
	})
}
