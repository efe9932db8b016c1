#define _GNU_SOURCE
#include <stdio.h>
#include <fcntl.h>
#include <unistd.h>
#include <sys/syscall.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <sys/uio.h>
#include <sys/resource.h>
#include <sys/times.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/inotify.h>
#include <sys/sendfile.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <sys/un.h>
#include <signal.h>
#include <time.h>
#include <sched.h>
#include <string.h>
#include <linux/sched.h>
#include <sys/select.h>
#include <linux/capability.h>
#include <sys/mount.h>
int main(int argc, char **argv) {
  char buf[1024];
  int fd = syscall(SYS_openat, AT_FDCWD, "/tmp/sg", O_RDONLY|O_DIRECTORY);
  syscall(SYS_getdents64, fd, buf, sizeof buf);
  struct statfs sf; syscall(SYS_statfs, "/", &sf); syscall(SYS_fstatfs, fd, &sf);
  struct iovec iov[2] = {{buf,4},{buf+4,100}};
  int f2 = syscall(SYS_openat, AT_FDCWD, "/etc/hostname", O_RDONLY);
  syscall(SYS_readv, f2, iov, 2);
  syscall(SYS_sendfile, 1, f2, NULL, 10);
  off_t off = 0; syscall(SYS_sendfile, 1, f2, &off, 0);
  syscall(SYS_fadvise64, f2, 0, 0, POSIX_FADV_SEQUENTIAL);
  syscall(SYS_readahead, f2, 0, 100);
  struct rusage ru; syscall(SYS_getrusage, RUSAGE_SELF, &ru);
  struct tms tm; syscall(SYS_times, &tm);
  syscall(SYS_sched_yield);
  cpu_set_t cs; CPU_ZERO(&cs); CPU_SET(0,&cs); syscall(SYS_sched_setaffinity, 0, sizeof cs, &cs);
  struct sched_param sp; syscall(SYS_sched_getparam, 0, &sp); syscall(SYS_sched_getscheduler, 0);
  syscall(SYS_sched_get_priority_max, SCHED_FIFO);
  stack_t ss = {.ss_sp=buf, .ss_size=sizeof buf, .ss_flags=0}; stack_t os; syscall(SYS_sigaltstack, NULL, &os);
  sigset_t set; syscall(SYS_rt_sigpending, &set, 8);
  sigemptyset(&set); sigaddset(&set, SIGUSR1); sigprocmask(SIG_BLOCK, &set, NULL);
  struct timespec t0 = {0,0}; siginfo_t si;
  syscall(SYS_rt_sigtimedwait, &set, &si, &t0, 8);
  syscall(SYS_kill, getpid(), SIGUSR1);
  syscall(SYS_rt_sigtimedwait, &set, &si, &t0, 8);
  syscall(SYS_rt_sigqueueinfo, getpid(), SIGUSR1, &si);
  struct itimerval itv; syscall(SYS_getitimer, ITIMER_VIRTUAL, &itv);
  syscall(SYS_alarm, 0);
  timer_t tid; syscall(SYS_timer_create, CLOCK_REALTIME, NULL, &tid);
  struct itimerspec its = {{0,0},{5,0}}, oits; syscall(SYS_timer_settime, tid, 0, &its, &oits);
  syscall(SYS_timer_gettime, tid, &oits); syscall(SYS_timer_getoverrun, tid); syscall(SYS_timer_delete, tid);
  gid_t g[2]={0,1}; syscall(SYS_setgroups, 2, g);
  syscall(SYS_setresuid, -1, 0, -1); syscall(SYS_setuid, 0); syscall(SYS_setgid, 0);
  fd_set rf; FD_ZERO(&rf); FD_SET(0,&rf); FD_SET(f2, &rf); struct timespec pt = {0,0};
  syscall(SYS_pselect6, f2+1, &rf, NULL, NULL, &pt, NULL);
  int in = syscall(SYS_inotify_init1, IN_CLOEXEC);
  syscall(SYS_inotify_add_watch, in, "/tmp", IN_CREATE|IN_DELETE);
  void *p = mmap(0, 8192, PROT_READ|PROT_WRITE, MAP_PRIVATE|MAP_ANONYMOUS, -1, 0);
  p = (void*)syscall(SYS_mremap, p, 8192, 16384, MREMAP_MAYMOVE);
  syscall(SYS_msync, p, 4096, MS_SYNC); syscall(SYS_mlock, p, 4096); syscall(SYS_munlock, p, 4096);
  unsigned char vec[4]; syscall(SYS_mincore, p, 4096, vec);
  syscall(SYS_memfd_create, "mf", MFD_CLOEXEC);
  int sv[2]; socketpair(AF_UNIX, SOCK_STREAM, 0, sv);
  struct msghdr mh = {0}; struct iovec mi = {"xyz", 3}; mh.msg_iov=&mi; mh.msg_iovlen=1;
  syscall(SYS_sendmsg, sv[0], &mh, 0);
  struct iovec ri = {buf, 10}; struct msghdr rh = {0}; rh.msg_iov=&ri; rh.msg_iovlen=1;
  syscall(SYS_recvmsg, sv[1], &rh, 0);
  int ls = socket(AF_INET, SOCK_STREAM|SOCK_NONBLOCK, 0);
  struct sockaddr_in sin = {.sin_family=AF_INET, .sin_port=0, .sin_addr.s_addr=htonl(0x7f000001)};
  syscall(SYS_bind, ls, &sin, sizeof sin); syscall(SYS_listen, ls, 5);
  socklen_t sl = sizeof sin; syscall(SYS_getsockname, ls, &sin, &sl);
  int v; socklen_t vl = sizeof v; syscall(SYS_getsockopt, ls, SOL_SOCKET, SO_TYPE, &v, &vl);
  sl = sizeof sin; syscall(SYS_accept4, ls, &sin, &sl, SOCK_NONBLOCK);
  struct sockaddr_in6 s6 = {.sin6_family=AF_INET6, .sin6_port=htons(443)}; s6.sin6_addr.s6_addr[15]=1;
  int s6f = socket(AF_INET6, SOCK_DGRAM, 0); syscall(SYS_connect, s6f, &s6, sizeof s6);
  syscall(SYS_close_range, 100, ~0U, 0);
  syscall(SYS_unshare, 0);
  syscall(SYS_capget, NULL, NULL);
  struct __user_cap_header_struct ch = {_LINUX_CAPABILITY_VERSION_3, 0}; struct __user_cap_data_struct cd[2];
  syscall(SYS_capget, &ch, cd);
  syscall(SYS_getcpu, NULL, NULL, NULL);
  syscall(SYS_sethostname, "vm", 2);
  syscall(SYS_chdir, "/tmp"); syscall(SYS_fchdir, fd);
  syscall(SYS_umount2, "/nonexist", MNT_DETACH);
  syscall(SYS_mount, "none", "/nonexist", "tmpfs", MS_NOSUID|MS_NODEV, "size=1m");
  syscall(SYS_copy_file_range, f2, NULL, 1, NULL, 10, 0);
  syscall(SYS_membarrier, 0, 0, 0);
  syscall(SYS_set_robust_list, buf, 24);
  syscall(SYS_pidfd_open, getpid(), 0);
  syscall(SYS_ioprio_get, 1, 0);
  syscall(SYS_sync_file_range, f2, 0, 0, 1);
  syscall(SYS_exit_group, 0);
  return 0;
}
