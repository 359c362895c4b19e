// Command kube-apiserver is a thin entry point over the upstream kube-apiserver command, so
// that the kubeheat test cluster can build a real API server straight from the module proxy.
package main

import (
	"os"

	"k8s.io/component-base/cli"
	// Registers the JSON log format and the client-go/version metrics, as upstream does.
	_ "k8s.io/component-base/logs/json/register"
	_ "k8s.io/component-base/metrics/prometheus/clientgo"
	_ "k8s.io/component-base/metrics/prometheus/version"
	"k8s.io/kubernetes/cmd/kube-apiserver/app"
)

func main() {
	os.Exit(cli.Run(app.NewAPIServerCommand()))
}
