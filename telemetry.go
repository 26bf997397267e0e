package restauth

import (
	"cmp"
	"context"
	"errors"
	"time"

	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/metric"
	"go.opentelemetry.io/otel/trace"
)

// This file is restauth's OpenTelemetry instrumentation: the instruments, fed from the
// places every event already passes (the audit emission point for logins, sign-ups and
// throttles, the hash queue, the mail delivery, the store decorator in store_metrics.go),
// and the span helper the operations start with. With otel's default global providers
// the instruments are no-ops that allocate nothing; a span allocates its context even
// then, so spans are kept off the per-request token and session checks. The README's
// "Metrics and traces" lists every metric.

// instrumentationName names restauth's meter and tracer (the instrumentation scope).
const instrumentationName = "github.com/restauth/restauth"

// The attribute keys restauth's metrics and spans carry. None holds user input: methods,
// results, rules, mail kinds and store operations are restauth's own fixed names.
const (
	attrLoginMethod  = attribute.Key("restauth.login.method")
	attrLoginResult  = attribute.Key("restauth.login.result")
	attrSignupMethod = attribute.Key("restauth.registration.method")
	attrRule         = attribute.Key("restauth.rate_limit.rule")
	attrMailKind     = attribute.Key("restauth.mail.kind")
	attrStoreOp      = attribute.Key("restauth.store.operation")
	// attrErrorType is OpenTelemetry's error.type: a class of error, never its message.
	attrErrorType = attribute.Key("error.type")
)

// durationBuckets are the histogram boundaries, in seconds, of the store and hash-queue
// durations (OpenTelemetry's advice for database client durations): the SDK's default
// boundaries are meant for milliseconds and would put every store call in the first one.
var durationBuckets = []float64{0.0005, 0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5, 10}

// telemetry holds the Service's instruments and tracer.
type telemetry struct {
	meter         metric.Meter
	tracer        trace.Tracer
	logins        metric.Int64Counter
	registrations metric.Int64Counter
	throttles     metric.Int64Counter
	hashWait      metric.Float64Histogram
	mailSent      metric.Int64Counter
	mailFailed    metric.Int64Counter
	storeDuration metric.Float64Histogram
}

// newTelemetry builds the instruments from cfg's providers, otel's global ones when
// unset.
func newTelemetry(cfg TelemetryConfig) (*telemetry, error) {
	mp, tp := cfg.MeterProvider, cfg.TracerProvider
	if mp == nil {
		mp = otel.GetMeterProvider()
	}
	if tp == nil {
		tp = otel.GetTracerProvider()
	}
	m := mp.Meter(instrumentationName, metric.WithInstrumentationVersion(Version))
	t := &telemetry{meter: m, tracer: tp.Tracer(instrumentationName, trace.WithInstrumentationVersion(Version))}
	var errs []error
	counter := func(name, unit, desc string) metric.Int64Counter {
		c, err := m.Int64Counter(name, metric.WithUnit(unit), metric.WithDescription(desc))
		errs = append(errs, err)
		return c
	}
	histogram := func(name, desc string) metric.Float64Histogram {
		h, err := m.Float64Histogram(name, metric.WithUnit("s"), metric.WithDescription(desc),
			metric.WithExplicitBucketBoundaries(durationBuckets...))
		errs = append(errs, err)
		return h
	}
	t.logins = counter("restauth.logins", "{login}", "Login attempts, by method and result.")
	t.registrations = counter("restauth.registrations", "{registration}", "Accounts signed up, by method.")
	t.throttles = counter("restauth.throttles", "{throttle}", "Requests a rate limit refused, by rule.")
	t.mailSent = counter("restauth.mail.sent", "{mail}", "Mails handed to the Mailer, by kind.")
	t.mailFailed = counter("restauth.mail.failed", "{mail}", "Attempts at sending a mail that failed, by kind.")
	t.hashWait = histogram("restauth.password_hash.wait.duration", "Time password checks and hashes waited for a hashing slot.")
	t.storeDuration = histogram("restauth.store.operation.duration", "Duration of Store calls, by operation.")
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	return t, nil
}

// observeHashQueue registers the hash-queue gauge, which reads depth when a reader
// collects. It is registered once the hasher exists, so that no collection can run
// before it does. The registration lives as long as the meter: a Service is meant to
// live as long as its process, and the callback only reads an atomic counter.
func (t *telemetry) observeHashQueue(depth func() int) error {
	_, err := t.meter.Int64ObservableGauge("restauth.password_hash.queued", metric.WithUnit("{hash}"),
		metric.WithDescription("Password checks and hashes waiting for a hashing slot."),
		metric.WithInt64Callback(func(_ context.Context, o metric.Int64Observer) error {
			o.Observe(int64(depth()))
			return nil
		}))
	return err
}

