// Command upstream is the app behind every proxy in bench/load.sh: it
// answers every request like a small JSON API endpoint. It runs in a
// process of its own so that no proxy pays for it. It is not part of the
// product.
package main

import (
	"flag"
	"fmt"
	"net"
	"net/http"
	"os"
	"time"
)

func main() {
	listen := flag.String("listen", "127.0.0.1:0", "address to listen on")
	flag.Parse()
	body := []byte(`{"ok":true,"message":"hello from the app"}` + "\n")
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header()["Content-Type"] = []string{"application/json"}
		w.Write(body)
	})
	ln, err := net.Listen("tcp", *listen)
	if err != nil {
		fmt.Fprintln(os.Stderr, "upstream:", err)
		os.Exit(1)
	}
	fmt.Println("http://" + ln.Addr().String())
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second, IdleTimeout: 120 * time.Second}
	fmt.Fprintln(os.Stderr, "upstream:", srv.Serve(ln))
	os.Exit(1)
}
