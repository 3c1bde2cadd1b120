package attack_test

import (
	"context"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/google/uuid"
	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/passage-cm/passage/internal/auth"
	"github.com/passage-cm/passage/internal/quota"
	"github.com/passage-cm/passage/internal/testserver"
	analyticsv1 "github.com/passage-cm/passage/proto/gen/passage/analytics/v1"
	intakev1 "github.com/passage-cm/passage/proto/gen/passage/intake/v1"
)

// slowRefill is a refill slow enough (one token every 1,000 s) that a test's counts do not
// depend on how fast the machine runs it.
const slowRefill = 0.001

// quotaServer runs every service with quotas on: the defaults but for limits.
func quotaServer(t *testing.T, limits map[quota.Class]quota.Limit) *testserver.Env {
	t.Helper()
	cfg := quota.DefaultConfig()
	for c, l := range limits {
		cfg.Limits.Set(c, l)
	}
	return testserver.Start(t, testserver.Options{Services: specs(), Quota: cfg})
}

// refusal is what a call refused for its quota carried: the class and the retry delay.
func refusal(t *testing.T, err error) (class string, retry bool) {
	t.Helper()
	for _, d := range status.Convert(err).Details() {
		switch d := d.(type) {
		case *errdetails.RetryInfo:
			retry = d.GetRetryDelay().AsDuration() > 0
		case *errdetails.QuotaFailure:
			class = d.GetViolations()[0].GetSubject()
		}
	}
	return class, retry
}

// TestFloodingCallerIsRefused: a caseworker listing cases in a loop is refused
// RESOURCE_EXHAUSTED, with a retry delay and the class, once its burst is spent; a colleague
// of the same mission and role, and the flooder's own writes, are not affected.
func TestFloodingCallerIsRefused(t *testing.T) {
	t.Parallel()
	env := quotaServer(t, map[quota.Class]quota.Limit{quota.Read: {Rate: slowRefill, Burst: 10}})
	client := intakev1.NewIntakeServiceClient(env.Conn)
	flooder := env.AsStaff(t, "staff-flooder", auth.RoleCaseworker, "NER")
	colleague := env.AsStaff(t, "staff-colleague", auth.RoleCaseworker, "NER")

	got := map[codes.Code]int{}
	var last error
	for range 60 {
		_, err := client.ListCases(flooder, &intakev1.ListCasesRequest{})
		got[status.Code(err)]++
		if err != nil {
			last = err
		}
	}
	if got[codes.OK] != 10 || got[codes.ResourceExhausted] != 50 {
		t.Fatalf("flooder: %v, want 10 OK and 50 RESOURCE_EXHAUSTED", got)
	}
	if class, retry := refusal(t, last); class != "class:read" || !retry {
		t.Errorf("refusal: QuotaFailure %q, RetryInfo %v; want class:read and a delay", class, retry)
	}
	for i := range 10 {
		if _, err := client.ListCases(colleague, &intakev1.ListCasesRequest{}); err != nil {
			t.Fatalf("colleague's call %d while the flooder is refused: %v", i, err)
		}
	}
	// The flooder's writes have their own bucket: a registration goes through (or is
	// refused for what it says, never for the reads before it).
	_, err := client.RegisterCase(flooder, &intakev1.RegisterCaseRequest{})
	if status.Code(err) == codes.ResourceExhausted {
		t.Errorf("the flooder's write was refused for its reads: %v", err)
	}
	if strings.Contains(env.Logs.String(), "staff-flooder") {
		t.Error("the server's log names the flooder")
	}
}

// TestAnalyticsCostBudget: an analyst asking for three-dimension tables is refused after
// fewer calls than one asking for grand totals, from the same budget.
func TestAnalyticsCostBudget(t *testing.T) {
	t.Parallel()
	env := quotaServer(t, map[quota.Class]quota.Limit{quota.Analytics: {Rate: slowRefill, Burst: 36}})
	client := analyticsv1.NewAnalyticsServiceClient(env.Conn)
	admitted := func(subject string, req *analyticsv1.AggregateRequest) int {
		ctx := env.AsStaff(t, subject, auth.RoleAnalyst, auth.MissionHQ)
		n := 0
		for range 40 {
			_, err := client.Aggregate(ctx, req)
			if status.Code(err) == codes.ResourceExhausted {
				if class, _ := refusal(t, err); class != "class:analytics" {
					t.Errorf("refusal of class %q, want class:analytics", class)
				}
				break
			}
			if err != nil {
				t.Fatalf("%s: %v", subject, err)
			}
			n++
		}
		return n
	}
	heavy := admitted("analyst-heavy", &analyticsv1.AggregateRequest{Measure: analyticsv1.Measure_MEASURE_PERSONS_RETURNED,
		GroupBy: []analyticsv1.Dimension{analyticsv1.Dimension_DIMENSION_YEAR, analyticsv1.Dimension_DIMENSION_HOST_REGION,
			analyticsv1.Dimension_DIMENSION_RETURN_REGION}})
	light := admitted("analyst-light", &analyticsv1.AggregateRequest{Measure: analyticsv1.Measure_MEASURE_PERSONS_RETURNED})
	if heavy != 4 || light != 18 {
		t.Errorf("admitted before refusal: %d three-dimension tables (cost 9), %d grand totals (cost 2); want 4 and 18 of a budget of 36", heavy, light)
	}
}

// TestPartnerGatewayQuota: the partner HTTP gateway goes through the same quotas: a partner's
// calls are of class partner (429 with the class and a retry delay once spent), and refused
// tokens are limited per the partner's own address, not the gateway's in-memory pipe.
func TestPartnerGatewayQuota(t *testing.T) {
	t.Parallel()
	env := quotaServer(t, map[quota.Class]quota.Limit{
		quota.Partner:         {Rate: slowRefill, Burst: 4},
		quota.Unauthenticated: {Rate: slowRefill, Burst: 3},
	})
	get := func(token string) (int, string) {
		req, err := http.NewRequestWithContext(context.Background(), http.MethodGet, env.GatewayURL+"/v1/referrals", nil)
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Authorization", "Bearer "+token)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(body)
	}

	partner := env.PartnerToken(t, uuid.NewString())
	statuses := map[int]int{}
	var body string
	for range 10 {
		code, b := get(partner)
		statuses[code]++
		if code == http.StatusTooManyRequests {
			body = b
		}
	}
	if statuses[http.StatusTooManyRequests] != 6 {
		t.Errorf("partner over HTTP: status codes %v, want 4 answered and 6 × 429", statuses)
	}
	if !strings.Contains(body, "class:partner") || !strings.Contains(body, "retryDelay") {
		t.Errorf("429 body %s: want the class and a retryDelay", body)
	}

	statuses = map[int]int{}
	for range 6 {
		code, _ := get("not-a-token")
		statuses[code]++
	}
	if statuses[http.StatusUnauthorized] != 3 || statuses[http.StatusTooManyRequests] != 3 {
		t.Errorf("refused tokens over HTTP: %v, want 3 × 401 then 3 × 429", statuses)
	}
	// The gRPC client reaches the server through another address (an in-memory pipe): its
	// unauthenticated budget is its own.
	_, err := intakev1.NewIntakeServiceClient(env.Conn).ListCases(testserver.WithToken(context.Background(), "not-a-token"), &intakev1.ListCasesRequest{})
	if status.Code(err) != codes.Unauthenticated {
		t.Errorf("refused token over gRPC: %v, want UNAUTHENTICATED", err)
	}
}
