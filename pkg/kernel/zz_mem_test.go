package kernel

import (
	"testing"

	"github.com/sis-kernel/sissim"
)

func TestZZMem(t *testing.T) {
	m, err := Boot(BootConfig{Config: Config{Mem: 200 << 20}, Image: sissim.RootImage()})
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	t.Logf("used %d", m.MemStats().Used)
	m2, _ := New(Config{Mem: 200 << 20})
	defer m2.Close()
	t.Logf("used new %d", m2.MemStats().Used)
}
