package strace

// Code below lists, for each AArch64 system call number, how many
// arguments it takes and the strace(1) classes it belongs to (%file,
// %desc, ...), as strace's syscall table for the 64-bit generic ABI has
// them.

// baseSysents is indexed by system call number.
var baseSysents = map[uint64]struct {
	nargs int
	flags sysFlags
}{
	0:   {2, trMemory},                               // io_setup
	1:   {1, trMemory},                               // io_destroy
	2:   {3, 0},                                      // io_submit
	3:   {3, 0},                                      // io_cancel
	4:   {5, 0},                                      // io_getevents
	5:   {5, trFile},                                 // setxattr
	6:   {5, trFile},                                 // lsetxattr
	7:   {5, trDesc},                                 // fsetxattr
	8:   {4, trFile},                                 // getxattr
	9:   {4, trFile},                                 // lgetxattr
	10:  {4, trDesc},                                 // fgetxattr
	11:  {3, trFile},                                 // listxattr
	12:  {3, trFile},                                 // llistxattr
	13:  {3, trDesc},                                 // flistxattr
	14:  {2, trFile},                                 // removexattr
	15:  {2, trFile},                                 // lremovexattr
	16:  {2, trDesc},                                 // fremovexattr
	17:  {2, trFile},                                 // getcwd
	18:  {3, 0},                                      // lookup_dcookie
	19:  {2, trDesc},                                 // eventfd2
	20:  {1, trDesc},                                 // epoll_create1
	21:  {4, trDesc},                                 // epoll_ctl
	22:  {6, trDesc},                                 // epoll_pwait
	23:  {1, trDesc},                                 // dup
	24:  {3, trDesc},                                 // dup3
	25:  {3, trDesc},                                 // fcntl
	26:  {1, trDesc},                                 // inotify_init1
	27:  {3, trDesc | trFile},                        // inotify_add_watch
	28:  {2, trDesc},                                 // inotify_rm_watch
	29:  {3, trDesc},                                 // ioctl
	30:  {3, 0},                                      // ioprio_set
	31:  {2, 0},                                      // ioprio_get
	32:  {2, trDesc},                                 // flock
	33:  {4, trDesc | trFile},                        // mknodat
	34:  {3, trDesc | trFile},                        // mkdirat
	35:  {3, trDesc | trFile},                        // unlinkat
	36:  {3, trDesc | trFile},                        // symlinkat
	37:  {5, trDesc | trFile},                        // linkat
	38:  {4, trDesc | trFile},                        // renameat
	39:  {2, trFile},                                 // umount2
	40:  {5, trFile},                                 // mount
	41:  {2, trFile},                                 // pivot_root
	42:  {3, 0},                                      // nfsservctl
	43:  {2, trFile | trStatfs | trStatfsLike},       // statfs
	44:  {2, trDesc | trFstatfs | trStatfsLike},      // fstatfs
	45:  {2, trFile},                                 // truncate
	46:  {2, trDesc},                                 // ftruncate
	47:  {4, trDesc},                                 // fallocate
	48:  {3, trDesc | trFile},                        // faccessat
	49:  {1, trFile},                                 // chdir
	50:  {1, trDesc},                                 // fchdir
	51:  {1, trFile},                                 // chroot
	52:  {2, trDesc},                                 // fchmod
	53:  {3, trDesc | trFile},                        // fchmodat
	54:  {5, trDesc | trFile},                        // fchownat
	55:  {3, trDesc},                                 // fchown
	56:  {4, trDesc | trFile},                        // openat
	57:  {1, trDesc},                                 // close
	58:  {0, 0},                                      // vhangup
	59:  {2, trDesc},                                 // pipe2
	60:  {4, trFile},                                 // quotactl
	61:  {3, trDesc},                                 // getdents64
	62:  {3, trDesc},                                 // lseek
	63:  {3, trDesc},                                 // read
	64:  {3, trDesc},                                 // write
	65:  {3, trDesc},                                 // readv
	66:  {3, trDesc},                                 // writev
	67:  {4, trDesc},                                 // pread64
	68:  {4, trDesc},                                 // pwrite64
	69:  {4, trDesc},                                 // preadv
	70:  {4, trDesc},                                 // pwritev
	71:  {4, trDesc | trNetwork},                     // sendfile
	72:  {6, trDesc},                                 // pselect6
	73:  {5, trDesc},                                 // ppoll
	74:  {4, trDesc | trSignal},                      // signalfd4
	75:  {4, trDesc},                                 // vmsplice
	76:  {6, trDesc},                                 // splice
	77:  {4, trDesc},                                 // tee
	78:  {4, trDesc | trFile},                        // readlinkat
	79:  {4, trDesc | trFile | trFstat | trStatLike}, // newfstatat
	80:  {2, trDesc | trFstat | trStatLike},          // fstat
	81:  {0, 0},                                      // sync
	82:  {1, trDesc},                                 // fsync
	83:  {1, trDesc},                                 // fdatasync
	84:  {4, trDesc},                                 // sync_file_range
	85:  {2, trDesc},                                 // timerfd_create
	86:  {4, trDesc},                                 // timerfd_settime
	87:  {2, trDesc},                                 // timerfd_gettime
	88:  {4, trDesc | trFile},                        // utimensat
	89:  {1, trFile},                                 // acct
	90:  {2, trCreds},                                // capget
	91:  {2, trCreds},                                // capset
	92:  {1, neverFails},                             // personality
	93:  {1, trProcess},                              // exit
	94:  {1, trProcess},                              // exit_group
	95:  {5, trProcess},                              // waitid
	96:  {1, 0},                                      // set_tid_address
	97:  {1, 0},                                      // unshare
	98:  {6, 0},                                      // futex
	99:  {2, 0},                                      // set_robust_list
	100: {3, 0},                                      // get_robust_list
	101: {2, 0},                                      // nanosleep
	102: {2, 0},                                      // getitimer
	103: {3, 0},                                      // setitimer
	104: {4, 0},                                      // kexec_load
	105: {3, 0},                                      // init_module
	106: {2, 0},                                      // delete_module
	107: {3, 0},                                      // timer_create
	108: {2, 0},                                      // timer_gettime
	109: {1, 0},                                      // timer_getoverrun
	110: {4, 0},                                      // timer_settime
	111: {1, 0},                                      // timer_delete
	112: {2, trClock},                                // clock_settime
	113: {2, trClock},                                // clock_gettime
	114: {2, trClock},                                // clock_getres
	115: {4, 0},                                      // clock_nanosleep
	116: {3, 0},                                      // syslog
	117: {4, 0},                                      // ptrace
	118: {2, 0},                                      // sched_setparam
	119: {3, 0},                                      // sched_setscheduler
	120: {1, 0},                                      // sched_getscheduler
	121: {2, 0},                                      // sched_getparam
	122: {3, 0},                                      // sched_setaffinity
	123: {3, 0},                                      // sched_getaffinity
	124: {0, 0},                                      // sched_yield
	125: {1, 0},                                      // sched_get_priority_max
	126: {1, 0},                                      // sched_get_priority_min
	127: {2, 0},                                      // sched_rr_get_interval
	128: {0, 0},                                      // restart_syscall
	129: {2, trSignal | trProcess},                   // kill
	130: {2, trSignal | trProcess},                   // tkill
	131: {3, trSignal | trProcess},                   // tgkill
	132: {2, trSignal},                               // sigaltstack
	133: {2, trSignal},                               // rt_sigsuspend
	134: {4, trSignal},                               // rt_sigaction
	135: {4, trSignal},                               // rt_sigprocmask
	136: {2, trSignal},                               // rt_sigpending
	137: {4, trSignal},                               // rt_sigtimedwait
	138: {3, trSignal | trProcess},                   // rt_sigqueueinfo
	139: {0, trSignal},                               // rt_sigreturn
	140: {3, 0},                                      // setpriority
	141: {2, 0},                                      // getpriority
	142: {4, 0},                                      // reboot
	143: {2, trCreds},                                // setregid
	144: {1, trCreds},                                // setgid
	145: {2, trCreds},                                // setreuid
	146: {1, trCreds},                                // setuid
	147: {3, trCreds},                                // setresuid
	148: {3, trCreds},                                // getresuid
	149: {3, trCreds},                                // setresgid
	150: {3, trCreds},                                // getresgid
	151: {1, trCreds | neverFails},                   // setfsuid
	152: {1, trCreds | neverFails},                   // setfsgid
	153: {1, 0},                                      // times
	154: {2, 0},                                      // setpgid
	155: {1, 0},                                      // getpgid
	156: {1, 0},                                      // getsid
	157: {0, 0},                                      // setsid
	158: {2, trCreds},                                // getgroups
	159: {2, trCreds},                                // setgroups
	160: {1, 0},                                      // uname
	161: {2, 0},                                      // sethostname
	162: {2, 0},                                      // setdomainname
	163: {2, 0},                                      // getrlimit
	164: {2, 0},                                      // setrlimit
	165: {2, 0},                                      // getrusage
	166: {1, neverFails},                             // umask
	167: {5, trCreds},                                // prctl
	168: {3, 0},                                      // getcpu
	169: {2, trClock},                                // gettimeofday
	170: {2, trClock},                                // settimeofday
	171: {1, trClock},                                // adjtimex
	172: {0, trPure | neverFails},                    // getpid
	173: {0, trPure | neverFails},                    // getppid
	174: {0, trCreds | trPure | neverFails},          // getuid
	175: {0, trCreds | trPure | neverFails},          // geteuid
	176: {0, trCreds | trPure | neverFails},          // getgid
	177: {0, trCreds | trPure | neverFails},          // getegid
	178: {0, trPure | neverFails},                    // gettid
	179: {1, 0},                                      // sysinfo
	180: {4, trDesc},                                 // mq_open
	181: {1, 0},                                      // mq_unlink
	182: {5, trDesc},                                 // mq_timedsend
	183: {5, trDesc},                                 // mq_timedreceive
	184: {2, trDesc},                                 // mq_notify
	185: {3, trDesc},                                 // mq_getsetattr
	186: {2, trIPC},                                  // msgget
	187: {3, trIPC},                                  // msgctl
	188: {5, trIPC},                                  // msgrcv
	189: {4, trIPC},                                  // msgsnd
	190: {3, trIPC},                                  // semget
	191: {4, trIPC},                                  // semctl
	192: {4, trIPC},                                  // semtimedop
	193: {3, trIPC},                                  // semop
	194: {3, trIPC},                                  // shmget
	195: {3, trIPC},                                  // shmctl
	196: {3, trIPC | trMemory},                       // shmat
	197: {1, trIPC | trMemory},                       // shmdt
	198: {3, trNetwork},                              // socket
	199: {4, trNetwork},                              // socketpair
	200: {3, trNetwork},                              // bind
	201: {2, trNetwork},                              // listen
	202: {3, trNetwork},                              // accept
	203: {3, trNetwork},                              // connect
	204: {3, trNetwork},                              // getsockname
	205: {3, trNetwork},                              // getpeername
	206: {6, trNetwork},                              // sendto
	207: {6, trNetwork},                              // recvfrom
	208: {5, trNetwork},                              // setsockopt
	209: {5, trNetwork},                              // getsockopt
	210: {2, trNetwork},                              // shutdown
	211: {3, trNetwork},                              // sendmsg
	212: {3, trNetwork},                              // recvmsg
	213: {3, trDesc},                                 // readahead
	214: {1, trMemory},                               // brk
	215: {2, trMemory},                               // munmap
	216: {5, trMemory},                               // mremap
	217: {5, 0},                                      // add_key
	218: {4, 0},                                      // request_key
	219: {5, 0},                                      // keyctl
	220: {5, trProcess},                              // clone
	221: {3, trFile | trProcess},                     // execve
	222: {6, trDesc | trMemory},                      // mmap
	223: {4, trDesc},                                 // fadvise64
	224: {2, trFile},                                 // swapon
	225: {1, trFile},                                 // swapoff
	226: {3, trMemory},                               // mprotect
	227: {3, trMemory},                               // msync
	228: {2, trMemory},                               // mlock
	229: {2, trMemory},                               // munlock
	230: {1, trMemory},                               // mlockall
	231: {0, trMemory},                               // munlockall
	232: {3, trMemory},                               // mincore
	233: {3, trMemory},                               // madvise
	234: {5, trMemory},                               // remap_file_pages
	235: {6, trMemory},                               // mbind
	236: {5, trMemory},                               // get_mempolicy
	237: {3, trMemory},                               // set_mempolicy
	238: {4, trMemory},                               // migrate_pages
	239: {6, trMemory},                               // move_pages
	240: {4, trProcess | trSignal},                   // rt_tgsigqueueinfo
	241: {5, trDesc},                                 // perf_event_open
	242: {4, trNetwork},                              // accept4
	243: {5, trNetwork},                              // recvmmsg
	260: {4, trProcess},                              // wait4
	261: {4, 0},                                      // prlimit64
	262: {2, trDesc},                                 // fanotify_init
	263: {5, trDesc | trFile},                        // fanotify_mark
	264: {5, trDesc | trFile},                        // name_to_handle_at
	265: {3, trDesc},                                 // open_by_handle_at
	266: {2, trClock},                                // clock_adjtime
	267: {1, trDesc},                                 // syncfs
	268: {2, trDesc},                                 // setns
	269: {4, trNetwork},                              // sendmmsg
	270: {6, 0},                                      // process_vm_readv
	271: {6, 0},                                      // process_vm_writev
	272: {5, 0},                                      // kcmp
	273: {3, trDesc},                                 // finit_module
	274: {3, 0},                                      // sched_setattr
	275: {4, 0},                                      // sched_getattr
	276: {5, trDesc | trFile},                        // renameat2
	277: {3, 0},                                      // seccomp
	278: {3, 0},                                      // getrandom
	279: {2, trDesc},                                 // memfd_create
	280: {3, trDesc},                                 // bpf
	281: {5, trDesc | trFile | trProcess},            // execveat
	282: {1, trDesc},                                 // userfaultfd
	283: {3, 0},                                      // membarrier
	284: {3, trMemory},                               // mlock2
	285: {6, trDesc},                                 // copy_file_range
	286: {6, trDesc},                                 // preadv2
	287: {6, trDesc},                                 // pwritev2
	288: {4, trMemory},                               // pkey_mprotect
	289: {2, 0},                                      // pkey_alloc
	290: {1, 0},                                      // pkey_free
	291: {5, trDesc | trFile | trFstat | trStatLike}, // statx
	292: {6, 0},                                      // io_pgetevents
	293: {4, 0},                                      // rseq
	294: {5, trDesc},                                 // kexec_file_load
	424: {4, trDesc | trSignal | trProcess},          // pidfd_send_signal
	425: {2, trDesc},                                 // io_uring_setup
	426: {6, trDesc | trSignal},                      // io_uring_enter
	427: {4, trDesc | trMemory},                      // io_uring_register
	428: {3, trDesc | trFile},                        // open_tree
	429: {5, trDesc | trFile},                        // move_mount
	430: {2, trDesc},                                 // fsopen
	431: {5, trDesc | trFile},                        // fsconfig
	432: {3, trDesc},                                 // fsmount
	433: {3, trDesc | trFile},                        // fspick
	434: {2, trDesc},                                 // pidfd_open
	435: {2, trProcess},                              // clone3
	436: {3, 0},                                      // close_range
	437: {4, trDesc | trFile},                        // openat2
	438: {3, trDesc},                                 // pidfd_getfd
	439: {4, trDesc | trFile},                        // faccessat2
	440: {5, trDesc},                                 // process_madvise
	441: {6, trDesc},                                 // epoll_pwait2
	442: {5, trDesc | trFile},                        // mount_setattr
	443: {4, trDesc},                                 // quotactl_fd
	444: {3, trDesc},                                 // landlock_create_ruleset
	445: {4, trDesc},                                 // landlock_add_rule
	446: {2, trDesc},                                 // landlock_restrict_self
	447: {1, trDesc},                                 // memfd_secret
	448: {2, trDesc},                                 // process_mrelease
	449: {5, 0},                                      // futex_waitv
	450: {4, trMemory},                               // set_mempolicy_home_node
	451: {4, trDesc},                                 // cachestat
	452: {4, trDesc | trFile},                        // fchmodat2
	453: {3, trMemory},                               // map_shadow_stack
	454: {4, 0},                                      // futex_wake
	455: {6, 0},                                      // futex_wait
	456: {4, 0},                                      // futex_requeue
	457: {4, 0},                                      // statmount
	458: {4, 0},                                      // listmount
	459: {4, 0},                                      // lsm_get_self_attr
	460: {4, 0},                                      // lsm_set_self_attr
	461: {3, 0},                                      // lsm_list_modules
	462: {3, trMemory},                               // mseal
	463: {6, trDesc | trFile},                        // setxattrat
	464: {6, trDesc | trFile},                        // getxattrat
	465: {5, trDesc | trFile},                        // listxattrat
	466: {4, trDesc | trFile},                        // removexattrat
	467: {5, trDesc | trFile},                        // open_tree_attr
	468: {5, trDesc | trFile},                        // file_getattr
	469: {5, trDesc | trFile},                        // file_setattr
	470: {4, 0},                                      // listns
	471: {0, 0},                                      // rseq_slice_yield
}
