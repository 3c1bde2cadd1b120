package webhook

import (
	"errors"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
)

// Delivery is one event to deliver to one partner.
type Delivery struct {
	// Mission owns the change the event reports; the delivery is that mission's row.
	Mission string
	// Partner is the receiving agency, whose endpoint and secret Endpoints returns.
	Partner uuid.UUID
	// OrderingKey groups deliveries that must arrive in order (a referral's id): a later one
	// is not sent until the earlier one is delivered or dead.
	OrderingKey uuid.UUID
	// Event is what is sent; its ID is the webhook-id of every attempt.
	Event Event
}

// Validate reports what is wrong with d, naming the field; Queue makes the transaction fail
// on the same faults, but a caller that validates first can answer INVALID_ARGUMENT.
func (d Delivery) Validate() error {
	switch {
	case d.Mission == "":
		return errors.New("webhook: delivery mission is required")
	case d.Partner == uuid.Nil:
		return errors.New("webhook: delivery partner is required")
	case d.OrderingKey == uuid.Nil:
		return errors.New("webhook: delivery ordering key is required")
	}
	_, err := d.Event.MarshalJSON()
	return err
}

// orderingLockClass is the first key of the advisory lock Queue takes per ordering key, so
// these locks share no key with any other two-key advisory lock ("wh" in ASCII).
const orderingLockClass = 0x7768

const (
	lockOrderingKey = `SELECT pg_advisory_xact_lock($1::int4, hashtext($2::text))`
	insertDelivery  = `INSERT INTO webhook.delivery (mission, partner_id, ordering_key, event_id, event_type, body)
VALUES ($1, $2, $3, $4, $5, $6)
ON CONFLICT (partner_id, event_id) DO NOTHING`
	// refuseInvalid fails the transaction of an invalid delivery with a fixed message: the
	// caller's change must not commit without its delivery, and the event's content must not
	// reach a log through the error.
	refuseInvalid = `DO $$ BEGIN RAISE EXCEPTION 'webhook: invalid delivery' USING ERRCODE = '22023'; END $$`
)

// Queue adds d to b, to commit or roll back with the business change and its outbox event in
// the same transaction. b must be sent through a DB that declared d.Mission: row-level
// security refuses a delivery of another mission. Queue takes a transaction-scoped lock on the
// ordering key before its insert, so a second transaction queueing for the same key numbers
// its delivery only after the first ended: deliveries of one key are numbered in commit
// order. Queueing the same event id for the same partner twice queues it once. An invalid
// delivery (see Validate) makes the batch fail.
func Queue(b *pgx.Batch, d Delivery) {
	body, err := d.Event.MarshalJSON()
	if err != nil || d.Validate() != nil {
		b.Queue(refuseInvalid)
		return
	}
	b.Queue(lockOrderingKey, orderingLockClass, d.Partner.String()+"/"+d.OrderingKey.String())
	b.Queue(insertDelivery, d.Mission, d.Partner, d.OrderingKey, d.Event.ID, d.Event.Type, body)
}
