package restauth_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log"
	"log/slog"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"

	"github.com/restauth/restauth"
	"github.com/restauth/restauth/memstore"
)

// telemetryEnv is a test env whose Service reports to in-memory OpenTelemetry readers.
type telemetryEnv struct {
	*testEnv
	metrics *sdkmetric.ManualReader
	spans   *tracetest.SpanRecorder
}

func newTelemetryEnv(t *testing.T, configure ...func(*restauth.Config)) *telemetryEnv {
	t.Helper()
	reader := sdkmetric.NewManualReader()
	spans := tracetest.NewSpanRecorder()
	e := newEnv(t, append([]func(*restauth.Config){func(c *restauth.Config) {
		c.Telemetry = restauth.TelemetryConfig{
			MeterProvider:  sdkmetric.NewMeterProvider(sdkmetric.WithReader(reader)),
			TracerProvider: sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(spans)),
		}
	}}, configure...)...)
	return &telemetryEnv{testEnv: e, metrics: reader, spans: spans}
}

// collect reads every metric the Service reported, by name.
func (e *telemetryEnv) collect() map[string]metricdata.Aggregation {
	e.t.Helper()
	var rm metricdata.ResourceMetrics
	require.NoError(e.t, e.metrics.Collect(context.Background(), &rm))
	out := map[string]metricdata.Aggregation{}
	for _, sm := range rm.ScopeMetrics {
		for _, m := range sm.Metrics {
			out[m.Name] = m.Data
		}
	}
	return out
}

// counts is a counter's values by the listed attributes' values, joined with "/".
func counts(t *testing.T, data metricdata.Aggregation, keys ...attribute.Key) map[string]int64 {
	t.Helper()
	sum, ok := data.(metricdata.Sum[int64])
	require.True(t, ok, "an int64 counter, got %T", data)
	out := map[string]int64{}
	for _, dp := range sum.DataPoints {
		var vals []string
		for _, k := range keys {
			v, _ := dp.Attributes.Value(k)
			vals = append(vals, v.Emit())
		}
		out[strings.Join(vals, "/")] += dp.Value
	}
	return out
}

