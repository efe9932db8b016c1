package kernel

import (
	"bytes"
	"encoding/binary"
	"io"
	"net/netip"

	"github.com/sis-kernel/sissim/pkg/linux"
	"github.com/sis-kernel/sissim/pkg/netstack"
	"github.com/sis-kernel/sissim/pkg/vfs"
)

// genericIoctl implements the ioctl requests Linux answers for many kinds
// of file (do_vfs_ioctl and sock_ioctl): FIONBIO, FIOCLEX and FIONCLEX on
// any descriptor; FIONREAD on sockets, pipes and regular files; TIOCOUTQ
// on AF_UNIX sockets; and the SIOCGIF* interface requests on any socket.
// ok is false for a request it leaves to the file.
func (t *Task) genericIoctl(fd int, of *openFile, req, arg uint64) (ret uint64, ok bool, err error) {
	switch req {
	case linux.FIONBIO:
		var b [4]byte
		if err := t.copyIn(arg, b[:]); err != nil {
			return 0, true, err
		}
		nb := 0
		if leU32(b[:]) != 0 {
			nb = linux.O_NONBLOCK
		}
		of.flags = of.flags&^linux.O_NONBLOCK | nb
		if vf, isFile := of.f.(*vfs.File); isFile {
			vf.SetFlags(vf.Flags&^linux.O_NONBLOCK | nb)
		}
		return 0, true, nil
	case linux.FIOCLEX, linux.FIONCLEX:
		e, err := t.fds.entry(fd)
		if err != nil {
			return 0, true, err
		}
		e.cloexec = req == linux.FIOCLEX
		return 0, true, nil
	case linux.FIONREAD:
		n, ok, err := inQueue(of)
		if !ok {
			return 0, false, nil
		}
		if err != nil {
			return 0, true, err
		}
		return 0, true, t.putInt(arg, int32(n))
	}
	s, isSock := of.f.(socket)
	if !isSock {
		return 0, false, nil
	}
	if req == linux.TIOCOUTQ {
		u, isUnix := s.(*unixSocket)
		if !isUnix {
			return 0, true, linux.EOPNOTSUPP // netstack does not count unsent bytes
		}
		return 0, true, t.putInt(arg, int32(u.outq()))
	}
	return t.ifIoctl(req, arg)
}

// inQueue returns the bytes a read would find (FIONREAD); ok is false for
// a file without such a count.
func inQueue(of *openFile) (int, bool, error) {
	switch f := of.f.(type) {
	case socket:
		n, err := f.inq()
		return n, true, err
	case *pipeEnd:
		return f.p.n, true, nil
	case *vfs.File:
		a, err := f.Stat()
		if err != nil || a.Mode&vfs.ModeType != vfs.ModeRegular {
			return 0, false, nil
		}
		pos, err := f.Seek(0, io.SeekCurrent)
		if err != nil {
			return 0, true, fileErr(err)
		}
		return int(max(a.Size-pos, 0)), true, nil
	}
	return 0, false, nil
}

func (t *Task) putInt(addr uint64, v int32) error {
	var b [4]byte
	put32(b[:], uint32(v))
	return t.copyOut(addr, b[:])
}

