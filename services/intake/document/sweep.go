package document

import (
	"context"
	"errors"
	"log/slog"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/passage-cm/passage/internal/database"
	"github.com/passage-cm/passage/internal/middleware"
	"github.com/passage-cm/passage/internal/objectstore"
)

// Sweeper deletes from an ObjectStore's bucket the objects no readable document needs: those
// of a document whose person was erased (crypto-shredding made them unreadable already;
// deleting them gives the space back and leaves nothing for a stolen key to open), and those
// of an upload that never committed (older than a grace period, so that an upload still
// running is left alone). It works from the bucket's listing, not from a queue: what it
// fails to delete is still listed next time, so a failure is retried at the next sweep, and
// an erasure never waits for the object store. Sweeping twice at once (two replicas) does no
// harm: deleting is idempotent.
type Sweeper struct {
	db     *database.DB
	bucket *objectstore.Bucket
	grace  time.Duration
}

// DefaultSweepGrace is how old an object of no document must be before a sweep deletes it:
// far longer than any upload runs.
const DefaultSweepGrace = 24 * time.Hour

// sweepBatch is how many documents one transaction of a sweep looks up.
const sweepBatch = 500

// NewSweeper returns a sweeper of bucket, looking documents up through pool (connected as
// intake's role), deleting the objects of no document once they are grace old. Their age is
// told by this machine's clock against the store's modification times, so the clock is the
// real one, never a service's (test) clock.
func NewSweeper(pool *pgxpool.Pool, bucket *objectstore.Bucket, grace time.Duration) *Sweeper {
	return &Sweeper{db: database.NewDB(pool), bucket: bucket, grace: grace}
}

// Sweep makes one pass over the bucket and returns how many documents' objects it deleted.
// A key that is not a document's (MISSION/DOCUMENT-ID/INDEX) is left alone.
func (w *Sweeper) Sweep(ctx context.Context) (int, error) {
	var missions []string
	err := w.bucket.List(ctx, "", true, func(o objectstore.Object) error {
		if mission, ok := strings.CutSuffix(o.Key, "/"); ok {
			missions = append(missions, mission)
		}
		return nil
	})
	if err != nil {
		return 0, err
	}
	deleted := 0
	var errs []error
	for _, mission := range missions {
		var batch []uuid.UUID
		flush := func() error {
			n, err := w.sweepBatch(ctx, mission, batch)
			deleted += n
			batch = batch[:0]
			return err
		}
		err := w.bucket.List(ctx, mission+"/", true, func(o objectstore.Object) error {
			_, doc, ok := parsePrefix(o.Key)
			if !ok {
				return nil
			}
			if batch = append(batch, doc); len(batch) == sweepBatch {
				return flush()
			}
			return nil
		})
		if err == nil && len(batch) > 0 {
			err = flush()
		}
		errs = append(errs, err)
	}
	return deleted, errors.Join(errs...)
}

// sweepBatch deletes the objects of the documents docs of mission that are erased, and of
// those that do not exist once their objects are old enough.
func (w *Sweeper) sweepBatch(ctx context.Context, mission string, docs []uuid.UUID) (int, error) {
	erased := make(map[uuid.UUID]bool, len(docs)) // of the documents that exist
	err := w.db.MissionTx(ctx, mission, func(tx pgx.Tx) error {
		// Erased is known only from the erasure's record, of the case's mission: a person
		// whose vault row this mission cannot see is not taken for erased.
		rows, err := tx.Query(ctx, `SELECT d.document_id, EXISTS (SELECT FROM vault.erasure e JOIN intake."case" c ON c.mission = e.mission
  WHERE c.case_id = d.case_id AND e.subject_id = d.subject_id)
FROM intake.document d WHERE d.document_id = ANY($1) AND d.mission = $2`, docs, mission)
		if err != nil {
			return err
		}
		var id uuid.UUID
		var gone bool
		_, err = pgx.ForEachRow(rows, []any{&id, &gone}, func() error {
			erased[id] = gone
			return nil
		})
		return err
	})
	if err != nil {
		return 0, err
	}
	deleted := 0
	for _, doc := range docs {
		gone, exists := erased[doc]
		if exists && !gone {
			continue
		}
		if !exists {
			old, err := w.allOlder(ctx, documentPrefix(mission, doc), time.Now().Add(-w.grace))
			if err != nil {
				return deleted, err
			}
			if !old {
				continue
			}
		}
		if err := w.bucket.DeletePrefix(ctx, documentPrefix(mission, doc)); err != nil {
			return deleted, err
		}
		deleted++
	}
	return deleted, nil
}

// allOlder reports whether every object under prefix was last modified before t.
func (w *Sweeper) allOlder(ctx context.Context, prefix string, t time.Time) (bool, error) {
	old := true
	err := w.bucket.List(ctx, prefix, false, func(o objectstore.Object) error {
		old = old && o.Modified.Before(t)
		return nil
	})
	return old, err
}

// Run returns the sweeper's background work: a sweep every interval until ctx ends, each
// failure logged (its error names ids at most) and retried at the next.
func (w *Sweeper) Run(interval time.Duration, logger *slog.Logger) func(context.Context) error {
	return func(ctx context.Context) error {
		tick := time.NewTicker(interval)
		defer tick.Stop()
		for {
			n, err := w.Sweep(ctx)
			switch {
			case ctx.Err() != nil:
				return nil
			case err != nil:
				logger.WarnContext(ctx, "document object sweep failed; retried at the next", "deleted", n, middleware.ErrorAttr(err))
			case n > 0:
				logger.Info("document object sweep", "deleted", n)
			}
			select {
			case <-ctx.Done():
				return nil
			case <-tick.C:
			}
		}
	}
}
