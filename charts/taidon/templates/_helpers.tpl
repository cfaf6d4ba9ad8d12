{{/* Name of the chart, or nameOverride. */}}
{{- define "taidon.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{/* Prefix of every object's name: the release, and the chart unless the release already names it. */}}
{{- define "taidon.fullname" -}}
{{- if .Values.fullnameOverride -}}
{{- .Values.fullnameOverride | trunc 40 | trimSuffix "-" -}}
{{- else -}}
{{- $name := default .Chart.Name .Values.nameOverride -}}
{{- if contains $name .Release.Name -}}
{{- .Release.Name | trunc 40 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name $name | trunc 40 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}
{{- end -}}

{{/* Labels on every object. */}}
{{- define "taidon.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" }}
app.kubernetes.io/name: {{ include "taidon.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: taidon
{{- end -}}

{{/* Selector labels of one component; call with (dict "root" $ "component" "gateway"). */}}
{{- define "taidon.selectorLabels" -}}
app.kubernetes.io/name: {{ include "taidon.name" .root }}
app.kubernetes.io/instance: {{ .root.Release.Name }}
app.kubernetes.io/component: {{ .component }}
{{- end -}}

{{/* The label selector of this release's node agents (snapshot-cache Pods), as env-manager lists them. */}}
{{- define "taidon.agentSelector" -}}
{{- printf "app.kubernetes.io/name=%s,app.kubernetes.io/instance=%s,app.kubernetes.io/component=snapshot-cache" (include "taidon.name" .) .Release.Name -}}
{{- end -}}

{{/* The platform image. */}}
{{- define "taidon.image" -}}
{{- printf "%s:%s" .Values.image.repository (default .Chart.AppVersion .Values.image.tag) -}}
{{- end -}}

{{/* In-cluster base URL of a component's Service; call with (dict "root" $ "component" "idp"). */}}
{{- define "taidon.url" -}}
{{- printf "http://%s-%s.%s.svc:8080" (include "taidon.fullname" .root) .component .root.Release.Namespace -}}
{{- end -}}

{{/* Host of the control-plane PostgreSQL: the CloudNativePG Cluster's read-write Service, or postgresql.host. */}}
{{- define "taidon.postgresqlHost" -}}
{{- if .Values.postgresql.cloudnativepg.enabled -}}
{{- printf "%s-pg-rw.%s.svc" (include "taidon.fullname" .) .Release.Namespace -}}
{{- else -}}
{{- required "postgresql.host is required (or enable postgresql.cloudnativepg)" .Values.postgresql.host -}}
{{- end -}}
{{- end -}}

{{/* Name of the Secret holding a service's `database-url`; call with (dict "root" $ "service" "idp"). */}}
{{- define "taidon.databaseSecret" -}}
{{- $existing := get .root.Values.postgresql.existingSecrets .service -}}
{{- if $existing -}}{{ $existing }}{{- else -}}{{ printf "%s-%s-db" (include "taidon.fullname" .root) .service }}{{- end -}}
{{- end -}}

{{- define "taidon.serviceTokenSecret" -}}
{{- default (printf "%s-service-token" (include "taidon.fullname" .)) .Values.secrets.existingServiceToken -}}
{{- end -}}

{{- define "taidon.sandboxAdminSecret" -}}
{{- default (printf "%s-sandbox-admin" (include "taidon.fullname" .)) .Values.secrets.existingSandboxAdmin -}}
{{- end -}}

{{/* The environment every service shares: listen address, log level, service token. */}}
{{- define "taidon.commonEnv" -}}
- name: HOST
  value: "0.0.0.0"
- name: PORT
  value: "8080"
- name: LOG_LEVEL
  value: {{ .Values.logLevel | quote }}
- name: SERVICE_TOKEN
  valueFrom:
    secretKeyRef:
      name: {{ include "taidon.serviceTokenSecret" . }}
      key: token
{{- end -}}

{{/* A service's own database URL as `<NAME>_DATABASE_URL`; call with (dict "root" $ "service" "idp"). */}}
{{- define "taidon.databaseEnv" -}}
- name: {{ printf "%s_DATABASE_URL" (.service | upper | replace "-" "_") }}
  valueFrom:
    secretKeyRef:
      name: {{ include "taidon.databaseSecret" . }}
      key: database-url
{{- end -}}

{{/* Extra environment from a map of values (sorted, so renders are stable). */}}
{{- define "taidon.extraEnv" -}}
{{- range $name, $value := . }}
- name: {{ $name }}
  value: {{ $value | toString | quote }}
{{- end -}}
{{- end -}}

{{/* Scrape annotations of a Pod, when metrics.scrapeAnnotations. */}}
{{- define "taidon.scrapeAnnotations" -}}
{{- if .Values.metrics.scrapeAnnotations }}
prometheus.io/scrape: "true"
prometheus.io/port: "8080"
prometheus.io/path: /metrics
{{- end -}}
{{- end -}}

{{/* Probes on /health/live and /health/ready, on the service port. */}}
{{- define "taidon.probes" -}}
startupProbe:
  httpGet: { path: /health/live, port: http }
  periodSeconds: 5
  failureThreshold: {{ div .Values.probes.startupTimeoutSeconds 5 }}
livenessProbe:
  httpGet: { path: /health/live, port: http }
  periodSeconds: {{ .Values.probes.livenessPeriodSeconds }}
  failureThreshold: {{ .Values.probes.failureThreshold }}
readinessProbe:
  httpGet: { path: /health/ready, port: http }
  periodSeconds: {{ .Values.probes.readinessPeriodSeconds }}
  failureThreshold: {{ .Values.probes.failureThreshold }}
{{- end -}}

{{/* Audit outbox file of a service, on its writable emptyDir. */}}
{{- define "taidon.outboxEnv" -}}
- name: AUDIT_LOG_URL
  value: {{ include "taidon.url" (dict "root" .root "component" "audit-log") }}
- name: AUDIT_OUTBOX_FILE
  value: /var/run/taidon/outbox/{{ .service }}.jsonl
{{- end -}}
