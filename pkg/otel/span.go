package otel

import (
	"strings"
	"time"

	commonpb "go.opentelemetry.io/proto/otlp/common/v1"
	tracepb "go.opentelemetry.io/proto/otlp/trace/v1"
)

// text makes s valid UTF-8 (protobuf strings must be; names and values
// may come from guests), replacing bad bytes with U+FFFD.
func text(s string) string { return strings.ToValidUTF8(s, "\uFFFD") }

// Attr is one span or event attribute.
type Attr struct {
	Key   string
	value *commonpb.AnyValue
}

// String returns a string attribute.
func String(k, v string) Attr {
	return Attr{k, &commonpb.AnyValue{Value: &commonpb.AnyValue_StringValue{StringValue: text(v)}}}
}

// Int returns an integer attribute.
func Int(k string, v int64) Attr {
	return Attr{k, &commonpb.AnyValue{Value: &commonpb.AnyValue_IntValue{IntValue: v}}}
}

// Float returns a floating-point attribute.
func Float(k string, v float64) Attr {
	return Attr{k, &commonpb.AnyValue{Value: &commonpb.AnyValue_DoubleValue{DoubleValue: v}}}
}

// Bool returns a boolean attribute.
func Bool(k string, v bool) Attr {
	return Attr{k, &commonpb.AnyValue{Value: &commonpb.AnyValue_BoolValue{BoolValue: v}}}
}

func (a Attr) kv() *commonpb.KeyValue { return &commonpb.KeyValue{Key: text(a.Key), Value: a.value} }

func kvs(attrs []Attr) []*commonpb.KeyValue {
	if len(attrs) == 0 {
		return nil
	}
	out := make([]*commonpb.KeyValue, len(attrs))
	for i, a := range attrs {
		out[i] = a.kv()
	}
	return out
}

// Kind is a span's kind.
type Kind = tracepb.Span_SpanKind

// Span kinds.
const (
	KindInternal = tracepb.Span_SPAN_KIND_INTERNAL
	KindServer   = tracepb.Span_SPAN_KIND_SERVER
)

// Span is a span being recorded. A nil *Span (returned while tracing is
// disabled) accepts every call and records nothing.
type Span struct {
	t *Tracer
	s *tracepb.Span
}

// Start begins a span named name at machine time start, as a child of
// parent (a new trace when parent is nil). It returns nil while tracing is
// disabled.
func (t *Tracer) Start(name string, parent *Span, start time.Duration, attrs ...Attr) *Span {
	if t == nil || !t.Enabled() {
		return nil
	}
	s := &tracepb.Span{
		Name:              text(name),
		Kind:              KindInternal,
		StartTimeUnixNano: t.unixNano(start),
		EndTimeUnixNano:   t.unixNano(start),
		Attributes:        kvs(attrs),
		SpanId:            make([]byte, 8),
	}
	if parent != nil && parent.s != nil {
		s.TraceId = parent.s.TraceId
		s.ParentSpanId = parent.s.SpanId
		t.ids(nil, s.SpanId)
	} else {
		s.TraceId = make([]byte, 16)
		t.ids(s.TraceId, s.SpanId)
	}
	return &Span{t: t, s: s}
}

// TraceID returns the span's trace id (nil for a nil span).
func (s *Span) TraceID() []byte {
	if s == nil {
		return nil
	}
	return s.s.TraceId
}

// SpanID returns the span's id (nil for a nil span).
func (s *Span) SpanID() []byte {
	if s == nil {
		return nil
	}
	return s.s.SpanId
}

// SetKind sets the span's kind.
func (s *Span) SetKind(k Kind) {
	if s != nil {
		s.s.Kind = k
	}
}

// SetAttributes adds attributes.
func (s *Span) SetAttributes(attrs ...Attr) {
	if s != nil {
		s.s.Attributes = append(s.s.Attributes, kvs(attrs)...)
	}
}

// AddEvent adds an event at machine time at.
func (s *Span) AddEvent(name string, at time.Duration, attrs ...Attr) {
	if s == nil {
		return
	}
	s.s.Events = append(s.s.Events, &tracepb.Span_Event{
		Name: text(name), TimeUnixNano: s.t.unixNano(at), Attributes: kvs(attrs),
	})
}

// SetError marks the span failed with a message.
func (s *Span) SetError(msg string) {
	if s != nil {
		s.s.Status = &tracepb.Status{Code: tracepb.Status_STATUS_CODE_ERROR, Message: text(msg)}
	}
}

// End finishes the span at machine time end and queues it for export.
// A span ends once; later calls do nothing.
func (s *Span) End(end time.Duration) {
	if s == nil || s.t == nil {
		return
	}
	s.s.EndTimeUnixNano = s.t.unixNano(end)
	if s.s.EndTimeUnixNano < s.s.StartTimeUnixNano {
		s.s.EndTimeUnixNano = s.s.StartTimeUnixNano
	}
	t := s.t
	s.t = nil
	t.record(s.s)
}
