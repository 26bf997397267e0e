package main

import (
	"bufio"
	"net"
	"strings"
	"sync/atomic"
	"time"
)

// slowSink is the smallest SMTP server a mailer can deliver to: it answers each command
// after delay, so that mail is still being sent when a shutdown starts, and counts the
// messages it accepted. It is a test double, not a mail server: no TLS, no AUTH.
type slowSink struct {
	ln        net.Listener
	delay     time.Duration
	delivered atomic.Int64
}

func startSlowSink(delay time.Duration) (*slowSink, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	s := &slowSink{ln: ln, delay: delay}
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go s.serve(c)
		}
	}()
	return s, nil
}

func (s *slowSink) serve(c net.Conn) {
	defer c.Close()
	rd := bufio.NewReader(c)
	say := func(line string) bool {
		time.Sleep(s.delay)
		_, err := c.Write([]byte(line + "\r\n"))
		return err == nil
	}
	if !say("220 faults sink") {
		return
	}
	for {
		line, err := rd.ReadString('\n')
		if err != nil {
			return
		}
		verb := strings.ToUpper(strings.Fields(line + " x")[0])
		switch verb {
		case "EHLO", "HELO":
			say("250 faults sink")
		case "DATA":
			if !say("354 go ahead") {
				return
			}
			for {
				l, err := rd.ReadString('\n')
				if err != nil {
					return
				}
				if l == ".\r\n" {
					break
				}
			}
			s.delivered.Add(1)
			say("250 queued")
		case "QUIT":
			say("221 bye")
			return
		default: // MAIL, RCPT, RSET, NOOP
			say("250 ok")
		}
	}
}

func (s *slowSink) close() { _ = s.ln.Close() }
