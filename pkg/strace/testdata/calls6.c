#define _GNU_SOURCE
#include <unistd.h>
#include <sys/syscall.h>
#include <sys/ipc.h>
#include <sys/sem.h>
#include <sys/shm.h>
#include <sys/msg.h>
#include <linux/sched/types.h>
#include <sys/eventfd.h>
struct mb { long t; char x[16]; };
int main(){
  int sid = syscall(SYS_semget, IPC_PRIVATE, 1, IPC_CREAT|0600);
  struct sembuf op[2] = {{0, 1, SEM_UNDO}, {0, -1, IPC_NOWAIT}};
  syscall(SYS_semop, sid, op, 2);
  syscall(SYS_semctl, sid, 0, IPC_RMID, 0);
  int shm = syscall(SYS_shmget, IPC_PRIVATE, 4096, IPC_CREAT|0600);
  syscall(SYS_shmctl, shm, IPC_RMID, 0);
  int q = syscall(SYS_msgget, IPC_PRIVATE, IPC_CREAT|0600);
  struct mb m = {1, "hello"}; syscall(SYS_msgsnd, q, &m, 5, 0);
  struct mb r; syscall(SYS_msgrcv, q, &r, 16, 0, IPC_NOWAIT);
  syscall(SYS_msgctl, q, IPC_RMID, 0);
  struct sched_attr sa; syscall(SYS_sched_getattr, 0, &sa, sizeof sa, 0);
  syscall(SYS_userfaultfd, 02000000);
  syscall(SYS_exit_group, 0);
}
