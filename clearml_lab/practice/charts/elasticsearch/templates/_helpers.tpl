{{/* The node group's name: <clusterName>-<nodeGroup>, e.g. clearml-elastic-master. Names every object. */}}
{{- define "elasticsearch.uname" -}}
{{- printf "%s-%s" .Values.clusterName .Values.nodeGroup -}}
{{- end -}}

{{/* The service clients use; the master group's own name unless masterService says otherwise. */}}
{{- define "elasticsearch.masterService" -}}
{{- .Values.masterService | default (printf "%s-master" .Values.clusterName) -}}
{{- end -}}

{{/* A named account only when asked for; otherwise the pod runs as the namespace's `default`. */}}
{{- define "elasticsearch.serviceAccount" -}}
{{- .Values.rbac.serviceAccountName | default (include "elasticsearch.uname" .) -}}
{{- end -}}

{{- define "elasticsearch.labels" -}}
heritage: {{ .Release.Service | quote }}
release: {{ .Release.Name | quote }}
chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | quote }}
app: {{ include "elasticsearch.uname" . | quote }}
{{- end -}}

{{- define "elasticsearch.selectorLabels" -}}
release: {{ .Release.Name | quote }}
chart: {{ .Chart.Name | quote }}
app: {{ include "elasticsearch.uname" . | quote }}
{{- end -}}

{{/* cluster.initial_master_nodes: every ordinal of the master StatefulSet. */}}
{{- define "elasticsearch.initialMasters" -}}
{{- $uname := include "elasticsearch.uname" . -}}
{{- range $i := until (int .Values.replicas) }}{{ $uname }}-{{ $i }},{{ end -}}
{{- end -}}
