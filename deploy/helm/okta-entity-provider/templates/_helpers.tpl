{{/* The chart's name, or nameOverride. */}}
{{- define "okta-entity-provider.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* The full name of the release's objects, at most 63 characters. */}}
{{- define "okta-entity-provider.fullname" -}}
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

{{- define "okta-entity-provider.selectorLabels" -}}
app.kubernetes.io/name: {{ include "okta-entity-provider.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{- define "okta-entity-provider.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{ include "okta-entity-provider.selectorLabels" . }}
app.kubernetes.io/version: {{ .Values.image.tag | default .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- end }}

{{- define "okta-entity-provider.serviceAccountName" -}}
{{- if .Values.serviceAccount.create }}
{{- default (include "okta-entity-provider.fullname" .) .Values.serviceAccount.name }}
{{- else }}
{{- default "default" .Values.serviceAccount.name }}
{{- end }}
{{- end }}

{{- define "okta-entity-provider.claimName" -}}
{{- .Values.persistence.existingClaim | default (printf "%s-data" (include "okta-entity-provider.fullname" .)) }}
{{- end }}

{{/* Refuse settings that contradict each other, with the fix. */}}
{{- define "okta-entity-provider.validate" -}}
{{- $o := .Values.okta }}
{{- if and $o.token.existingSecret $o.oauth.clientID }}
{{- fail "okta.token.existingSecret and okta.oauth.clientID are both set: use an API token or an OAuth service app, not both" }}
{{- end }}
{{- if and $o.oauth.clientID (not $o.oauth.privateKey.existingSecret) }}
{{- fail "okta.oauth.clientID is set but okta.oauth.privateKey.existingSecret is not: name the Secret holding the service app's private key" }}
{{- end }}
{{- if and $o.orgURL (not (or $o.token.existingSecret $o.oauth.clientID)) }}
{{- fail "okta.orgURL is set without credentials: set okta.token.existingSecret, or okta.oauth.clientID with okta.oauth.privateKey.existingSecret" }}
{{- end }}
{{- if and (not $o.orgURL) (or $o.token.existingSecret $o.oauth.clientID) }}
{{- fail "Okta credentials are set without okta.orgURL: set okta.orgURL to your org, such as https://example.okta.com" }}
{{- end }}
{{- if and .Values.database.url.existingSecret .Values.persistence.enabled }}
{{- fail "database.url.existingSecret and persistence.enabled are both set: with a shared database the state is kept there; disable persistence" }}
{{- end }}
{{- range $k, $v := .Values.settings }}
{{- if has $k (list "OKTA_TOKEN" "OKTA_PRIVATE_KEY" "ENTITIES_TOKEN" "ADMIN_TOKEN" "DATABASE_URL") }}
{{- fail (printf "settings.%s: secrets do not belong in values; use the chart's Secret references (okta.token, okta.oauth.privateKey, entitiesToken, adminToken, database.url)" $k) }}
{{- end }}
{{- if not (regexMatch "^[A-Z][A-Z0-9_]*$" $k) }}
{{- fail (printf "settings.%s: not a setting name; settings are environment variable names such as OKTA_USER_SEARCH (docs/settings.md)" $k) }}
{{- end }}
{{- end }}
{{- end }}
