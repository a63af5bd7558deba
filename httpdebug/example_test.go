package httpdebug_test

import (
	"fmt"
	"net/http"
	"net/http/httptest"

	"github.com/amqpleaks/amqpleaks/httpdebug"
)

// Mount the page on your own mux, on a private port, as with
// net/http/pprof.
func Example() {
	mux := http.NewServeMux()
	h := httpdebug.Handler()
	defer h.Close()
	mux.Handle("/debug/amqpleaks", h)

	srv := httptest.NewServer(mux) // in a service: http.ListenAndServe("localhost:6061", mux)
	defer srv.Close()
	client := srv.Client()
	defer client.CloseIdleConnections()

	resp, err := client.Get(srv.URL + "/debug/amqpleaks?format=json")
	if err != nil {
		fmt.Println(err)
		return
	}
	defer resp.Body.Close()
	fmt.Println(resp.Status, resp.Header.Get("Content-Type"))

	resp2, err := client.Get(srv.URL + "/debug/amqpleaks?mode=slow")
	if err != nil {
		fmt.Println(err)
		return
	}
	defer resp2.Body.Close()
	fmt.Println(resp2.Status)
	// Output:
	// 200 OK application/json; charset=utf-8
	// 400 Bad Request
}
