// Command bareproxy is the reference the gateway is measured against in
// bench/load.sh: a bare httputil.ReverseProxy, no auth, in a process of its
// own, with an upstream transport sized like the gateway's (an idle pool of
// 256 connections per host) so the comparison measures the gateway's work,
// not connection churn. It is not part of the product.
package main

import (
	"flag"
	"fmt"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"os"
	"time"
)

func main() {
	listen := flag.String("listen", "127.0.0.1:0", "address to listen on")
	upstream := flag.String("upstream", "", "upstream URL (required)")
	flag.Parse()
	up, err := url.Parse(*upstream)
	if err != nil || up.Host == "" {
		fmt.Fprintln(os.Stderr, "bareproxy: -upstream must be a URL like http://127.0.0.1:3000")
		os.Exit(2)
	}
	rp := &httputil.ReverseProxy{
		Rewrite: func(pr *httputil.ProxyRequest) { pr.SetURL(up); pr.SetXForwarded() },
		Transport: &http.Transport{
			DialContext:         (&net.Dialer{Timeout: 5 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
			MaxIdleConns:        1024,
			MaxIdleConnsPerHost: 256,
			IdleConnTimeout:     90 * time.Second,
		},
	}
	ln, err := net.Listen("tcp", *listen)
	if err != nil {
		fmt.Fprintln(os.Stderr, "bareproxy:", err)
		os.Exit(1)
	}
	fmt.Println("http://" + ln.Addr().String())
	srv := &http.Server{Handler: rp, ReadHeaderTimeout: 10 * time.Second, IdleTimeout: 120 * time.Second}
	fmt.Fprintln(os.Stderr, "bareproxy:", srv.Serve(ln))
	os.Exit(1)
}
