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
