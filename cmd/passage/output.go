package main

import (
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"

	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/genproto/googleapis/type/date"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"

	"github.com/passage-cm/passage/internal/enumcode"
)

// Output: protobuf JSON, error statuses, dates, enum values and counts for people to read.

// writeStatus prints an error status: code and message, then its details, one per line.
// The server never puts personal data into either.
func writeStatus(w io.Writer, st *status.Status) {
	fmt.Fprintf(w, "%s: %s\n", st.Code(), st.Message())
	for _, d := range st.Details() {
		switch d := d.(type) {
		case *errdetails.BadRequest:
			for _, v := range d.GetFieldViolations() {
				fmt.Fprintf(w, "  %s: %s\n", v.GetField(), v.GetDescription())
			}
		case *errdetails.PreconditionFailure:
			for _, v := range d.GetViolations() {
				fmt.Fprintf(w, "  %s %s: %s\n", v.GetType(), v.GetSubject(), v.GetDescription())
			}
		case *errdetails.ErrorInfo:
			fmt.Fprintf(w, "  reason: %s\n", d.GetReason())
			for _, k := range slices.Sorted(maps.Keys(d.GetMetadata())) {
				fmt.Fprintf(w, "  %s: %s\n", k, d.GetMetadata()[k])
			}
		case *errdetails.RetryInfo:
			fmt.Fprintf(w, "  retry after: %s\n", d.GetRetryDelay().AsDuration())
		case *errdetails.RequestInfo:
			fmt.Fprintf(w, "  request id: %s\n", d.GetRequestId())
		case proto.Message:
			fmt.Fprintf(w, "  detail: %s\n", proto.MessageName(d))
		case error:
			fmt.Fprintf(w, "  detail not understood: %v\n", d)
		}
	}
}

// formatCounts prints counts by name in the order of the names, "ACCEPTED 3, SENT 2", or
// "none": never Go's map syntax.
func formatCounts(counts map[string]int) string {
	if len(counts) == 0 {
		return "none"
	}
	parts := make([]string, 0, len(counts))
	for _, k := range slices.Sorted(maps.Keys(counts)) {
		parts = append(parts, fmt.Sprintf("%s %d", k, counts[k]))
	}
	return strings.Join(parts, ", ")
}

func writeJSON(w io.Writer, m proto.Message) error {
	b, err := protojson.MarshalOptions{Multiline: true, Indent: "  "}.Marshal(m)
	if err != nil {
		return err
	}
	_, err = fmt.Fprintf(w, "%s\n", b)
	return err
}

// enumName is a value's stored code in lower case, as the flags take it
// ("victim_of_trafficking").
func enumName[T enumcode.Enum](v T) string { return strings.ToLower(enumcode.Code(v)) }

// formatDate prints a full or partial date: "2026-03-14", "1990-05", "1990"; "" when unset.
func formatDate(d *date.Date) string {
	switch {
	case d.GetYear() == 0:
		return ""
	case d.GetMonth() == 0:
		return fmt.Sprintf("%04d", d.GetYear())
	case d.GetDay() == 0:
		return fmt.Sprintf("%04d-%02d", d.GetYear(), d.GetMonth())
	default:
		return fmt.Sprintf("%04d-%02d-%02d", d.GetYear(), d.GetMonth(), d.GetDay())
	}
}
