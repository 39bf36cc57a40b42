{{/* Name of the chart, or nameOverride. */}}
{{- define "kubo.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* Resource names: the release name when it already contains the chart name (e.g. c2e-kubo), else <release>-kubo. */}}
{{- define "kubo.fullname" -}}
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

{{- define "kubo.selectorLabels" -}}
app.kubernetes.io/name: {{ include "kubo.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{- define "kubo.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{ include "kubo.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: twinledger
{{- end }}

{{/* The Secret holding Kubo's AuthSecret under the key auth-secret; empty when auth is off. */}}
{{- define "kubo.authSecretName" -}}
{{- if .Values.auth.enabled }}
{{- if .Values.auth.existingSecret }}
{{- .Values.auth.existingSecret }}
{{- else if .Values.auth.authSecret }}
{{- if not (regexMatch "^(bearer:[^\"\\\\]+|basic:[^:\"\\\\]+:[^\"\\\\]+)$" .Values.auth.authSecret) }}
{{- fail "auth.authSecret must be bearer:<token> or basic:<user>:<password>, without \" or \\" }}
{{- end }}
{{- printf "%s-api-auth" (include "kubo.fullname" .) }}
{{- else }}
{{- fail "auth.enabled needs auth.existingSecret (a Secret with the key auth-secret) or auth.authSecret" }}
{{- end }}
{{- end }}
{{- end }}

{{- define "kubo.claimName" -}}
{{- default (printf "%s-data" (include "kubo.fullname" .)) .Values.persistence.existingClaim }}
{{- end }}
