{{/* The release name when it already contains the chart's name (release `clearml` gives `clearml-apiserver`). */}}
{{- define "clearml.fullname" -}}
{{- if contains .Chart.Name .Release.Name -}}
{{- .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name .Chart.Name | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}

{{- define "clearml.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version }}
app.kubernetes.io/name: {{ include "clearml.fullname" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- end -}}

{{/* The chart's history, in one place: what each release line added. */}}
{{- define "clearml.hasServiceAccounts" -}}{{ if semverCompare ">=7.4.0-0" .Chart.Version }}true{{ end }}{{- end -}}
{{- define "clearml.hasAsyncDelete" -}}{{ if semverCompare ">=7.8.0-0" .Chart.Version }}true{{ end }}{{- end -}}

{{/* Where the core components find their dependencies (the subcharts' service names). */}}
{{- define "clearml.elasticHost" -}}{{ printf "%s-master" .Values.elasticsearch.clusterName }}{{- end -}}
{{- define "clearml.mongodbHost" -}}{{ printf "%s-mongodb" .Release.Name }}{{- end -}}
{{- define "clearml.redisHost" -}}{{ printf "%s-redis-master" .Release.Name }}{{- end -}}
{{- define "clearml.apiserverUrl" -}}{{ printf "http://%s-apiserver:%v" (include "clearml.fullname" .) .Values.apiserver.service.port }}{{- end -}}
{{- define "clearml.fileserverUrl" -}}{{ printf "http://%s-fileserver:%v" (include "clearml.fullname" .) .Values.fileserver.service.port }}{{- end -}}
{{- define "clearml.secretName" -}}{{ .Values.clearml.existingSecret | default "clearml-conf" }}{{- end -}}

{{/* image: [registry/]repository:tag, the registry from the component or else global.imageRegistry. */}}
{{- define "clearml.image" -}}
{{- $registry := .image.registry | default .global.imageRegistry -}}
{{- if $registry }}{{ $registry }}/{{ end }}{{ .image.repository }}:{{ .image.tag }}
{{- end -}}

{{/* An env entry taken from the clearml-conf Secret. */}}
{{- define "clearml.secretEnv" -}}
- name: {{ .name }}
  valueFrom:
    secretKeyRef: {name: {{ .secret | quote }}, key: {{ .key }}}
{{- end -}}

{{/*
The Service of a core component. Called with (dict "root" $ "component" "apiserver" "targetPort" 8008).
The nodePort is only rendered for type NodePort.
*/}}
{{- define "clearml.service" -}}
{{- $values := index .root.Values .component -}}
{{- $fullname := include "clearml.fullname" .root -}}
apiVersion: v1
kind: Service
metadata:
  name: {{ $fullname }}-{{ .component }}
  labels:
    {{- include "clearml.labels" .root | nindent 4 }}
  {{- with $values.service.annotations }}
  annotations:
    {{- toYaml . | nindent 4 }}
  {{- end }}
spec:
  type: {{ $values.service.type }}
  ports:
    - port: {{ $values.service.port }}
      targetPort: {{ .targetPort }}
      protocol: TCP
      {{- if eq $values.service.type "NodePort" }}
      nodePort: {{ $values.service.nodePort }}
      {{- end }}
  selector:
    app.kubernetes.io/name: {{ $fullname }}
    app.kubernetes.io/instance: {{ $fullname }}-{{ .component }}
{{- end -}}

{{/*
The Deployment shape the core components share. Called with a dict:
  root        the top-level context ($)
  component   apiserver | fileserver | webserver: whose values (image, contexts, resources, service account) apply
  name        the Deployment's name suffix (default: component)
  instance    the pod label app.kubernetes.io/instance (default: <fullname>-<component>)
  waitFor     list of (dict "name" "mongodb" "url" "telnet://host:port" | "http://..."): what the init container waits for
  container   YAML of the main container's fields after name/image (ports, env, args, probes, mounts)
  volumes     YAML list of pod volumes (optional)
*/}}
{{- define "clearml.deployment" -}}
{{- $root := .root -}}
{{- $values := index $root.Values .component -}}
{{- $fullname := include "clearml.fullname" $root -}}
{{- $instance := .instance | default (printf "%s-%s" $fullname .component) -}}
{{- $image := include "clearml.image" (dict "image" $values.image "global" $root.Values.global) -}}
apiVersion: apps/v1
kind: Deployment
metadata:
  name: {{ $fullname }}-{{ .name | default .component }}
  labels:
    {{- include "clearml.labels" $root | nindent 4 }}
spec:
  replicas: {{ $values.replicaCount }}
  selector:
    matchLabels:
      app.kubernetes.io/name: {{ $fullname }}
      app.kubernetes.io/instance: {{ $instance }}
  template:
    metadata:
      {{- with $values.podAnnotations }}
      annotations:
        {{- toYaml . | nindent 8 }}
      {{- end }}
      labels:
        app.kubernetes.io/name: {{ $fullname }}
        app.kubernetes.io/instance: {{ $instance }}
    spec:
      {{- if include "clearml.hasServiceAccounts" $root }}
      serviceAccountName: {{ $values.serviceAccountName }}-{{ .component }}
      {{- end }}
      {{- with .volumes }}
      volumes:
        {{- . | nindent 8 }}
      {{- end }}
      securityContext:
        {{- toYaml $values.podSecurityContext | nindent 8 }}
      initContainers:
        # Start-up order: wait until every dependency answers.
        - name: init-{{ .component }}
          image: {{ $image | quote }}
          command:
            - /bin/sh
            - -c
            - |
              set -x
              {{- range .waitFor }}
              {{- if hasPrefix "http" .url }}
              until [ "$(curl -s -o /dev/null -w '%{http_code}' {{ .url }})" = 200 ]; do echo "waiting for {{ .name }}"; sleep 5; done
              {{- else }}
              until [ "$(curl -s -o /dev/null --connect-timeout 2 --telnet-option BOGUS {{ .url }}; echo $?)" = 49 ]; do echo "waiting for {{ .name }}"; sleep 5; done
              {{- end }}
              {{- end }}
          securityContext:
            {{- toYaml $values.containerSecurityContext | nindent 12 }}
          resources:
            {{- toYaml $values.initContainers.resources | nindent 12 }}
      containers:
        - name: {{ $fullname }}-{{ .component }}
          image: {{ $image | quote }}
          imagePullPolicy: {{ $values.image.pullPolicy }}
          {{- .container | nindent 10 }}
          resources:
            {{- toYaml $values.resources | nindent 12 }}
          securityContext:
            {{- toYaml $values.containerSecurityContext | nindent 12 }}
      {{- with $values.nodeSelector }}
      nodeSelector:
        {{- toYaml . | nindent 8 }}
      {{- end }}
      {{- with $values.affinity }}
      affinity:
        {{- toYaml . | nindent 8 }}
      {{- end }}
      {{- with $values.tolerations }}
      tolerations:
        {{- toYaml . | nindent 8 }}
      {{- end }}
{{- end -}}
