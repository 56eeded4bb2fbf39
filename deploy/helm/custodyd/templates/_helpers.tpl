{{- define "custodyd.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "custodyd.fullname" -}}
{{- if .Values.fullnameOverride -}}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- $name := default .Chart.Name .Values.nameOverride -}}
{{- if contains $name .Release.Name -}}
{{- .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}
{{- end -}}

{{- define "custodyd.selectorLabels" -}}
app.kubernetes.io/name: {{ include "custodyd.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}

{{- define "custodyd.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{ include "custodyd.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- end -}}

{{- define "custodyd.serviceAccountName" -}}
{{- if .Values.serviceAccount.create -}}
{{- default (include "custodyd.fullname" .) .Values.serviceAccount.name -}}
{{- else -}}
{{- default "default" .Values.serviceAccount.name -}}
{{- end -}}
{{- end -}}

{{- define "custodyd.image" -}}
{{- if .Values.image.digest -}}
{{- printf "%s@%s" .Values.image.repository .Values.image.digest -}}
{{- else -}}
{{- printf "%s:%s" .Values.image.repository (default .Chart.AppVersion .Values.image.tag) -}}
{{- end -}}
{{- end -}}

{{/* The Secret the chart creates for the credentials given inline. */}}
{{- define "custodyd.secretName" -}}
{{- include "custodyd.fullname" . -}}
{{- end -}}

{{- define "custodyd.externalURL" -}}
{{- default (printf "http://%s.%s.svc:%v" (include "custodyd.fullname" .) .Release.Namespace .Values.service.port) .Values.externalURL -}}
{{- end -}}

{{- define "custodyd.postgres" -}}
{{- if or .Values.database.url .Values.database.existingSecret }}true{{ end -}}
{{- end -}}

{{/* Refuse what custodyd could not serve: the reasons are docs/deploy.md's. */}}
{{- define "custodyd.validate" -}}
{{- $replicas := int .Values.replicaCount -}}
{{- if lt $replicas 1 -}}
{{- fail (printf "replicaCount %d: want 1 or more" $replicas) -}}
{{- end -}}
{{- if and .Values.database.url .Values.database.existingSecret -}}
{{- fail "database: set url or existingSecret, not both" -}}
{{- end -}}
{{- if and .Values.database.url (not (regexMatch "^postgres(ql)?://" .Values.database.url)) -}}
{{- fail "database.url: want a postgres:// or postgresql:// URL" -}}
{{- end -}}
{{- if and .Values.cas.url (not (regexMatch "^(oci|file)://" .Values.cas.url)) -}}
{{- fail (printf "cas.url %q: want oci://REGISTRY/REPOSITORY (or file://DIR)" .Values.cas.url) -}}
{{- end -}}
{{- if and .Values.cas.existingSecret (or .Values.cas.username .Values.cas.password) -}}
{{- fail "cas: set username and password, or existingSecret, not both" -}}
{{- end -}}
{{- if gt $replicas 1 -}}
{{- $missing := list -}}
{{- if not (include "custodyd.postgres" .) -}}{{- $missing = append $missing "PostgreSQL (database.url or database.existingSecret)" -}}{{- end -}}
{{- if not (hasPrefix "oci://" .Values.cas.url) -}}{{- $missing = append $missing "an OCI registry as CAS (cas.url: oci://REGISTRY/REPOSITORY)" -}}{{- end -}}
{{- if not .Values.authority.existingSecret -}}{{- $missing = append $missing "one CA and TSA for every replica (authority.existingSecret, from custodyd ca init)" -}}{{- end -}}
{{- if $missing -}}
{{- fail (printf "replicaCount %d needs %s: SQLite, the filesystem CAS and a generated CA live in one replica's volume (docs/deploy.md)" $replicas (join ", " $missing)) -}}
{{- end -}}
{{- end -}}
{{- end -}}
