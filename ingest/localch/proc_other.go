//go:build !linux

package localch

import "syscall"

func sysProcAttr() *syscall.SysProcAttr { return nil }
