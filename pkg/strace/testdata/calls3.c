#define _GNU_SOURCE
#include <pthread.h>
#include <unistd.h>
#include <signal.h>
#include <sys/wait.h>
#include <sys/syscall.h>
#include <sys/ioctl.h>
#include <termios.h>
#include <stdlib.h>
#include <sys/resource.h>
static void *th(void *a){ syscall(SYS_getpid); return 0; }
int main(){
  pthread_t t; pthread_create(&t, 0, th, 0); pthread_join(t, 0);
  struct termios tio; ioctl(0, TCGETS, &tio); struct winsize ws; ioctl(0, TIOCGWINSZ, &ws);
  ioctl(0, TIOCGPGRP, &ws);
  int st;
  pid_t c = fork(); if (c == 0) { *(volatile int*)8 = 1; }
  wait4(c, &st, 0, 0);
  c = fork(); if (c == 0) { pause(); }
  kill(c, SIGTERM); wait4(c, &st, WUNTRACED, 0);
  struct rlimit rl = {1024, 2048}; setrlimit(RLIMIT_NOFILE, &rl);
  rl.rlim_cur = 4096; setrlimit(RLIMIT_CORE, &rl);
  siginfo_t si; waitid(P_ALL, 0, &si, WEXITED|WNOHANG);
  char *av[] = {"x", 0}; execve("/nonexistent", av, av);
  return 0;
}