// ifIoctl implements the SIOCGIF* requests on a socket: the machine's
// interfaces (lo, eth0) as netdevice(7) describes them.
func (t *Task) ifIoctl(req, arg uint64) (uint64, bool, error) {
	ifs := t.m.net.stack().Interfaces()
	if req == linux.SIOCGIFCONF {
		return 0, true, t.ifconf(ifs, arg)
	}
	switch req {
	case linux.SIOCGIFNAME, linux.SIOCGIFFLAGS, linux.SIOCGIFADDR, linux.SIOCGIFBRDADDR, linux.SIOCGIFNETMASK,
		linux.SIOCGIFMTU, linux.SIOCGIFHWADDR, linux.SIOCGIFINDEX, linux.SIOCGIFTXQLEN, linux.SIOCSIFFLAGS:
	case linux.SIOCSIFADDR, linux.SIOCSIFBRDADDR, linux.SIOCSIFNETMASK, linux.SIOCSIFMTU, linux.SIOCSIFHWADDR,
		linux.SIOCSIFNAME, linux.SIOCSIFTXQLEN:
		return 0, true, linux.EPERM // the network's configuration is fixed
	default:
		return 0, true, linux.ENOTTY
	}
	var ifr [linux.SizeofIfreq]byte
	if err := t.copyIn(arg, ifr[:]); err != nil {
		return 0, true, err
	}
	var it *netstack.Interface
	if req == linux.SIOCGIFNAME {
		idx := int(int32(leU32(ifr[linux.IFNAMSIZ:])))
		for i := range ifs {
			if ifs[i].Index == idx {
				it = &ifs[i]
			}
		}
	} else {
		name := ifr[:linux.IFNAMSIZ]
		if i := bytes.IndexByte(name, 0); i >= 0 {
			name = name[:i]
		}
		for i := range ifs {
			if ifs[i].Name == string(name) {
				it = &ifs[i]
			}
		}
	}
	if it == nil {
		return 0, true, linux.ENODEV
	}
	u := ifr[linux.IFNAMSIZ:]
	if req == linux.SIOCSIFFLAGS {
		if e := t.m.net.stack().SetFlags(it.Index, uint32(binary.LittleEndian.Uint16(u)), 0xffff); e != 0 {
			return 0, true, e
		}
		return 0, true, nil
	}
	clear(u)
	var v4 netip.Prefix
	for _, p := range it.Addrs {
		if p.Addr().Is4() {
			v4 = p
			break
		}
	}
	switch req {
	case linux.SIOCGIFNAME:
		clear(ifr[:linux.IFNAMSIZ])
		copy(ifr[:linux.IFNAMSIZ-1], it.Name)
	case linux.SIOCGIFFLAGS:
		put16(u, uint16(it.Flags))
	case linux.SIOCGIFINDEX:
		put32(u, uint32(it.Index))
	case linux.SIOCGIFMTU:
		put32(u, it.MTU)
	case linux.SIOCGIFTXQLEN:
		put32(u, netstack.TxQueueLen)
	case linux.SIOCGIFHWADDR:
		typ := uint16(linux.ARPHRD_ETHER)
		if len(it.HWAddr) == 0 {
			typ = linux.ARPHRD_LOOPBACK
		}
		put16(u, typ)
		copy(u[2:], it.HWAddr)
	case linux.SIOCGIFADDR, linux.SIOCGIFBRDADDR, linux.SIOCGIFNETMASK:
		if !v4.IsValid() {
			return 0, true, linux.EADDRNOTAVAIL
		}
		a := v4.Addr()
		switch req {
		case linux.SIOCGIFNETMASK:
			a = prefixMask(v4.Bits())
		case linux.SIOCGIFBRDADDR:
			a = netip.IPv4Unspecified() // lo has none
			if it.Flags&netstack.IFF_BROADCAST != 0 {
				a = netstack.Broadcast(v4)
			}
		}
		copy(u, netstack.MarshalSockaddr(linux.AF_INET, netip.AddrPortFrom(a, 0)))
	}
	return 0, true, t.copyOut(arg, ifr[:])
}

// ifconf implements SIOCGIFCONF: one ifreq with the IPv4 address of each
// interface that has one; a NULL buffer asks for the length needed.
func (t *Task) ifconf(ifs []netstack.Interface, arg uint64) error {
	var ifc [16]byte // struct ifconf { int ifc_len; (pad); char *ifc_buf; }
	if err := t.copyIn(arg, ifc[:]); err != nil {
		return err
	}
	size, buf := int(int32(leU32(ifc[:]))), le64(ifc[8:])
	var out []byte
	for _, it := range ifs {
		for _, p := range it.Addrs {
			if !p.Addr().Is4() {
				continue
			}
			var ifr [linux.SizeofIfreq]byte
			copy(ifr[:linux.IFNAMSIZ-1], it.Name)
			copy(ifr[linux.IFNAMSIZ:], netstack.MarshalSockaddr(linux.AF_INET, netip.AddrPortFrom(p.Addr(), 0)))
			out = append(out, ifr[:]...)
			break
		}
	}
	if buf == 0 {
		put32(ifc[:], uint32(len(out)))
		return t.copyOut(arg, ifc[:4])
	}
	n := 0
	for n+linux.SizeofIfreq <= len(out) && n+linux.SizeofIfreq <= size {
		n += linux.SizeofIfreq
	}
	if err := t.copyOut(buf, out[:n]); err != nil {
		return err
	}
	put32(ifc[:], uint32(n))
	return t.copyOut(arg, ifc[:4])
}

// prefixMask returns the IPv4 netmask of a prefix length.
func prefixMask(bits int) netip.Addr {
	m := ^uint32(0) << (32 - bits)
	if bits == 0 {
		m = 0
	}
	return netip.AddrFrom4([4]byte{byte(m >> 24), byte(m >> 16), byte(m >> 8), byte(m)})
}
