package sis

import (
	"crypto/sha256"
	"encoding/binary"
	"io"
	"math/rand/v2"
	"sync"

	"github.com/sis-kernel/sissim/pkg/agentsys"
	"github.com/sis-kernel/sissim/pkg/otel"
)

// OpenTelemetry wiring: the tracer over the machine's VFS and clock, with
// trace and span ids from a generator seeded from the machine's seed (its
// own stream, so that tracing never changes the randomness guests see);
// the `otelctl` command; and spans for AgentSys operations.

// startOTel starts the tracer (DefaultServices). Tracing stays off until
// `otelctl enable-tracing`.
func startOTel(m *System) (string, error) {
	t, err := otel.New(otel.Config{
		FS:       m.FS().Afero(),
		Now:      m.Now,
		Epoch:    m.Epoch(),
		Rand:     m.serviceRand("otel"),
		HostName: m.Hostname(),
	})
	if err != nil {
		return "", err
	}
	m.svc.otel = t
	m.onClose(t.Close)
	if a := m.svc.agentsys; a != nil {
		a.Observe(func(r agentsys.Record) {
			s := t.Start("agentsys."+agentsys.OpName(r.Op), nil, r.Time,
				otel.Int("agentsys.seq", int64(r.Seq)),
				otel.Int("agentsys.agent", int64(r.Agent)),
				otel.Int("agentsys.op", int64(r.Op)),
				otel.Bool("agentsys.allowed", r.Allowed),
				otel.String("agentsys.result", r.Result))
			s.SetKind(otel.KindServer)
			if r.Result != "OK" {
				s.SetError(r.Result)
			}
			s.End(r.Time)
		})
	}
	cmd := t.ShellCommand()
	cmd.Feature = FeatureOTel
	return "", m.Shell().Register(cmd)
}

// Tracer returns the machine's tracer (nil when the otel feature is off).
func (m *System) Tracer() *otel.Tracer { return m.svc.otel }

// serviceRand returns a generator for a service, seeded from the machine's
// seed and the service's name: deterministic, and separate from the
// stream guests read (getrandom, AT_RANDOM).
func (m *System) serviceRand(name string) io.Reader {
	h := sha256.New()
	var seed [8]byte
	binary.LittleEndian.PutUint64(seed[:], m.Seed())
	h.Write(seed[:])
	h.Write([]byte("sissim/service/" + name))
	var key [32]byte
	copy(key[:], h.Sum(nil))
	return &lockedRand{r: rand.NewChaCha8(key)}
}

// lockedRand is a ChaCha8 stream safe for concurrent use.
type lockedRand struct {
	mu sync.Mutex
	r  *rand.ChaCha8
}

func (l *lockedRand) Read(b []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.r.Read(b)
}