// TestTelemetryLogins reads the metrics and spans after a login, a failed login and a
// throttled one, through the SDK's in-memory reader and span recorder.
func TestTelemetryLogins(t *testing.T) {
	t.Parallel()
	e := newTelemetryEnv(t, func(c *restauth.Config) {
		c.RateLimits.LoginFailedPerAccount = restauth.RateRule{Limit: 1, Window: time.Minute}
	})
	ctx := context.Background()
	const name, email = "ada-lovelace", "ada.secret@example.com"
	_, err := e.svc.Register(ctx, restauth.RegisterRequest{Username: name, Email: email, Password1: goodPassword, Password2: goodPassword})
	require.NoError(t, err)

	_, err = e.svc.Login(ctx, restauth.LoginRequest{Username: name, Password: goodPassword})
	require.NoError(t, err)
	_, err = e.svc.Login(ctx, restauth.LoginRequest{Username: name, Password: "wrong-" + goodPassword})
	require.ErrorIs(t, err, restauth.ErrInvalidCredentials)
	_, err = e.svc.Login(ctx, restauth.LoginRequest{Username: name, Password: goodPassword})
	require.ErrorIs(t, err, restauth.ErrThrottled)

	m := e.collect()
	assert.Equal(t, map[string]int64{"password/success": 1, "password/failure": 1, "password/throttled": 1},
		counts(t, m["restauth.logins"], "restauth.login.method", "restauth.login.result"))
	assert.Equal(t, map[string]int64{"password": 1}, counts(t, m["restauth.registrations"], "restauth.registration.method"))
	assert.Equal(t, map[string]int64{restauth.RuleLoginFailedAccount: 1}, counts(t, m["restauth.throttles"], "restauth.rate_limit.rule"))
	assert.Equal(t, map[string]int64{string(restauth.MailEmailConfirmation): 1}, counts(t, m["restauth.mail.sent"], "restauth.mail.kind"))

	// Registration and two logins checked a password; the throttled one hashed nothing.
	wait, ok := m["restauth.password_hash.wait.duration"].(metricdata.Histogram[float64])
	require.True(t, ok)
	require.Len(t, wait.DataPoints, 1)
	assert.Equal(t, uint64(3), wait.DataPoints[0].Count)
	queued, ok := m["restauth.password_hash.queued"].(metricdata.Gauge[int64])
	require.True(t, ok)
	require.Len(t, queued.DataPoints, 1)
	assert.Zero(t, queued.DataPoints[0].Value)

	store, ok := m["restauth.store.operation.duration"].(metricdata.Histogram[float64])
	require.True(t, ok)
	ops := map[string]uint64{}
	for _, dp := range store.DataPoints {
		op, _ := dp.Attributes.Value("restauth.store.operation")
		ops[op.Emit()] += dp.Count
	}
	assert.Equal(t, uint64(1), ops["CreateUser"])
	assert.Positive(t, ops["UserByUsername"])
	assert.Positive(t, ops["InTx"], "memstore is a Transactor: the wrapper keeps it one")

	// One span per Login, with the refusal's class as status; no span carries the name,
	// the address or the password anywhere.
	var logins []sdktrace.ReadOnlySpan
	for _, s := range e.spans.Ended() {
		if s.Name() == "restauth.Login" {
			logins = append(logins, s)
		}
		assert.Equal(t, "github.com/restauth/restauth", s.InstrumentationScope().Name)
		text := s.Name() + " " + s.Status().Description
		for _, kv := range s.Attributes() {
			text += " " + string(kv.Key) + "=" + kv.Value.Emit()
		}
		for _, ev := range s.Events() {
			text += " " + ev.Name
		}
		for _, secret := range []string{name, email, goodPassword} {
			assert.NotContains(t, text, secret, "span %s", s.Name())
		}
	}
	require.Len(t, logins, 3)
	assert.Equal(t, codes.Unset, logins[0].Status().Code)
	assert.Equal(t, sdktrace.Status{Code: codes.Error, Description: "invalid_credentials"}, logins[1].Status())
	assert.Equal(t, sdktrace.Status{Code: codes.Error, Description: "throttled"}, logins[2].Status())
	assert.Contains(t, logins[2].Attributes(), attribute.String("error.type", "throttled"))
}

// failingMailer refuses every mail.
type failingMailer struct{}

func (failingMailer) Send(context.Context, *restauth.Message) error {
	return errors.New("smtp: 451 try later")
}

// TestTelemetryMailFailed counts a failed send by kind.
func TestTelemetryMailFailed(t *testing.T) {
	t.Parallel()
	e := newTelemetryEnv(t, func(c *restauth.Config) { c.Mail.Mailer = failingMailer{} })
	_, err := e.svc.Register(context.Background(), restauth.RegisterRequest{Username: "bob", Email: "bob@example.com", Password1: goodPassword, Password2: goodPassword})
	require.NoError(t, err)
	m := e.collect()
	assert.Equal(t, map[string]int64{string(restauth.MailEmailConfirmation): 1}, counts(t, m["restauth.mail.failed"], "restauth.mail.kind"))
	assert.NotContains(t, m, "restauth.mail.sent")
}

// Send restauth's metrics and spans to the host's OpenTelemetry providers. README.md's
// "Metrics and traces" section quotes the lines between the README markers
// (TestREADMEQuotesTelemetryExample). A host that installed its providers globally
// (otel.SetMeterProvider, otel.SetTracerProvider) sets nothing: they are the default.
func ExampleTelemetryConfig() {
	reader := sdkmetric.NewManualReader() // in production: a Prometheus or OTLP exporter
	meters := sdkmetric.NewMeterProvider(sdkmetric.WithReader(reader))
	tracers := sdktrace.NewTracerProvider() // in production: with a span exporter

	// README:telemetry
	svc, err := restauth.New(restauth.Config{
		Store:   memstore.New(),
		Secret:  []byte("an-example-secret-of-at-least-32-bytes"),
		SiteURL: "https://example.com",
		Telemetry: restauth.TelemetryConfig{
			MeterProvider:  meters,  // default otel.GetMeterProvider()
			TracerProvider: tracers, // default otel.GetTracerProvider()
		},
	})
	// README:end
	if err != nil {
		log.Fatal(err)
	}
	ctx := context.Background()
	_, err = svc.Login(ctx, restauth.LoginRequest{Username: "nobody", Password: "guess"})
	fmt.Println("login:", errors.Is(err, restauth.ErrInvalidCredentials))

	var rm metricdata.ResourceMetrics
	if err := reader.Collect(ctx, &rm); err != nil {
		log.Fatal(err)
	}
	for _, m := range rm.ScopeMetrics[0].Metrics {
		if sum, ok := m.Data.(metricdata.Sum[int64]); ok && m.Name == "restauth.logins" {
			result, _ := sum.DataPoints[0].Attributes.Value("restauth.login.result")
			fmt.Println(m.Name, m.Unit, result.Emit(), sum.DataPoints[0].Value)
		}
	}
	// Output:
	// login: true
	// restauth.logins {login} failure 1
}

