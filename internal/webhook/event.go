package webhook

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"regexp"
	"time"
)

// ContentType is the structured content mode's media type for one CloudEvent in JSON
// (CloudEvents 1.0 HTTP binding, section 3.2; JSON format, section 3).
const ContentType = "application/cloudevents+json; charset=utf-8"

const (
	specVersion     = "1.0"
	dataContentType = "application/json"
	// maxBody bounds an envelope: the scheme recommends payloads well under 20 KB, and thin
	// payloads (ids, status, links) are far smaller. The column checks the same bound.
	maxBody = 64 << 10
)

// Event is one CloudEvents 1.0 event. Data is the event's JSON payload, kept thin: ids, status
// and links, never personal data (the partner pulls what it may see through the API, where
// every access is audited).
type Event struct {
	// ID is the CloudEvents id and the webhook-id: unique per source, stable across retries.
	// Letters, digits, '-' and '_' only (the scheme forbids '.' in it), at most 64.
	ID string
	// Source is a URI-reference naming the producer, e.g. "/passage/referral/NER".
	Source string
	// Type is reverse-DNS, e.g. "org.iom.passage.referral.v1.sent".
	Type string
	// Subject is what the event is about within the source, e.g. the referral id.
	Subject string
	// Time is when the change happened (not when it was delivered).
	Time time.Time
	// Data is a JSON value.
	Data json.RawMessage
}

var eventID = regexp.MustCompile(`^[A-Za-z0-9_-]{1,64}$`)

// envelope is the JSON form: attribute names as the spec spells them, datacontenttype JSON so
// data is the JSON value itself (JSON format, section 3.1.1), time in RFC 3339.
type envelope struct {
	SpecVersion     string          `json:"specversion"`
	ID              string          `json:"id"`
	Source          string          `json:"source"`
	Type            string          `json:"type"`
	Subject         string          `json:"subject,omitempty"`
	Time            string          `json:"time,omitempty"`
	DataContentType string          `json:"datacontenttype"`
	Data            json.RawMessage `json:"data,omitempty"`
}

// Validate checks what the CloudEvents spec requires of the attributes, and that Data is JSON.
func (e Event) Validate() error {
	switch {
	case !eventID.MatchString(e.ID):
		return errors.New("webhook: event id must be 1 to 64 letters, digits, '-' or '_'")
	case e.Source == "":
		return errors.New("webhook: event source is required")
	case e.Type == "":
		return errors.New("webhook: event type is required")
	case len(e.Data) > 0 && !json.Valid(e.Data):
		return errors.New("webhook: event data is not JSON")
	}
	if _, err := url.Parse(e.Source); err != nil {
		return errors.New("webhook: event source is not a URI-reference")
	}
	return nil
}

// MarshalJSON encodes the event as a CloudEvents 1.0 JSON envelope.
func (e Event) MarshalJSON() ([]byte, error) {
	if err := e.Validate(); err != nil {
		return nil, err
	}
	env := envelope{SpecVersion: specVersion, ID: e.ID, Source: e.Source, Type: e.Type, Subject: e.Subject,
		DataContentType: dataContentType, Data: e.Data}
	if !e.Time.IsZero() {
		env.Time = e.Time.UTC().Format(time.RFC3339Nano)
	}
	b, err := json.Marshal(env)
	if err != nil {
		return nil, fmt.Errorf("webhook: encode event: %w", err)
	}
	if len(b) > maxBody {
		return nil, fmt.Errorf("webhook: event envelope is %d bytes, more than %d", len(b), maxBody)
	}
	return b, nil
}

// UnmarshalJSON decodes a CloudEvents 1.0 JSON envelope, as a partner's receiver would.
func (e *Event) UnmarshalJSON(b []byte) error {
	var env envelope
	if err := json.Unmarshal(b, &env); err != nil {
		return errors.New("webhook: not a CloudEvents JSON envelope")
	}
	if env.SpecVersion != specVersion {
		return errors.New("webhook: specversion is not 1.0")
	}
	out := Event{ID: env.ID, Source: env.Source, Type: env.Type, Subject: env.Subject, Data: env.Data}
	if env.Time != "" {
		t, err := time.Parse(time.RFC3339Nano, env.Time)
		if err != nil {
			return errors.New("webhook: time is not RFC 3339")
		}
		out.Time = t
	}
	if err := out.Validate(); err != nil {
		return err
	}
	*e = out
	return nil
}
