package main

import (
	"flag"
	"fmt"
	"io"
	"strings"

	"github.com/sis-kernel/sissim/pkg/kernel"
	"github.com/sis-kernel/sissim/pkg/netstack"
)

// netFlags are the host-connectivity flags of run, boot and shell: both
// off by default (a machine is a sandbox).
type netFlags struct {
	publish publishFlag
	mode    *string
}

func addNetFlags(f *flag.FlagSet) *netFlags {
	n := &netFlags{}
	f.Var(&n.publish, "publish", "forward the host's [IP:]HOSTPORT (IP 127.0.0.1 by default; port 0 picks a free one, printed on stderr)\nto the guest's GUESTPORT: `[IP:]HOSTPORT:GUESTPORT[/udp]` (repeatable; host traffic is not deterministic)")
	n.mode = f.String("net", "none", "host connectivity `mode`: none (a sandbox), gateway (the gateway 10.0.2.2 reaches the host's 127.0.0.1),\nor nat (guests also reach any host address, as qemu's user network; host traffic is not deterministic)")
	return n
}

// natModes maps --net values to NAT modes.
var natModes = map[string]netstack.NATMode{"none": netstack.NATOff, "gateway": netstack.NATGateway, "nat": netstack.NATFull}

// apply sets the machine configuration's Publish and NAT.
func (n *netFlags) apply(cfg *kernel.Config) error {
	mode, ok := natModes[*n.mode]
	if !ok {
		return fmt.Errorf("--net %q: want none, gateway or nat", *n.mode)
	}
	cfg.NAT = mode
	cfg.Publish = append(cfg.Publish, n.publish...)
	return nil
}

// report tells where the published ports with a free host port (0)
// listen.
func (n *netFlags) report(m *kernel.Machine, w io.Writer) {
	addrs := m.PublishedAddrs()
	for i, p := range n.publish {
		if p.HostPort == 0 && i < len(addrs) {
			fmt.Fprintf(w, "sissim: published %s to guest port %d\n", addrs[i], p.GuestPort)
		}
	}
}

// publishFlag collects repeated --publish flags.
type publishFlag []netstack.Port

func (f *publishFlag) String() string {
	var s []string
	for _, p := range *f {
		s = append(s, p.String())
	}
	return strings.Join(s, ",")
}

func (f *publishFlag) Set(v string) error {
	p, err := netstack.ParsePort(v)
	if err != nil {
		return err
	}
	*f = append(*f, p)
	return nil
}
