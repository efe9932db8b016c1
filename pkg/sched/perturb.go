package sched

import "math/rand/v2"

// Schedule perturbation, after rr's chaos mode and Hermit's: with a seed,
// the scheduler stops preferring the earliest deadline and picks among the
// runnable servers at random, and cuts slices to random lengths, often
// short ones, so that threads interleave at many more points. The
// decisions come from a generator seeded with the seed alone: the same
// seed gives the same interleaving again (a failing seed replays), and
// another seed gives another.

// shortSlice bounds the short slices perturbation favours, in ns (an
// instruction each on the deterministic clock).
const (
	shortSlice = 20_000
	longSlice  = 1_000_000
)

// Perturb sets the perturbation seed; 0 turns perturbation off.
func (s *Scheduler) Perturb(seed uint64) {
	if seed == 0 {
		s.rng = nil
		return
	}
	var key [32]byte
	for i := 0; i < 8; i++ {
		key[i] = byte(seed >> (8 * i))
	}
	key[31] = 's' // a stream of its own: not the guests' AT_RANDOM stream
	s.rng = rand.New(rand.NewChaCha8(key))
}

// Perturbing reports whether a seed perturbs the schedule.
func (s *Scheduler) Perturbing() bool { return s.rng != nil }

// Choose returns a number in [0, n) from the perturbation generator (n >
// 0); the kernel uses it for choices Linux leaves open, such as which
// futex waiter wakes first.
func (s *Scheduler) Choose(n int) int {
	if s.rng == nil || n <= 1 {
		return 0
	}
	return s.rng.IntN(n)
}

// pickRandom returns a runnable server chosen at random, or nil.
func (s *Scheduler) pickRandom() *Server {
	n := 0
	for _, srv := range s.servers {
		if srv.eligible() {
			n++
		}
	}
	if n == 0 {
		return nil
	}
	k := s.rng.IntN(n)
	for _, srv := range s.servers {
		if srv.eligible() {
			if k == 0 {
				return srv
			}
			k--
		}
	}
	return nil
}

// perturbSlice shortens a slice of d ns: seven times in eight to a short
// one (so threads interleave every few thousand instructions), else to at
// most longSlice.
func (s *Scheduler) perturbSlice(d uint64) uint64 {
	if s.rng.IntN(8) != 0 {
		d = min(d, shortSlice)
	} else {
		d = min(d, longSlice)
	}
	return 1 + s.rng.Uint64N(d)
}
