{{/* Labels on every object (DESIGN.md §3). */}}
{{- define "qsr.commonLabels" -}}
app.kubernetes.io/part-of: qsr-platform
app.kubernetes.io/managed-by: {{ .Release.Service }}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
{{- end }}

{{- define "qsr.labels" -}}
{{ include "qsr.commonLabels" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{/* Selector labels of one component: {{ include "qsr.selector" (list $ "hub") }} */}}
{{- define "qsr.selector" -}}
{{- $root := index . 0 -}}
app.kubernetes.io/name: qsr-{{ index . 1 }}
app.kubernetes.io/instance: {{ $root.Release.Name }}
{{- end }}

{{- define "qsr.componentLabels" -}}
{{ include "qsr.commonLabels" (index . 0) }}
{{ include "qsr.selector" . }}
app.kubernetes.io/component: {{ index . 1 }}
{{- end }}

{{- define "qsr.image" -}}
{{ .Values.image.repository }}:{{ .Values.image.tag | default .Chart.AppVersion }}
{{- end }}

{{/* Pod Security Standard "restricted", pod level. */}}
{{- define "qsr.podSecurityContext" -}}
runAsNonRoot: true
runAsUser: 10001
runAsGroup: 10001
fsGroup: 10001
seccompProfile:
  type: RuntimeDefault
{{- end }}

{{/* Pod Security Standard "restricted", container level; the image writes only to /tmp. */}}
{{- define "qsr.containerSecurityContext" -}}
allowPrivilegeEscalation: false
readOnlyRootFilesystem: true
runAsNonRoot: true
capabilities:
  drop: ["ALL"]
seccompProfile:
  type: RuntimeDefault
{{- end }}

{{/* Environment every component shares: tracing (standard OTEL_* variables) and log format.
     Service settings use QSR_<SERVICE>_* and reject unknown ones, so nothing else goes here. */}}
{{- define "qsr.commonEnv" -}}
{{- $root := index . 0 -}}
- name: QSR_LOG_FORMAT
  value: {{ $root.Values.logFormat | quote }}
- name: OTEL_SERVICE_NAME
  value: qsr-{{ index . 1 }}
- name: OTEL_RESOURCE_ATTRIBUTES
  value: "service.namespace=qsr-platform,deployment.environment={{ $root.Release.Namespace }}"
- name: OTEL_TRACES_SAMPLER
  value: parentbased_traceidratio
- name: OTEL_TRACES_SAMPLER_ARG
  value: {{ $root.Values.otel.samplerRatio | quote }}
{{- if $root.Values.otel.endpoint }}
- name: OTEL_EXPORTER_OTLP_ENDPOINT
  value: {{ $root.Values.otel.endpoint | quote }}
{{- else }}
- name: OTEL_TRACES_EXPORTER
  value: none
{{- end }}
{{- end }}

{{/* Namespaces the operator watches (the release namespace when none are listed). */}}
{{- define "qsr.watchNamespaces" -}}
{{- if .Values.operator.watchNamespaces -}}
{{ toJson .Values.operator.watchNamespaces }}
{{- else -}}
{{ toJson (list .Release.Namespace) }}
{{- end -}}
{{- end }}

{{/* `to:` peers of an egress rule from a CIDR list; nothing (any destination) when empty. */}}
{{- define "qsr.peers" -}}
{{- if . }}
to:
  {{- range . }}
  - ipBlock: {cidr: {{ . | quote }}}
  {{- end }}
{{- end }}
{{- end }}

{{/* Component name of a `services` key: hubIngest → hub-ingest (names, labels, `qsr serve`). */}}
{{- define "qsr.component" -}}
{{ kebabcase . }}
{{- end }}

{{/* Whose settings a component reads: hub-ingest is the hub's webhook route in a process of its
     own, so it reads QSR_HUB_* and the secret key hub-database-url (the hub's database). */}}
{{- define "qsr.settingsOf" -}}
{{ ternary "hub" . (eq . "hub-ingest") }}
{{- end }}
