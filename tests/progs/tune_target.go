// A Go target for `sockguard tune` and `sockguard audit`, the Go twin of
// tune_target.c: connects to 127.0.0.1:PORT without Go's default keepalive,
// prints "ready", then blocks reading the connection.  It answers each "q"
// from the peer with its own getsockopt view of the socket, and when the
// read fails it prints the error ("read: ETIMEDOUT" for a timed-out
// connection) and exits 3.  Standard library only, built at test time.
package main

import (
	"errors"
	"fmt"
	"net"
	"os"
	"syscall"
)

// TCP_USER_TIMEOUT of tcp(7); the syscall package does not name it.
const tcpUserTimeout = 18

func opts(c *net.TCPConn) string {
	raw, err := c.SyscallConn()
	if err != nil {
		return "error"
	}
	var out string
	raw.Control(func(fd uintptr) {
		get := func(level, name int) int {
			v, err := syscall.GetsockoptInt(int(fd), level, name)
			if err != nil {
				return -1
			}
			return v
		}
		out = fmt.Sprintf("keepalive=%d idle=%d intvl=%d cnt=%d user_timeout=%d\n",
			get(syscall.SOL_SOCKET, syscall.SO_KEEPALIVE),
			get(syscall.IPPROTO_TCP, syscall.TCP_KEEPIDLE),
			get(syscall.IPPROTO_TCP, syscall.TCP_KEEPINTVL),
			get(syscall.IPPROTO_TCP, syscall.TCP_KEEPCNT),
			get(syscall.IPPROTO_TCP, tcpUserTimeout))
	})
	return out
}

func main() {
	if len(os.Args) < 2 {
		os.Exit(2)
	}
	d := net.Dialer{KeepAlive: -1}
	conn, err := d.Dial("tcp", "127.0.0.1:"+os.Args[1])
	if err != nil {
		fmt.Println("connect:", err)
		os.Exit(1)
	}
	c := conn.(*net.TCPConn)
	fmt.Println("ready")
	buf := make([]byte, 1)
	for {
		_, err := c.Read(buf)
		if errors.Is(err, syscall.ETIMEDOUT) {
			fmt.Println("read: ETIMEDOUT")
			os.Exit(3)
		} else if err != nil {
			fmt.Println("read:", err)
			os.Exit(3)
		}
		if buf[0] == 'q' {
			c.Write([]byte(opts(c)))
		}
	}
}
