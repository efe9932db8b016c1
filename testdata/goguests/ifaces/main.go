// Command ifaces prints the machine's network interfaces and their
// addresses as Go's net package learns them (netlink RTM_GETLINK and
// RTM_GETADDR dumps, /proc/net/igmp and igmp6).
package main

import (
	"fmt"
	"net"
	"os"
)

func main() {
	ifs, err := net.Interfaces()
	if err != nil {
		fmt.Println("interfaces:", err)
		os.Exit(1)
	}
	for _, it := range ifs {
		fmt.Printf("%d %s mtu %d flags %v hw %q\n", it.Index, it.Name, it.MTU, it.Flags, it.HardwareAddr.String())
		addrs, err := it.Addrs()
		if err != nil {
			fmt.Println("addrs:", err)
			os.Exit(1)
		}
		for _, a := range addrs {
			fmt.Printf("  %s\n", a)
		}
		groups, err := it.MulticastAddrs()
		if err != nil {
			fmt.Println("multicast addrs:", err)
			os.Exit(1)
		}
		for _, g := range groups {
			fmt.Printf("  group %s\n", g)
		}
	}
	eth0, err := net.InterfaceByName("eth0")
	fmt.Println("by name:", eth0.Index, err)
	all, err := net.InterfaceAddrs()
	fmt.Println("all addresses:", len(all), err)
}
