package vfs

import "fmt"

// The network files of the default root's /etc: names glibc, busybox and
// Go resolve through (getaddrinfo, getservbyname, net.LookupPort).

// etcHosts is /etc/hosts: localhost and the machine's own name at its
// eth0 address (10.0.2.15, as in qemu's user network).
func etcHosts(hostname string) string {
	return fmt.Sprintf("127.0.0.1\tlocalhost\n::1\t\tlocalhost ip6-localhost ip6-loopback\n10.0.2.15\t%s\n", hostname)
}

// etcResolvConf is /etc/resolv.conf. The machine's network has no DNS
// server (nothing answers at qemu's 10.0.2.3), so there is no nameserver
// line: names resolve through /etc/hosts only.
const etcResolvConf = "# No nameserver: the machine's network has no DNS server (10.0.2.3 does\n" +
	"# not answer). Names resolve through /etc/hosts.\noptions timeout:1 attempts:1\n"

// etcServices is /etc/services: the common entries of Debian's netbase
// (IANA's assignments).
const etcServices = `# Network services, Internet style (a subset of Debian's netbase)
tcpmux		1/tcp				# TCP port service multiplexer
echo		7/tcp
echo		7/udp
discard		9/tcp		sink null
discard		9/udp		sink null
daytime		13/tcp
daytime		13/udp
chargen		19/tcp		ttytst source
chargen		19/udp		ttytst source
ftp-data	20/tcp
ftp		21/tcp
ssh		22/tcp				# SSH Remote Login Protocol
telnet		23/tcp
smtp		25/tcp		mail
time		37/tcp		timserver
time		37/udp		timserver
whois		43/tcp		nicname
domain		53/tcp				# Domain Name Server
domain		53/udp
bootps		67/udp
bootpc		68/udp
tftp		69/udp
gopher		70/tcp				# Internet Gopher
finger		79/tcp
http		80/tcp		www		# WorldWideWeb HTTP
kerberos	88/tcp		kerberos5 krb5 kerberos-sec	# Kerberos v5
kerberos	88/udp		kerberos5 krb5 kerberos-sec	# Kerberos v5
pop3		110/tcp		pop-3		# POP version 3
sunrpc		111/tcp		portmapper	# RPC 4.0 portmapper
sunrpc		111/udp		portmapper
auth		113/tcp		authentication tap ident
nntp		119/tcp		readnews untp	# USENET News Transfer Protocol
ntp		123/udp				# Network Time Protocol
imap2		143/tcp		imap		# Interim Mail Access P 2 and 4
snmp		161/tcp				# Simple Net Mgmt Protocol
snmp		161/udp
snmp-trap	162/tcp		snmptrap	# Traps for SNMP
snmp-trap	162/udp		snmptrap
ldap		389/tcp			# Lightweight Directory Access Protocol
ldap		389/udp
https		443/tcp				# http protocol over TLS/SSL
https		443/udp				# HTTP/3
submissions	465/tcp		ssmtp smtps urd # Submission over TLS [RFC8314]
syslog		514/udp
printer		515/tcp		spooler		# line printer spooler
submission	587/tcp				# Submission [RFC4409]
ldaps		636/tcp				# LDAP over SSL
ldaps		636/udp
rsync		873/tcp
imaps		993/tcp				# IMAP over SSL
pop3s		995/tcp				# POP-3 over SSL
socks		1080/tcp			# socks proxy server
openvpn		1194/tcp
openvpn		1194/udp
nfs		2049/tcp			# Network File System
nfs		2049/udp			# Network File System
mysql		3306/tcp
sip		5060/tcp			# Session Initiation Protocol
sip		5060/udp
xmpp-client	5222/tcp	jabber-client	# Jabber Client Connection
postgresql	5432/tcp	postgres	# PostgreSQL Database
amqp		5672/tcp
x11		6000/tcp	x11-0		# X Window System
redis		6379/tcp
http-alt	8080/tcp	webcache	# WWW caching service
tproxy		8081/tcp			# Transparent Proxy
git		9418/tcp			# Git Version Control System
`
