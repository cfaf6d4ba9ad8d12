{{/*
One platform service: its ServiceAccount (no token unless it calls the
Kubernetes API), its Deployment and its Service. Call with a dict:
  root       the chart's top context
  component  the service's name (idp, sql-runner…), its command is services/<component>/dist/server.js
  command    the script to run, when not services/<component>/dist/server.js
  values     the service's values (replicas, resources, env)
  replicas   replica count
  env        the service's own environment, already rendered as a YAML list
  apiToken   mount a service-account token (env-manager only)
  volumes    extra volumes (YAML list), mounted by volumeMounts
  volumeMounts extra mounts (YAML list)
  recreate   use the Recreate strategy (a ReadWriteOnce volume)
  serviceType, servicePort  the Service's type and port (default ClusterIP, 8080)
*/}}
{{- define "taidon.service" -}}
{{- $root := .root -}}
{{- $name := printf "%s-%s" (include "taidon.fullname" $root) .component -}}
apiVersion: v1
kind: ServiceAccount
metadata:
  name: {{ $name }}
  labels:
    {{- include "taidon.labels" $root | nindent 4 }}
    app.kubernetes.io/component: {{ .component }}
automountServiceAccountToken: {{ .apiToken | default false }}
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: {{ $name }}
  labels:
    {{- include "taidon.labels" $root | nindent 4 }}
    app.kubernetes.io/component: {{ .component }}
spec:
  replicas: {{ .replicas }}
  revisionHistoryLimit: 3
  {{- if .recreate }}
  strategy:
    type: Recreate
  {{- end }}
  selector:
    matchLabels:
      {{- include "taidon.selectorLabels" (dict "root" $root "component" .component) | nindent 6 }}
  template:
    metadata:
      labels:
        {{- include "taidon.labels" $root | nindent 8 }}
        app.kubernetes.io/component: {{ .component }}
      annotations:
        {{- include "taidon.scrapeAnnotations" $root | nindent 8 }}
    spec:
      serviceAccountName: {{ $name }}
      automountServiceAccountToken: {{ .apiToken | default false }}
      enableServiceLinks: false
      {{- with $root.Values.imagePullSecrets }}
      imagePullSecrets:
        {{- toYaml . | nindent 8 }}
      {{- end }}
      securityContext:
        {{- toYaml $root.Values.podSecurityContext | nindent 8 }}
      # Replicas spread over nodes where they can: one node lost takes one replica, not all.
      topologySpreadConstraints:
        - maxSkew: 1
          topologyKey: kubernetes.io/hostname
          whenUnsatisfiable: ScheduleAnyway
          labelSelector:
            matchLabels:
              {{- include "taidon.selectorLabels" (dict "root" $root "component" .component) | nindent 14 }}
      containers:
        - name: {{ .component }}
          image: {{ include "taidon.image" $root }}
          imagePullPolicy: {{ $root.Values.image.pullPolicy }}
          args: [node, {{ .command | default (printf "services/%s/dist/server.js" .component) }}]
          ports:
            - name: http
              containerPort: 8080
          env:
            {{- include "taidon.commonEnv" $root | nindent 12 }}
            {{- .env | nindent 12 }}
            {{- include "taidon.extraEnv" .values.env | nindent 12 }}
          {{- include "taidon.probes" $root | nindent 10 }}
          resources:
            {{- toYaml .values.resources | nindent 12 }}
          securityContext:
            {{- toYaml $root.Values.containerSecurityContext | nindent 12 }}
          volumeMounts:
            - name: tmp
              mountPath: /tmp
            - name: run
              mountPath: /var/run/taidon
            {{- with .volumeMounts }}
            {{- . | nindent 12 }}
            {{- end }}
      volumes:
        # The root file system is read-only: temporary files and the audit outbox live here.
        - name: tmp
          emptyDir: { sizeLimit: 1Gi }
        - name: run
          emptyDir: { sizeLimit: 256Mi }
        {{- with .volumes }}
        {{- . | nindent 8 }}
        {{- end }}
{{- if gt (int .replicas) 1 }}
---
# A drain or an upgrade of the nodes takes at most one replica away at a time.
apiVersion: policy/v1
kind: PodDisruptionBudget
metadata:
  name: {{ $name }}
  labels:
    {{- include "taidon.labels" $root | nindent 4 }}
    app.kubernetes.io/component: {{ .component }}
spec:
  maxUnavailable: 1
  selector:
    matchLabels:
      {{- include "taidon.selectorLabels" (dict "root" $root "component" .component) | nindent 6 }}
{{- end }}
---
apiVersion: v1
kind: Service
metadata:
  name: {{ $name }}
  labels:
    {{- include "taidon.labels" $root | nindent 4 }}
    app.kubernetes.io/component: {{ .component }}
spec:
  type: {{ .serviceType | default "ClusterIP" }}
  selector:
    {{- include "taidon.selectorLabels" (dict "root" $root "component" .component) | nindent 4 }}
  ports:
    - name: http
      port: {{ .servicePort | default 8080 }}
      targetPort: http
{{- end -}}
