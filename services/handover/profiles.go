package handover

import (
	"context"
	"fmt"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/passage-cm/passage/internal/auth"
	"github.com/passage-cm/passage/internal/database"
	"github.com/passage-cm/passage/internal/enumcode"
	"github.com/passage-cm/passage/internal/idempotency"
	"github.com/passage-cm/passage/internal/mutation"
	handoverv1 "github.com/passage-cm/passage/proto/gen/passage/handover/v1"
)

// profileAggregate is the aggregate id audit records and events of a programme's profiles
// carry: derived from the programme's code, so that its versions share it.
func profileAggregate(p string) uuid.UUID {
	return uuid.NewSHA1(profileNamespace, []byte(p))
}

// profileNamespace names the hand-over profiles' aggregate ids (a fixed, random UUID).
var profileNamespace = uuid.MustParse("0c5e2a57-8d7b-4f0e-a3c9-6b1f4e8d2a90")

// errPublishedMeanwhile is a publication that lost the race for its version to another one
// of the same programme: nothing was written, and the same request may be sent again.
var errPublishedMeanwhile = status.Error(codes.Aborted, "another version of the profile was published meanwhile: retry")

// PublishHandoverProfile publishes the next version of a programme's profile (HQ). Versions are
// never changed afterwards (the role may not update the table): a hand-over keeps the version
// it was proposed with. The next version is read first and written with mutation.Creator; two
// racing publications cannot both claim it (the table's primary key), and the loser is told to
// retry.
func (s *Service) PublishHandoverProfile(ctx context.Context, req *handoverv1.PublishHandoverProfileRequest) (*handoverv1.PublishHandoverProfileResponse, error) {
	who, err := auth.Caller(ctx)
	if err != nil {
		return nil, err
	}
	if who.Mission != auth.MissionHQ {
		return nil, errHQOnly
	}
	key, err := idempotency.NewKey(s.keys, who.Mission, req.GetRequestId(), handoverv1.HandoverService_PublishHandoverProfile_FullMethodName, req)
	if err != nil {
		return nil, toStatus(err)
	}
	resp := &handoverv1.PublishHandoverProfileResponse{}
	q := s.db.Mission(who.Mission)
	if replayed, err := s.idem.Replay(ctx, q, key, resp); replayed || err != nil {
		return resp, toStatus(err)
	}
	programme := programmeCode(req.GetProgramme())
	var version int32
	if err := q.QueryRow(ctx, `SELECT coalesce(max(version), 0) + 1 FROM handover.profile WHERE programme = $1`,
		programme).Scan(&version); err != nil {
		return nil, fmt.Errorf("next profile version: %w", err)
	}
	p := &handoverv1.HandoverProfile{Programme: req.GetProgramme(), Version: version, Fields: req.GetFields(),
		PublishedBy: who.Subject, PublishTime: timestamppb.New(s.clock())}
	resp.Profile = p
	n := mutation.New{Who: who, Key: key, ID: profileAggregate(programme), Mission: who.Mission, Resp: resp}
	err = s.creator.Create(ctx, n, func(b *pgx.Batch) (proto.Message, error) {
		b.Queue(`INSERT INTO handover.profile (programme, version, fields, published_by, published_at)
VALUES ($1, $2, $3, $4, $5)`, programme, p.Version, enumcode.Codes(p.Fields), p.PublishedBy, p.PublishTime.AsTime())
		return &handoverv1.HandoverProfilePublished{Profile: p}, nil
	})
	if database.IsUniqueViolation(err, "profile_pkey") {
		return nil, errPublishedMeanwhile
	}
	if err != nil {
		return nil, toStatus(err)
	}
	return resp, nil
}

// ListHandoverProfiles lists the published versions, newest first per programme.
func (s *Service) ListHandoverProfiles(ctx context.Context, req *handoverv1.ListHandoverProfilesRequest) (*handoverv1.ListHandoverProfilesResponse, error) {
	who, err := auth.Caller(ctx)
	if err != nil {
		return nil, err
	}
	var programme *string
	if req.GetProgramme() != 0 {
		c := programmeCode(req.GetProgramme())
		programme = &c
	}
	rows, err := s.db.Mission(who.Mission).Query(ctx, `SELECT programme, version, fields, published_by, published_at
FROM handover.profile WHERE $1::text IS NULL OR programme = $1 ORDER BY programme, version DESC`, programme)
	if err != nil {
		return nil, fmt.Errorf("list profiles: %w", err)
	}
	profiles, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (*handoverv1.HandoverProfile, error) { return scanProfile(r) })
	if err != nil {
		return nil, err
	}
	return &handoverv1.ListHandoverProfilesResponse{Profiles: profiles}, nil
}
