package sis_test

import (
	"net"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/sis-kernel/sissim/pkg/kernel"
	"github.com/sis-kernel/sissim/pkg/sis"
)

// Spans that cannot reach the collector by the end of the bounded wait
// are counted in a warning; the files the session wrote to the in-memory
// file system are named, and those of the image are not.
func TestShutdownTellsWhatIsLost(t *testing.T) {
	// A port that refuses connections: nothing is ever delivered.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := ln.Addr().String()
	require.NoError(t, ln.Close())

	m := bootSys(t, kernel.Config{}, nil)
	sh(t, m, "otelctl init --endpoint http://"+addr+"; otelctl enable-tracing; agentsys test-fs-list")
	sh(t, m, "autoctl export-decisions --output /tmp/decisions.json")
	require.Empty(t, filter(m.WrittenFiles(), "/etc/"), "the image's files are not written files")

	notes := m.Shutdown(20 * time.Millisecond)
	text := strings.Join(notes, "\n")
	lost := regexp.MustCompile(`warning: OTLP/HTTP export to http://` + regexp.QuoteMeta(addr) + `/v1/traces: (\d+) of (\d+) span\(s\) lost`).FindStringSubmatch(text)
	require.NotNil(t, lost, text)
	require.Equal(t, lost[2], lost[1], "every span is lost")
	require.NotEqual(t, "0", lost[1])
	require.Contains(t, text, "  /tmp/decisions.json (")
	require.Contains(t, text, "  /otel/spans.json (")
	require.NotContains(t, text, "/etc/")
}

// filter returns the files under dir.
func filter(fs []sis.WrittenFile, dir string) []sis.WrittenFile {
	var out []sis.WrittenFile
	for _, f := range fs {
		if strings.HasPrefix(f.Path, dir) {
			out = append(out, f)
		}
	}
	return out
}
