package otel

import (
	"bytes"
	"encoding/hex"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/spf13/afero"
	"github.com/stretchr/testify/require"
	commonpb "go.opentelemetry.io/proto/otlp/common/v1"
	resourcepb "go.opentelemetry.io/proto/otlp/resource/v1"
	tracepb "go.opentelemetry.io/proto/otlp/trace/v1"
	"google.golang.org/protobuf/proto"
)

// TestEnvelopeMatchesProtojson: a batch line, assembled from spans encoded
// one at a time, is exactly protojson's encoding of the whole request
// (with OTLP's hex ids, integer enums and no white space).
func TestEnvelopeMatchesProtojson(t *testing.T) {
	fs := afero.NewMemMapFs()
	now := time.Duration(0)
	tr, err := New(Config{FS: fs, Now: func() time.Duration { return now }, Epoch: time.Unix(1_700_000_000, 0),
		Rand: rand.NewChaCha8([32]byte{2}), HostName: "sis"})
	require.NoError(t, err)
	require.NoError(t, tr.Enable())
	var spans []*tracepb.Span
	for i := 0; i < 5; i++ {
		p := tr.Start("parent \"quoted\" \\ \u00e9", nil, time.Duration(i), String("k", "v: a, b"), Float("f", 0.25), Bool("b", true))
		c := tr.Start("child", p, time.Duration(i+1), Int("i", int64(i)))
		c.AddEvent("ev", time.Duration(i+2), String("x", "{\"spanId\":\"AAAA\"}"))
		c.SetError("bad \xff byte")
		p.SetKind(KindServer)
		spans = append(spans, proto.Clone(c.s).(*tracepb.Span), proto.Clone(p.s).(*tracepb.Span))
		c.End(time.Duration(i + 3))
		p.End(time.Duration(i + 4))
	}
	// Ended spans carry their end time.
	for i := range spans {
		spans[i].EndTimeUnixNano = tr.unixNano(time.Duration(i/2 + 3 + i%2))
	}
	_, err = tr.Flush()
	require.NoError(t, err)
	got, err := afero.ReadFile(fs, SpansFile)
	require.NoError(t, err)

	whole := &tracepb.TracesData{ResourceSpans: []*tracepb.ResourceSpans{{
		Resource:   &resourcepb.Resource{Attributes: []*commonpb.KeyValue{String("service.name", ServiceName).kv(), String("host.name", "sis").kv()}},
		ScopeSpans: []*tracepb.ScopeSpans{{Scope: &commonpb.InstrumentationScope{Name: ScopeName}, Spans: spans}},
	}}}
	want, _, err := otlpJSON(nil, nil, whole)
	require.NoError(t, err)
	require.Equal(t, string(want)+"\n", string(got))

	// The ids are hex; the attribute text that looks like an id is kept.
	require.Contains(t, string(got), `"spanId":"`+hex.EncodeToString(spans[0].SpanId)+`"`)
	require.Contains(t, string(got), `"parentSpanId":"`+hex.EncodeToString(spans[1].SpanId)+`"`)
	require.Contains(t, string(got), `{\"spanId\":\"AAAA\"}`)
	require.Contains(t, string(got), `"kind":2`)
	require.Contains(t, string(got), "bad \uFFFD byte")
	req, err := DecodeRequest(bytes.TrimSpace(got))
	require.NoError(t, err)
	for i, s := range req.ResourceSpans[0].ScopeSpans[0].Spans {
		require.True(t, proto.Equal(spans[i], s), "span %d", i)
	}
}

func TestAppendOTLPWhitespace(t *testing.T) {
	got, err := appendOTLP(nil, []byte("{\"a\": \"x y\", \"traceId\": \"AQID\",\n \"b\":[1, 2]}"))
	require.NoError(t, err)
	require.Equal(t, `{"a":"x y","traceId":"010203","b":[1,2]}`, string(got))
	_, err = appendOTLP(nil, []byte(`{"spanId":"!!"}`))
	require.Error(t, err)
	_, err = appendOTLP(nil, []byte(`{"a":"open`))
	require.Error(t, err)
}

func TestDecodeRequestRejects(t *testing.T) {
	for _, in := range []string{
		``, `{`, `{"resourceSpans":[]} x`,
		`{"resourceSpans":[{"scopeSpans":[{"spans":[{"spanId":"zz"}]}]}]}`,
		`{"resourceSpans":[{"scopeSpans":[{"spans":[{"name":1}]}]}]}`,
	} {
		_, err := DecodeRequest([]byte(in))
		require.Error(t, err, in)
	}
}
