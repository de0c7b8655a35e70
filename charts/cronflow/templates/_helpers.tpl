{{/* Name of the chart's objects: the release name, or "<release>-cronflow" when it does not say cronflow. */}}
{{- define "cronflow.fullname" -}}
{{- if contains .Chart.Name .Release.Name -}}
{{- .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name .Chart.Name | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}

{{/* Name of the release's cluster-scoped objects: the fullname qualified by the release namespace, so that
releases in different namespaces never claim the same ClusterRole. */}}
{{- define "cronflow.clusterName" -}}
{{- printf "%s:%s" .Release.Namespace (include "cronflow.fullname" .) -}}
{{- end -}}

{{/* Labels that select the operator's pod (never change them: Deployment selectors are immutable). */}}
{{- define "cronflow.selectorLabels" -}}
app.kubernetes.io/name: {{ .Chart.Name }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}

{{/* Labels on every object of the release. */}}
{{- define "cronflow.labels" -}}
{{ include "cronflow.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/component: operator
app.kubernetes.io/part-of: cronflow
app.kubernetes.io/managed-by: {{ .Release.Service }}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version }}
{{- end -}}

{{/* Labels that select the gateway's pods (cronflow-api): not cronflow.selectorLabels, which the operator's
Deployment, its Service and its NetworkPolicy select on (never change them either). */}}
{{- define "cronflow.gatewaySelectorLabels" -}}
app.kubernetes.io/name: {{ .Chart.Name }}-api
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}

{{/* Labels on the gateway's objects (cronflow.labels says component: operator). */}}
{{- define "cronflow.gatewayLabels" -}}
{{ include "cronflow.gatewaySelectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/component: gateway
app.kubernetes.io/part-of: cronflow
app.kubernetes.io/managed-by: {{ .Release.Service }}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version }}
{{- end -}}

{{/* The namespaces the operator reconciles, comma-separated; empty means the whole cluster.
With rbac.scope=namespace and no list, the release namespace (the only one it has rights in). */}}
{{- define "cronflow.watchNamespaces" -}}
{{- if .Values.watchNamespaces -}}
{{- join "," .Values.watchNamespaces -}}
{{- else if eq .Values.rbac.scope "namespace" -}}
{{- .Release.Namespace -}}
{{- end -}}
{{- end -}}

{{/* A NetworkPolicy egress rule for DNS (port 53, UDP and TCP), to the peers given (the dnsTo value) or,
with none, to any address. Starts with a newline: use it as `{{- include "cronflow.dnsEgress" .dnsTo }}`. */}}
{{- define "cronflow.dnsEgress" }}
  # DNS.
  - ports:
    - port: 53
      protocol: UDP
    - port: 53
      protocol: TCP
    {{- with . }}
    to:
      {{- toYaml . | nindent 6 }}
    {{- end }}
{{- end -}}

{{/* Who else holds the ScheduledJob CRD, when it exists and this release does not own it: "applied with
kubectl" or "release NAME in namespace NS"; empty when this release installs or owns it (or when there is
no cluster to ask, as in `helm template`). helm cannot take over an object without its ownership labels,
so the chart leaves such a CRD as it is instead of failing the install. */}}
{{- define "cronflow.crdOwnedElsewhere" -}}
{{- $existing := lookup "apiextensions.k8s.io/v1" "CustomResourceDefinition" "" "scheduledjobs.cronflow.dev" -}}
{{- if $existing -}}
{{- $annotations := $existing.metadata.annotations | default dict -}}
{{- $release := index $annotations "meta.helm.sh/release-name" | default "" -}}
{{- $namespace := index $annotations "meta.helm.sh/release-namespace" | default "" -}}
{{- if not $release -}}
applied with kubectl
{{- else if not (and (eq $release .Release.Name) (eq $namespace .Release.Namespace)) -}}
{{- printf "release %s in namespace %s" $release $namespace -}}
{{- end -}}
{{- end -}}
{{- end -}}
