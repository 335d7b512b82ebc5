package localch

import "syscall"

// sysProcAttr has the kernel kill the server when the parent process dies,
// and puts it in a process group of its own: a Ctrl-C at the terminal
// reaches the parent, which stores what it holds and then stops the server,
// not the server first.
func sysProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL, Setpgid: true}
}
