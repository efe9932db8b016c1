#define _GNU_SOURCE
#include <fcntl.h>
#include <unistd.h>
#include <signal.h>
#include <sys/syscall.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <sys/socket.h>
#include <sys/shm.h>
#include <sys/mman.h>
#include <linux/fs.h>
#include <linux/futex.h>
#include <mqueue.h>
#include <time.h>
#include <stdlib.h>
static void h(int s, siginfo_t *i, void *c){}
int main(){
  int fd = open("/tmp/sg/a.c", O_RDONLY);
  int fl; syscall(SYS_ioctl, fd, FS_IOC_GETFLAGS, &fl);
  syscall(SYS_ioctl, fd, 0x80089901, &fl);
  syscall(SYS_ioctl, fd, 0x9902, 0);
  int one = 1; syscall(SYS_ioctl, fd, FIONBIO, &one);
  syscall(SYS_ioctl, fd, FIOCLEX);
  syscall(SYS_fcntl, fd, F_GETFD);
  syscall(SYS_fcntl, fd, 1000, 5);
  char stk[8192]; stack_t ss = {.ss_sp = stk, .ss_size = sizeof stk, .ss_flags = 0};
  syscall(SYS_sigaltstack, &ss, NULL);
  syscall(SYS_prctl, PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
  syscall(SYS_prctl, PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0);
  syscall(SYS_prctl, PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0);
  int st; syscall(SYS_wait4, -1, &st, WNOHANG, NULL);
  struct timespec ts = {0, 0}, rem; syscall(SYS_clock_nanosleep, CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, &rem);
  int s = socket(AF_INET, SOCK_STREAM, 0); struct sockaddr sa; socklen_t sl = sizeof sa;
  syscall(SYS_getpeername, s, &sa, &sl);
  int f1 = 0, f2 = 0;
  syscall(SYS_futex, &f1, FUTEX_WAKE_OP_PRIVATE, 1, 1, &f2, FUTEX_OP(FUTEX_OP_SET, 0, FUTEX_OP_CMP_GT, 1));
  syscall(SYS_kill, getpid(), 100);
  syscall(SYS_mmap, 0, 4096, PROT_READ, MAP_SHARED|MAP_FIXED_NOREPLACE|MAP_POPULATE, fd, 4096);
  syscall(SYS_shmget, IPC_PRIVATE, 4096, IPC_CREAT|0600);
  struct sigaction sa2 = {0}; sa2.sa_sigaction = h; sa2.sa_flags = SA_SIGINFO|SA_ONSTACK|SA_NODEFER;
  syscall(SYS_rt_sigaction, SIGSEGV, &sa2, NULL, 8);
  struct sigevent sev = {0}; sev.sigev_notify = SIGEV_THREAD_ID; sev.sigev_signo = SIGRTMIN; sev._sigev_un._tid = getpid(); timer_t t;
  syscall(SYS_timer_create, CLOCK_REALTIME, &sev, &t);
  syscall(SYS_getrandom, stk, 0, 0);
  syscall(SYS_read, fd, stk, 0);
  syscall(SYS_readlinkat, AT_FDCWD, "/nonexistent", stk, 100);
  syscall(SYS_openat, AT_FDCWD, "/tmp", O_RDONLY|O_DIRECTORY|O_PATH);
  syscall(SYS_openat, AT_FDCWD, "/tmp", O_TMPFILE|O_RDWR, 0600);
  syscall(SYS_close, -1);
  syscall(SYS_exit_group, 0);
}
