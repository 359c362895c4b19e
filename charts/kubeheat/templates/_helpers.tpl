{{/* Names and labels. */}}
{{- define "kubeheat.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{- define "kubeheat.fullname" -}}
{{- if .Values.fullnameOverride }}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- $name := default .Chart.Name .Values.nameOverride }}
{{- if contains $name .Release.Name }}
{{- .Release.Name | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" }}
{{- end }}
{{- end }}
{{- end }}

{{- define "kubeheat.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{- end }}

{{- define "kubeheat.selectorLabels" -}}
app.kubernetes.io/name: {{ include "kubeheat.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/component: operator
{{- end }}

{{- define "kubeheat.labels" -}}
helm.sh/chart: {{ include "kubeheat.chart" . }}
{{ include "kubeheat.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/part-of: kubeheat
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- end }}

{{- define "kubeheat.serviceAccountName" -}}
{{- if .Values.serviceAccount.create }}
{{- default (include "kubeheat.fullname" .) .Values.serviceAccount.name }}
{{- else }}
{{- default "default" .Values.serviceAccount.name }}
{{- end }}
{{- end }}

{{- define "kubeheat.image" -}}
{{- printf "%s:%s" .Values.image.repository (default .Chart.AppVersion .Values.image.tag) }}
{{- end }}

{{/* Peering (one active replica) is on with more than one replica, or when asked for. */}}
{{- define "kubeheat.peering" -}}
{{- if or (gt (int .Values.replicaCount) 1) .Values.peering.enabled }}true{{ end }}
{{- end }}

{{- define "kubeheat.peeringName" -}}
{{- default (include "kubeheat.fullname" .) .Values.peering.name }}
{{- end }}

{{/*
The operator's permissions: exactly the RULES of operator/kubeheat/controller/rbac.py, split by
the scope of the resources (tests/ship/test_chart.py compares them). Keep the two in step.
*/}}
{{- define "kubeheat.rules.namespaced" -}}
# the Stacks: watched, patched for finalizers, status written through /status
- apiGroups: ["kubeheat.io"]
  resources: ["stacks"]
  verbs: ["get", "list", "watch", "patch"]
- apiGroups: ["kubeheat.io"]
  resources: ["stacks/status"]
  verbs: ["get", "patch"]
# templateFrom, filesFrom, parametersFrom, environment (read); outputsTo (written)
- apiGroups: [""]
  resources: ["configmaps"]
  verbs: ["get", "create", "update", "patch", "delete"]
# credentials and parametersFrom (read); the engine state and outputsTo (written)
- apiGroups: [""]
  resources: ["secrets"]
  verbs: ["get", "create", "update", "patch", "delete"]
# progress and errors as Events on the Stack
- apiGroups: ["", "events.k8s.io"]
  resources: ["events"]
  verbs: ["create", "patch"]
# kopf peering (one active replica) in each served namespace
- apiGroups: ["kopf.dev"]
  resources: ["kopfpeerings"]
  verbs: ["get", "list", "watch", "patch"]
{{- end }}

{{- define "kubeheat.rules.cluster" -}}
# kopf watches namespaces when told to serve several or all of them
- apiGroups: [""]
  resources: ["namespaces"]
  verbs: ["get", "list", "watch"]
# kopf discovers the custom resources it serves
- apiGroups: ["apiextensions.k8s.io"]
  resources: ["customresourcedefinitions"]
  verbs: ["get", "list", "watch"]
{{- end }}

{{- define "kubeheat.rules.clusterPeering" -}}
# kopf peering across the cluster (when serving every namespace)
- apiGroups: ["kopf.dev"]
  resources: ["clusterkopfpeerings"]
  verbs: ["get", "list", "watch", "patch"]
{{- end }}
