package netstack

import (
	"crypto/sha256"
	"encoding/binary"
	mrand "math/rand"
	"math/rand/v2"
	"sync"
)

// seededRNG is the stack's SecureRNG: a ChaCha8 stream keyed by the
// machine seed and a label, so that each stack draws its own sequence.
// gVisor reads it from several goroutines, hence the lock.
type seededRNG struct {
	mu sync.Mutex
	c  *rand.ChaCha8
}

func newSeededRNG(seed int64, label string) *seededRNG {
	return &seededRNG{c: rand.NewChaCha8(seedKey(seed, label))}
}

// Read implements io.Reader; it never fails.
func (r *seededRNG) Read(p []byte) (int, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.c.Read(p)
}

// lockedSource is the stack's math/rand Source (ephemeral ports, hash seeds,
// NUD jitter), seeded from the machine seed and safe for concurrent use as
// gVisor requires.
type lockedSource struct {
	mu  sync.Mutex
	src mrand.Source
}

func newLockedSource(seed int64, label string) *lockedSource {
	k := seedKey(seed, label)
	return &lockedSource{src: mrand.NewSource(int64(binary.LittleEndian.Uint64(k[:8])))}
}

func (s *lockedSource) Int63() int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.src.Int63()
}

func (s *lockedSource) Seed(seed int64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.src.Seed(seed)
}

// seedKey derives a 32-byte key from the machine seed and a label.
func seedKey(seed int64, label string) [32]byte {
	var b [8]byte
	binary.LittleEndian.PutUint64(b[:], uint64(seed))
	h := sha256.New()
	h.Write([]byte("sissim netstack\x00"))
	h.Write([]byte(label))
	h.Write([]byte{0})
	h.Write(b[:])
	var k [32]byte
	copy(k[:], h.Sum(nil))
	return k
}
