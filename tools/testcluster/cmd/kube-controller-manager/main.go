// Command kube-controller-manager is a thin entry point over the upstream kube-controller-manager
// command, so that the kubeheat test cluster gets real garbage collection (ownerReferences) and
// namespace deletion, built straight from the module proxy like the API server.
package main

import (
	"os"
	// CronJob time zones, as upstream embeds them.
	_ "time/tzdata"

	"k8s.io/component-base/cli"
	// Registers the JSON log format and the client-go/version metrics, as upstream does.
	_ "k8s.io/component-base/logs/json/register"
	_ "k8s.io/component-base/metrics/prometheus/clientgo"
	_ "k8s.io/component-base/metrics/prometheus/version"
	"k8s.io/kubernetes/cmd/kube-controller-manager/app"
)

func main() {
	os.Exit(cli.Run(app.NewControllerManagerCommand()))
}
