package casenote

import (
	"context"
	"errors"

	"github.com/google/uuid"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/passage-cm/passage/internal/database"
	"github.com/passage-cm/passage/internal/enumcode"
	"github.com/passage-cm/passage/internal/vault"
	intakev1 "github.com/passage-cm/passage/proto/gen/passage/intake/v1"
)

// Keys are the data keys of some of a case's people, which open what is sealed about them
// (notes, documents), and the erasures of those who have none.
type Keys struct {
	keys     map[uuid.UUID][]byte
	erasures map[uuid.UUID]vault.Erasure
}

// ReadKeys reads, through q, the data keys of subjects, people of a's case, and the erasures
// of those who have none (of the case's mission).
func ReadKeys(ctx context.Context, q database.Querier, a Access, subjects []uuid.UUID) (*Keys, error) {
	k := &Keys{}
	var err error
	if k.keys, err = vault.DataKeys(ctx, q, subjects); err != nil {
		return nil, err
	}
	var erased []uuid.UUID
	for _, id := range subjects {
		if _, ok := k.keys[id]; !ok {
			erased = append(erased, id)
		}
	}
	if len(erased) > 0 {
		if k.erasures, err = vault.Erasures(ctx, q, a.Case.GetMission(), erased); err != nil {
			return nil, err
		}
	}
	return k, nil
}

// errNotErased is a person with neither a data key nor an erasure record: the database
// refuses to delete an identity without its erasure, so it is a bug to report.
var errNotErased = errors.New("a person has no data key and no erasure record")

// Key returns subject's wrapped data key, or their erasure when they were erased.
func (k *Keys) Key(subject uuid.UUID) ([]byte, *intakev1.Erasure, error) {
	if key, ok := k.keys[subject]; ok {
		return key, nil, nil
	}
	e, ok := k.erasures[subject]
	if !ok {
		return nil, nil, errNotErased
	}
	return nil, &intakev1.Erasure{SubjectId: subject.String(), Reason: enumcode.Value[intakev1.ErasureReason](e.Reason),
		EraseTime: timestamppb.New(e.At)}, nil
}
