#define _GNU_SOURCE
#include <fcntl.h>
#include <unistd.h>
#include <signal.h>
#include <sched.h>
#include <sys/syscall.h>
#include <sys/socket.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <sys/select.h>
#include <sys/un.h>
#include <netinet/in.h>
#include <linux/netlink.h>
#include <time.h>
#include <string.h>
int main(){
  int efd = eventfd(1, 0);
  fd_set rf; FD_ZERO(&rf); FD_SET(efd, &rf);
  sigset_t m; sigemptyset(&m); sigaddset(&m, SIGINT);
  struct { sigset_t *s; size_t n; } data = {&m, 8};
  syscall(SYS_pselect6, efd+1, &rf, NULL, NULL, NULL, &data);
  int ep = epoll_create1(0); struct epoll_event ev = {.events = EPOLLIN, .data.u64 = 0x100000007ULL};
  epoll_ctl(ep, EPOLL_CTL_ADD, efd, &ev);
  struct epoll_event out[2]; syscall(SYS_epoll_pwait, ep, out, 2, -1, &m, 8);
  pid_t c = fork(); if (c == 0) _exit(7);
  siginfo_t si; memset(&si, 0, sizeof si); syscall(SYS_waitid, P_PID, c, &si, WEXITED, NULL);
  struct timespec ts[2] = {{0, UTIME_OMIT}, {5, 6}}; syscall(SYS_utimensat, AT_FDCWD, "/tmp/sg/a.c", ts, AT_SYMLINK_NOFOLLOW);
  struct sched_param sp = {0}; syscall(SYS_sched_setscheduler, 0, SCHED_BATCH, &sp);
  struct statx stx; syscall(SYS_statx, AT_FDCWD, "/dev/null", AT_SYMLINK_NOFOLLOW|AT_STATX_DONT_SYNC, STATX_TYPE|STATX_SIZE, &stx);
  struct stat st; syscall(SYS_newfstatat, AT_FDCWD, "/dev/null", &st, 0);
  int nl = socket(AF_NETLINK, SOCK_RAW|SOCK_CLOEXEC, NETLINK_ROUTE);
  struct sockaddr_nl snl = {.nl_family = AF_NETLINK}; bind(nl, (void*)&snl, sizeof snl);
  int ls = socket(AF_UNIX, SOCK_STREAM, 0); struct sockaddr_un su = {.sun_family = AF_UNIX}; strcpy(su.sun_path + 1, "abs");
  bind(ls, (void*)&su, 2 + 4); listen(ls, 1);
  int cs = socket(AF_UNIX, SOCK_STREAM, 0); connect(cs, (void*)&su, 2 + 4);
  struct sockaddr_un pa; socklen_t pl = sizeof pa; syscall(SYS_accept4, ls, &pa, &pl, SOCK_CLOEXEC);
  int ud = socket(AF_INET, SOCK_DGRAM, 0); struct sockaddr_in to = {.sin_family = AF_INET, .sin_port = htons(9), .sin_addr.s_addr = htonl(0x7f000001)};
  syscall(SYS_sendto, ud, "x", 1, 0, &to, sizeof to);
  struct timespec z = {0, 0}; syscall(SYS_rt_sigtimedwait, &m, NULL, &z, 8);
  syscall(SYS_ppoll, NULL, 0, &z, &m, 8);
  syscall(SYS_dup, 1000);
  syscall(SYS_getpgid, 1);
  syscall(SYS_exit_group, 0);
}
