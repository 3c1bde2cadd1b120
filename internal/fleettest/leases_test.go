package fleettest

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// cursorTables are the outbox consumers' cursor tables: one row per partition of each
// consumer, with its lease (see internal/outbox).
var cursorTables = []string{
	"returns.outbox_cursor", "trafficking.outbox_cursor", "hasm.outbox_cursor", "analytics_state.outbox_cursor",
	"referral.outbox_cursor", "followup.outbox_cursor", "handover.outbox_cursor", "intake.outbox_cursor",
}

// takeOverWait bounds the wait for the leases of the killed process to be taken over: they
// expire after the consumers' lease TTL (5 s by default), and a live replica takes them at its
// next balance.
const takeOverWait = 30 * time.Second

// partition is one partition of one consumer.
type partition struct {
	table, name string
	number      int
}

// lease is who held a partition's lease, and until when (by the database's clock).
type lease struct {
	holder string // "" when free
	until  time.Time
}

// leases reads every consumer's partitions and their leases.
func leases(t *testing.T, owner *pgx.Conn) map[partition]lease {
	t.Helper()
	out := map[partition]lease{}
	for _, table := range cursorTables {
		rows, err := owner.Query(t.Context(), `SELECT name, partition, coalesce(holder, ''),
  coalesce(lease_until, '-infinity') FROM `+table)
		if err != nil {
			t.Fatalf("%s: %v", table, err)
		}
		var p partition
		var l lease
		p.table = table
		if _, err := pgx.ForEachRow(rows, []any{&p.name, &p.number, &l.holder, &l.until}, func() error {
			out[p] = l
			return nil
		}); err != nil {
			t.Fatalf("%s: %v", table, err)
		}
	}
	return out
}

// checkTakenOver waits until every lease held when the process was killed (atKill, read after
// it was gone) is either renewed by its holder (a live process) or held by another holder,
// and fails when takeOverWait has passed. Holders that renewed none of their leases are the
// killed process's consumers: the test fails if there are none (the process held no work when
// it was killed), or if any of their partitions is not now leased to a live holder.
func checkTakenOver(t *testing.T, owner *pgx.Conn, atKill map[partition]lease) {
	t.Helper()
	start := time.Now()
	var now map[partition]lease
	var waiting []string
	for deadline := start.Add(takeOverWait); ; {
		now = leases(t, owner)
		waiting = waiting[:0]
		for p, was := range atKill {
			if is := now[p]; was.holder != "" && is.holder == was.holder && !is.until.After(was.until) {
				waiting = append(waiting, fmt.Sprintf("%s partition %d", p.name, p.number))
			}
		}
		if len(waiting) == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Errorf("%d leases held when the process was killed neither renewed nor taken over %v later: %s",
				len(waiting), takeOverWait, strings.Join(waiting, ", "))
			return
		}
		time.Sleep(100 * time.Millisecond) // the next poll
	}
	renewed := map[string]bool{}
	for p, is := range now {
		if was := atKill[p]; is.holder != "" && is.holder == was.holder && is.until.After(was.until) {
			renewed[is.holder] = true
		}
	}
	var taken []string
	consumers := map[string]bool{}
	for p, was := range atKill {
		if was.holder == "" || renewed[was.holder] {
			continue
		}
		consumers[p.name] = true
		taken = append(taken, fmt.Sprintf("%s/%d", p.name, p.number))
		if is := now[p]; is.holder == "" || is.holder == was.holder {
			t.Errorf("%s partition %d, leased by the killed process, is not leased to a live process", p.name, p.number)
		}
	}
	if len(taken) == 0 {
		t.Errorf("the killed process held no lease when it was killed (leases: %v)", atKill)
		return
	}
	t.Logf("the killed process held %d partitions of %d consumers, leased to the live processes %v after the load",
		len(taken), len(consumers), time.Since(start).Round(10*time.Millisecond))
}
