#define _GNU_SOURCE
#include <stdio.h>
#include <fcntl.h>
#include <unistd.h>
#include <sys/syscall.h>
#include <sys/stat.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <sys/uio.h>
#include <sys/resource.h>
#include <sys/utsname.h>
#include <sys/sysinfo.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/timerfd.h>
#include <sys/signalfd.h>
#include <sys/time.h>
#include <sys/file.h>
#include <sys/xattr.h>
#include <sys/personality.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <sys/un.h>
#include <poll.h>
#include <signal.h>
#include <time.h>
#include <sched.h>
#include <linux/futex.h>
#include <string.h>
#include <stdlib.h>
#include <termios.h>
#include <sys/random.h>
#include <sys/prctl.h>
static void h(int s){}
int main(int argc, char **argv) {
  char buf[256];
  int fd = syscall(SYS_openat, AT_FDCWD, "/etc/hostname", O_RDONLY|O_CLOEXEC);
  syscall(SYS_read, fd, buf, 100);
  struct stat st; syscall(SYS_fstat, fd, &st);
  syscall(SYS_newfstatat, AT_FDCWD, "/etc/passwd", &st, 0);
  syscall(SYS_newfstatat, AT_FDCWD, "/nonexist", &st, AT_SYMLINK_NOFOLLOW);
  syscall(SYS_newfstatat, fd, "", &st, AT_EMPTY_PATH);
  syscall(SYS_lseek, fd, 0, SEEK_SET);
  syscall(SYS_pread64, fd, buf, 10, 0);
  syscall(SYS_close, fd);
  syscall(SYS_openat, AT_FDCWD, "/tmp/sg/out", O_WRONLY|O_CREAT|O_TRUNC, 0644);
  syscall(SYS_write, 3, "hello\tworld\n\001\002\0033\377x\"\\", 20);
  struct iovec iov[2] = {{"ab",2},{"cde",3}};
  syscall(SYS_writev, 3, iov, 2);
  syscall(SYS_fcntl, 3, F_GETFD); syscall(SYS_fcntl, 3, F_SETFD, FD_CLOEXEC); syscall(SYS_fcntl, 3, F_GETFL);
  syscall(SYS_fcntl, 3, F_SETFL, O_NONBLOCK|O_APPEND);
  syscall(SYS_fcntl, 3, F_DUPFD_CLOEXEC, 10);
  struct flock fl = {.l_type=F_WRLCK, .l_whence=SEEK_SET, .l_start=0, .l_len=10};
  syscall(SYS_fcntl, 3, F_SETLK, &fl);
  syscall(SYS_fcntl, 3, F_GETLK, &fl);
  syscall(SYS_flock, 3, LOCK_EX|LOCK_NB);
  syscall(SYS_dup3, 3, 7, O_CLOEXEC);
  syscall(SYS_ftruncate, 3, 4);
  syscall(SYS_fallocate, 3, 0, 0, 4096);
  syscall(SYS_fsync, 3);
  syscall(SYS_mkdirat, AT_FDCWD, "/tmp/sg/d", 0755);
  syscall(SYS_unlinkat, AT_FDCWD, "/tmp/sg/d", AT_REMOVEDIR);
  syscall(SYS_faccessat, AT_FDCWD, "/etc", R_OK|X_OK);
  syscall(SYS_faccessat, AT_FDCWD, "/etc", F_OK);
  syscall(SYS_fchmodat, AT_FDCWD, "/tmp/sg/out", 04755);
  syscall(SYS_readlinkat, AT_FDCWD, "/proc/self/exe", buf, sizeof buf);
  syscall(SYS_getcwd, buf, sizeof buf);
  syscall(SYS_mknodat, AT_FDCWD, "/tmp/sg/fifo", S_IFIFO|0600, 0);
  syscall(SYS_unlinkat, AT_FDCWD, "/tmp/sg/fifo", 0);
  syscall(SYS_renameat2, AT_FDCWD, "/tmp/sg/out", AT_FDCWD, "/tmp/sg/out2", RENAME_NOREPLACE);
  syscall(SYS_symlinkat, "out2", AT_FDCWD, "/tmp/sg/ln");
  syscall(SYS_linkat, AT_FDCWD, "/tmp/sg/out2", AT_FDCWD, "/tmp/sg/hl", 0);
  syscall(SYS_unlinkat, AT_FDCWD, "/tmp/sg/hl", 0);
  syscall(SYS_unlinkat, AT_FDCWD, "/tmp/sg/ln", 0);
  struct timespec ts[2] = {{1,2},{0,UTIME_NOW}};
  syscall(SYS_utimensat, AT_FDCWD, "/tmp/sg/out2", ts, 0);
  syscall(SYS_utimensat, AT_FDCWD, "/tmp/sg/out2", NULL, 0);
  void *p = (void*)syscall(SYS_mmap, 0, 8192, PROT_READ|PROT_WRITE, MAP_PRIVATE|MAP_ANONYMOUS, -1, 0);
  syscall(SYS_mprotect, p, 4096, PROT_READ);
  syscall(SYS_madvise, p, 4096, MADV_DONTNEED);
  syscall(SYS_munmap, p, 8192);
  syscall(SYS_brk, 0);
  struct timespec t; syscall(SYS_clock_gettime, CLOCK_MONOTONIC, &t);
  syscall(SYS_clock_getres, CLOCK_REALTIME, &t);
  struct timespec req={0,1000}; syscall(SYS_nanosleep, &req, NULL);
  syscall(SYS_clock_nanosleep, CLOCK_MONOTONIC, 0, &req, NULL);
  struct timeval tv; syscall(SYS_gettimeofday, &tv, NULL);
  struct rlimit rl; syscall(SYS_prlimit64, 0, RLIMIT_NOFILE, NULL, &rl);
  syscall(SYS_getrlimit, RLIMIT_STACK, &rl);
  struct utsname u; syscall(SYS_uname, &u);
  struct sysinfo si; syscall(SYS_sysinfo, &si);
  syscall(SYS_umask, 022);
  syscall(SYS_getrandom, buf, 16, GRND_NONBLOCK);
  struct winsize ws; syscall(SYS_ioctl, 1, TIOCGWINSZ, &ws);
  struct termios tio; syscall(SYS_ioctl, 1, TCGETS, &tio);
  syscall(SYS_ioctl, 0, FIONREAD, buf);
  int pfd[2]; syscall(SYS_pipe2, pfd, O_CLOEXEC);
  struct pollfd pf[2] = {{pfd[0], POLLIN, 0},{pfd[1], POLLOUT, 0}};
  struct timespec zt = {0,0};
  syscall(SYS_ppoll, pf, 2, &zt, NULL, 8);
  struct sigaction sa = {0}; sa.sa_handler = h; sa.sa_flags = SA_RESTART; sigemptyset(&sa.sa_mask); sigaddset(&sa.sa_mask, SIGUSR1);
  sigaction(SIGUSR2, &sa, NULL);
  sigset_t ss; sigemptyset(&ss); sigaddset(&ss, SIGINT); sigaddset(&ss, SIGRTMIN+1);
  sigprocmask(SIG_BLOCK, &ss, NULL);
  sigprocmask(SIG_SETMASK, &ss, &ss);
  syscall(SYS_kill, getpid(), SIGUSR2);
  syscall(SYS_tgkill, getpid(), getpid(), 0);
  syscall(SYS_getpid); syscall(SYS_getppid); syscall(SYS_getuid); syscall(SYS_gettid);
  syscall(SYS_setpgid, 0, 0); syscall(SYS_getpgid, 0); syscall(SYS_getsid, 0);
  gid_t gs[4]; syscall(SYS_getgroups, 4, gs);
  uid_t r,e,s; syscall(SYS_getresuid, &r, &e, &s);
  syscall(SYS_getpriority, PRIO_PROCESS, 0); syscall(SYS_setpriority, PRIO_PROCESS, 0, 5);
  syscall(SYS_personality, 0xffffffff);
  cpu_set_t cs; syscall(SYS_sched_getaffinity, 0, sizeof cs, &cs);
  syscall(SYS_set_tid_address, &r);
  syscall(SYS_prctl, PR_SET_NAME, "hello");
  syscall(SYS_prctl, PR_GET_DUMPABLE);
  int efd = syscall(SYS_eventfd2, 0, EFD_CLOEXEC|EFD_NONBLOCK);
  int ep = syscall(SYS_epoll_create1, EPOLL_CLOEXEC);
  struct epoll_event ev = {.events=EPOLLIN|EPOLLET, .data.u64=5};
  syscall(SYS_epoll_ctl, ep, EPOLL_CTL_ADD, efd, &ev);
  struct epoll_event evs[4]; syscall(SYS_epoll_pwait, ep, evs, 4, 0, NULL, 8);
  int tfd = syscall(SYS_timerfd_create, CLOCK_MONOTONIC, TFD_CLOEXEC);
  struct itimerspec its = {{0,0},{1,500}}; syscall(SYS_timerfd_settime, tfd, 0, &its, NULL);
  syscall(SYS_timerfd_gettime, tfd, &its);
  syscall(SYS_signalfd4, -1, &ss, 8, SFD_CLOEXEC);
  struct itimerval itv = {{0,0},{0,0}}; syscall(SYS_setitimer, ITIMER_REAL, &itv, NULL);
  timer_t tid; struct sigevent sev = {.sigev_notify=SIGEV_SIGNAL, .sigev_signo=SIGALRM};
  syscall(SYS_timer_create, CLOCK_MONOTONIC, &sev, &tid);
  int sk = syscall(SYS_socket, AF_INET, SOCK_STREAM|SOCK_CLOEXEC, IPPROTO_TCP);
  struct sockaddr_in sin = {.sin_family=AF_INET, .sin_port=htons(80), .sin_addr.s_addr=htonl(0x7f000001)};
  syscall(SYS_connect, sk, &sin, sizeof sin);
  int one=1; syscall(SYS_setsockopt, sk, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  int us = syscall(SYS_socket, AF_UNIX, SOCK_DGRAM, 0);
  struct sockaddr_un sun = {.sun_family=AF_UNIX, .sun_path="/tmp/sg/sock"};
  syscall(SYS_bind, us, &sun, sizeof sun);
  int sv[2]; syscall(SYS_socketpair, AF_UNIX, SOCK_STREAM, 0, sv);
  syscall(SYS_sendto, sv[0], "hi", 2, MSG_DONTWAIT, NULL, 0);
  syscall(SYS_recvfrom, sv[1], buf, 10, 0, NULL, NULL);
  syscall(SYS_shutdown, sv[0], SHUT_WR);
  syscall(SYS_setxattr, "/tmp/sg/out2", "user.a", "v", 1, XATTR_CREATE);
  syscall(SYS_getxattr, "/tmp/sg/out2", "user.a", buf, 10);
  syscall(SYS_listxattr, "/tmp/sg/out2", buf, 100);
  struct statx stx; syscall(SYS_statx, AT_FDCWD, "/etc/passwd", AT_STATX_SYNC_AS_STAT, STATX_BASIC_STATS, &stx);
  int status;
  pid_t c = syscall(SYS_clone, SIGCHLD, 0, 0, 0, 0);
  if (c == 0) { syscall(SYS_exit_group, 3); }
  syscall(SYS_wait4, -1, &status, 0, NULL);
  int fut = 0; syscall(SYS_futex, &fut, FUTEX_WAKE_PRIVATE, 1, NULL, NULL, 0);
  syscall(SYS_futex, &fut, FUTEX_WAIT_PRIVATE, 1, NULL, NULL, 0);
  char *av[] = {"/bin/true", "a", NULL}; char *ev2[] = {"A=1", "B=2", NULL};
  syscall(SYS_execve, "/bin/true", av, ev2);
  return 0;
}
