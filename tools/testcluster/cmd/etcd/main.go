// Command etcd is a thin entry point over the etcd server at the version k8s.io/kubernetes
// requires, for the kubeheat test cluster.
package main

import (
	"os"

	"go.etcd.io/etcd/server/v3/etcdmain"
)

func main() {
	etcdmain.Main(os.Args)
}
