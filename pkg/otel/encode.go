package otel

import (
	"bytes"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"slices"

	coltracepb "go.opentelemetry.io/proto/otlp/collector/trace/v1"
	commonpb "go.opentelemetry.io/proto/otlp/common/v1"
	resourcepb "go.opentelemetry.io/proto/otlp/resource/v1"
	tracepb "go.opentelemetry.io/proto/otlp/trace/v1"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
)

// OTLP/JSON is the protobuf JSON mapping (protojson) with the changes the
// OTLP specification makes to it: trace and span ids are hex strings, not
// base64, and enum values are integers. Every span is encoded once, by
// protojson, when it ends; a batch is the request's envelope (resource
// and scope, also encoded by protojson, once per tracer) around the
// encoded spans, which is byte for byte what protojson gives for the
// whole request (TestEnvelopeMatchesProtojson).

// marshalOpts is protojson with OTLP's integer enums.
var marshalOpts = protojson.MarshalOptions{UseEnumNumbers: true}

// otlpJSON appends the OTLP/JSON form of msg to dst.
func otlpJSON(dst, scratch []byte, msg proto.Message) (out, scratchOut []byte, err error) {
	scratch, err = marshalOpts.MarshalAppend(scratch[:0], msg)
	if err != nil {
		return dst, scratch, err
	}
	dst, err = appendOTLP(dst, scratch)
	return dst, scratch, err
}

// envelope returns the text of a request before and after its spans.
func envelope(res *resourcepb.Resource, scope *commonpb.InstrumentationScope) (prefix, suffix []byte, err error) {
	prefix = append(prefix, `{"resourceSpans":[{"resource":`...)
	if prefix, _, err = otlpJSON(prefix, nil, res); err != nil {
		return nil, nil, err
	}
	prefix = append(prefix, `,"scopeSpans":[{"scope":`...)
	if prefix, _, err = otlpJSON(prefix, nil, scope); err != nil {
		return nil, nil, err
	}
	prefix = append(prefix, `,"spans":[`...)
	return prefix, []byte("]}]}]}\n"), nil
}

// idKeys are the fields OTLP/JSON writes as hex.
func isIDKey(tok []byte) bool {
	switch string(tok) {
	case `"traceId"`, `"spanId"`, `"parentSpanId"`:
		return true
	}
	return false
}

func isSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\n' || c == '\r' }

// stringEnd returns the index after the JSON string that starts at
// src[i] (a quote).
func stringEnd(src []byte, i int) (int, error) {
	for j := i + 1; j < len(src); j++ {
		switch src[j] {
		case '\\':
			j++
		case '"':
			return j + 1, nil
		}
	}
	return 0, errors.New("otel: unterminated string in protojson output")
}

// appendOTLP appends src, protojson output, to dst without the white
// space protojson adds at random (so that the bytes do not change from
// build to build) and with the id fields turned from base64 to hex.
func appendOTLP(dst, src []byte) ([]byte, error) {
	for i := 0; i < len(src); {
		c := src[i]
		if isSpace(c) {
			i++
			continue
		}
		if c != '"' {
			// Copy the run up to the next string or space.
			j := i + 1
			for j < len(src) && src[j] != '"' && !isSpace(src[j]) {
				j++
			}
			dst = append(dst, src[i:j]...)
			i = j
			continue
		}
		j, err := stringEnd(src, i)
		if err != nil {
			return dst, err
		}
		tok := src[i:j]
		dst = append(dst, tok...)
		i = j
		if !isIDKey(tok) {
			continue
		}
		// A key: the value follows the colon.
		for i < len(src) && (isSpace(src[i]) || src[i] == ':') {
			i++
		}
		if i >= len(src) || src[i] != '"' {
			return dst, fmt.Errorf("otel: %s is not a string", tok)
		}
		if j, err = stringEnd(src, i); err != nil {
			return dst, err
		}
		var raw [32]byte
		n, err := base64.StdEncoding.Decode(raw[:], src[i+1:j-1])
		if err != nil {
			return dst, fmt.Errorf("otel: %s: %w", tok, err)
		}
		dst = append(dst, ':', '"')
		dst = hex.AppendEncode(dst, raw[:n])
		dst = append(dst, '"')
		i = j
	}
	return dst, nil
}

// DecodeRequest decodes one OTLP/JSON request (a line of SpansFile, or a
// body the HTTP exporter posts), the way a collector does: ids must be
// hex, the rest follows the protobuf JSON mapping.
func DecodeRequest(data []byte) (*coltracepb.ExportTraceServiceRequest, error) {
	var v any
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	if err := dec.Decode(&v); err != nil {
		return nil, fmt.Errorf("otel: decode: %w", err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, errors.New("otel: decode: data after the request")
	}
	if err := hexIDsToBase64(v); err != nil {
		return nil, err
	}
	b, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	var req coltracepb.ExportTraceServiceRequest
	if err := protojson.Unmarshal(b, &req); err != nil {
		return nil, fmt.Errorf("otel: decode: %w", err)
	}
	return &req, nil
}

// hexIDsToBase64 rewrites the id fields of a decoded JSON value for
// protojson. Keys are visited in order, so that the error for a request
// with several bad ids is always the same.
func hexIDsToBase64(v any) error {
	switch v := v.(type) {
	case map[string]any:
		for _, k := range slices.Sorted(maps.Keys(v)) {
			x := v[k]
			if s, ok := x.(string); ok && (k == "traceId" || k == "spanId" || k == "parentSpanId") {
				b, err := hex.DecodeString(s)
				if err != nil {
					return fmt.Errorf("otel: decode: %s %q is not hex", k, s)
				}
				v[k] = base64.StdEncoding.EncodeToString(b)
				continue
			}
			if err := hexIDsToBase64(x); err != nil {
				return err
			}
		}
	case []any:
		for _, x := range v {
			if err := hexIDsToBase64(x); err != nil {
				return err
			}
		}
	}
	return nil
}

// encodeSpan appends the OTLP/JSON of one span to dst.
func (t *Tracer) encodeSpan(dst []byte, s *tracepb.Span) ([]byte, error) {
	var err error
	dst, t.scratch, err = otlpJSON(dst, t.scratch, s)
	return dst, err
}