// recordAudit counts what an audit event tells: a login's method and result, a sign-up,
// a throttle. Every operation emits its events through Service.audit, so counting here
// counts every login path, whichever dialect (or host) called it. It reads the event's
// typed fields, never Detail's text.
func (t *telemetry) recordAudit(ctx context.Context, e *AuditEvent) {
	switch e.Kind {
	case AuditSignedUp:
		t.registrations.Add(ctx, 1, metric.WithAttributes(attrSignupMethod.String(e.Method)))
	case AuditThrottled:
		t.throttles.Add(ctx, 1, metric.WithAttributes(attrRule.String(e.Rule)))
	}
	if method, result := loginCount(e); method != "" {
		t.logins.Add(ctx, 1, metric.WithAttributes(attrLoginMethod.String(method), attrLoginResult.String(result)))
	}
}

// loginCount is the restauth.logins method and result e counts under, "" for an event
// that is no login attempt. A login's method is its first factor (the second is the
// result's business); an event without a Method (every operation sets one) would
// count as "password". A re-authentication counts under "reauthenticate"
// whichever factor it confirmed, as its failures do.
func loginCount(e *AuditEvent) (method, result string) {
	switch e.Kind {
	case AuditLoginSucceeded:
		return cmp.Or(e.Method, AuditMethodPassword), "success"
	case AuditLoginFailed:
		result = "failure"
		if e.Reason == AuditReasonMFARequired {
			result = "mfa_required"
		}
		return cmp.Or(e.Method, AuditMethodPassword), result
	case AuditReauthenticated:
		return AuditMethodReauthenticate, "success"
	case AuditThrottled:
		// A refused attempt emits only AuditThrottled: it is counted as a login from its rule.
		return throttledLoginMethod(e.Rule), "throttled"
	}
	return "", ""
}

// throttledLoginMethod is the login method whose attempts rule counts, "" for a rule that
// guards something else.
func throttledLoginMethod(rule string) string {
	switch rule {
	case RuleLoginFailedIP, RuleLoginFailedAccount, RuleLoginFailedAccountDay:
		return AuditMethodPassword
	case RuleWebAuthnFailedIP:
		return AuditMethodPasskey
	}
	return ""
}

// recordHashWait records how long a caller waited for a hashing slot; err is the
// reason it got none.
func (t *telemetry) recordHashWait(wait time.Duration, err error) {
	if err == nil {
		t.hashWait.Record(context.Background(), wait.Seconds())
		return
	}
	t.hashWait.Record(context.Background(), wait.Seconds(), metric.WithAttributes(attrErrorType.String(errorType(busy(err)))))
}

// recordMail counts one attempt at sending a mail of kind; err is the Mailer's failure.
func (t *telemetry) recordMail(ctx context.Context, kind MailKind, err error) {
	opt := metric.WithAttributes(attrMailKind.String(string(kind)))
	if err != nil {
		t.mailFailed.Add(ctx, 1, opt)
		return
	}
	t.mailSent.Add(ctx, 1, opt)
}

// operation is the span of one Service operation, begun by startOperation.
type operation struct{ span trace.Span }

// startOperation begins the span of the Service operation name ("restauth.<name>");
// the operation defers end with its error. The span carries no attributes from the
// request: names, addresses and secrets stay out of traces. The token and session checks
// every request pays for (AuthenticateToken, Middleware) have no span: starting one
// allocates even with a no-op tracer, and the store-call durations cover them.
func (s *Service) startOperation(ctx context.Context, name string) (context.Context, operation) {
	ctx, span := s.tel.tracer.Start(ctx, "restauth."+name, trace.WithSpanKind(trace.SpanKindInternal))
	return ctx, operation{span}
}

// end ends the span, recording a failure as its status and error.type: the class of
// error only, since error messages may quote what the user sent.
func (o operation) end(errp *error) {
	if err := *errp; err != nil {
		typ := errorType(err)
		o.span.SetAttributes(attrErrorType.String(typ))
		o.span.SetStatus(codes.Error, typ)
	}
	o.span.End()
}

// errorType classifies err for error.type: restauth's sentinel decisions by name, other
// failures as "_OTHER" (OpenTelemetry's value for an unknown class).
func errorType(err error) string {
	for _, c := range errorClasses {
		if errors.Is(err, c.err) {
			return c.name
		}
	}
	var verr *ValidationError
	if errors.As(err, &verr) {
		return "validation"
	}
	return "_OTHER"
}

// errorClasses are the error.type values of restauth's sentinels, most specific first
// (a ValidationError may match one of them and is "validation" only otherwise).
var errorClasses = []struct {
	err  error
	name string
}{
	{ErrThrottled, "throttled"},
	{ErrInvalidCredentials, "invalid_credentials"},
	{ErrMFARequired, "mfa_required"},
	{ErrInvalidMFACode, "invalid_mfa_code"},
	{ErrEmailNotVerified, "email_not_verified"},
	{ErrBusy, "busy"},
	{ErrStoreTimeout, "store_timeout"},
	{ErrNotFound, "not_found"},
	{ErrConflict, "conflict"},
	{ErrInvalidCode, "invalid_code"},
	{ErrCodeExpired, "code_expired"},
	{ErrJWTInvalid, "jwt_invalid"},
	{ErrWebAuthnRefused, "webauthn_refused"},
	{ErrReauthenticationRequired, "reauthentication_required"},
	{context.DeadlineExceeded, "deadline_exceeded"},
	{context.Canceled, "canceled"},
}