// TestTelemetryHashQueue reads the hash-queue gauge while a login waits for the only
// hashing slot, and the wait histogram's error.type for a check refused because the
// queue was full. Nothing here waits on the clock.
func TestTelemetryHashQueue(t *testing.T) {
	t.Parallel()
	e := newTelemetryEnv(t, func(c *restauth.Config) {
		c.Passwords.MaxConcurrentHashes = 1
		c.Passwords.MaxQueuedHashes = 1
		c.Passwords.MaxHashWait = -1
	})
	release, err := restauth.HoldHashSlot(e.svc)
	require.NoError(t, err)
	queued := make(chan error, 1)
	go func() {
		_, err := e.svc.Login(context.Background(), restauth.LoginRequest{Username: "nobody", Password: "x"})
		queued <- err
	}()
	for e.svc.HashQueueDepth() < 1 { // until the login above waits for the slot
		select {
		case err := <-queued:
			t.Fatalf("the login did not queue: %v", err)
		default:
			runtime.Gosched()
		}
	}
	queue, ok := e.collect()["restauth.password_hash.queued"].(metricdata.Gauge[int64])
	require.True(t, ok)
	require.Len(t, queue.DataPoints, 1)
	assert.Equal(t, int64(1), queue.DataPoints[0].Value)
	_, err = e.svc.Login(context.Background(), restauth.LoginRequest{Username: "nobody", Password: "y"})
	require.ErrorIs(t, err, restauth.ErrBusy, "the queue is full")
	release()
	require.ErrorIs(t, <-queued, restauth.ErrInvalidCredentials)

	wait, ok := e.collect()["restauth.password_hash.wait.duration"].(metricdata.Histogram[float64])
	require.True(t, ok)
	byType := map[string]uint64{}
	for _, dp := range wait.DataPoints {
		typ, _ := dp.Attributes.Value("error.type")
		byType[typ.Emit()] += dp.Count
	}
	// The held slot and the queued login got one; the refused login none.
	assert.Equal(t, map[string]uint64{"": 2, "busy": 1}, byType)
}

// BenchmarkAuthenticateTokenWithMetrics is BenchmarkAuthenticateToken with an SDK
// MeterProvider installed: what the store-call histogram costs the token path when a host
// collects metrics (with the default no-op providers it costs no allocation).
func BenchmarkAuthenticateTokenWithMetrics(b *testing.B) {
	svc, err := restauth.New(restauth.Config{Store: memstore.New(), Secret: testSecret, SiteURL: "http://bench", Passwords: cheapPasswords,
		Logger:    slog.New(slog.NewTextHandler(io.Discard, nil)),
		Telemetry: restauth.TelemetryConfig{MeterProvider: sdkmetric.NewMeterProvider(sdkmetric.WithReader(sdkmetric.NewManualReader()))}})
	require.NoError(b, err)
	ctx := context.Background()
	res, err := svc.Register(ctx, restauth.RegisterRequest{Username: "bench", Password1: goodPassword, Password2: goodPassword})
	require.NoError(b, err)
	b.ReportAllocs()
	for b.Loop() {
		if _, _, err := svc.AuthenticateToken(ctx, res.Token.Key); err != nil {
			b.Fatal(err)
		}
	}
}
