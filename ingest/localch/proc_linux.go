package localch

import "syscall"

// sysProcAttr has the kernel kill the server when the parent process dies.
func sysProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
}
