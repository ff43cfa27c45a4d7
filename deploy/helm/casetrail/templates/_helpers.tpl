{{/* Names and labels. */}}
{{- define "casetrail.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "casetrail.fullname" -}}
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

{{/* kebab-case component name: webhookBridge -> webhook-bridge */}}
{{- define "casetrail.componentName" -}}
{{- kebabcase . -}}
{{- end -}}

{{- define "casetrail.componentFullname" -}}
{{- printf "%s-%s" (include "casetrail.fullname" .root) (include "casetrail.componentName" .name) | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "casetrail.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" }}
app.kubernetes.io/name: {{ include "casetrail.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: casetrail
{{- end -}}

{{- define "casetrail.selectorLabels" -}}
app.kubernetes.io/name: {{ include "casetrail.name" .root }}
app.kubernetes.io/instance: {{ .root.Release.Name }}
app.kubernetes.io/component: {{ include "casetrail.componentName" .name }}
{{- end -}}

{{/* Every pod of this release (for the default-deny policy). */}}
{{- define "casetrail.releaseSelector" -}}
app.kubernetes.io/name: {{ include "casetrail.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}

{{/* A component's values: componentDefaults deep-merged under its own. */}}
{{- define "casetrail.component" -}}
{{- $defaults := deepCopy .root.Values.componentDefaults -}}
{{- $own := deepCopy (default dict .values) -}}
{{- toYaml (mergeOverwrite $defaults $own) -}}
{{- end -}}

{{- define "casetrail.image" -}}
{{- printf "%s:%s" .Values.image.repository (default .Chart.AppVersion .Values.image.tag) -}}
{{- end -}}

{{/* The consumer group id a component's Faust app uses (topic prefix included, as Service.app_id). */}}
{{- define "casetrail.consumerGroup" -}}
{{- printf "%s%s" (default "" .root.Values.topics.prefix) .group -}}
{{- end -}}

{{- define "casetrail.kafkaUsesTLS" -}}
{{- if has (upper .Values.kafka.securityProtocol) (list "SSL" "SASL_SSL") -}}true{{- end -}}
{{- end -}}

{{- define "casetrail.kafkaUsesSASL" -}}
{{- if has (upper .Values.kafka.securityProtocol) (list "SASL_PLAINTEXT" "SASL_SSL") -}}true{{- end -}}
{{- end -}}

{{/* Checks that fail the render with a message naming the offending value. */}}
{{- define "casetrail.validate" -}}
{{- $_ := required "kafka.bootstrapServers is required: the address of the existing Kafka cluster (host:port[,host:port])" .Values.kafka.bootstrapServers -}}
{{- $protocols := list "PLAINTEXT" "SASL_PLAINTEXT" "SASL_SSL" "SSL" -}}
{{- if not (has (upper .Values.kafka.securityProtocol) $protocols) -}}
{{- fail (printf "kafka.securityProtocol %q: use one of %s" .Values.kafka.securityProtocol (join ", " $protocols)) -}}
{{- end -}}
{{- if include "casetrail.kafkaUsesSASL" . -}}
{{- $_ := required "kafka.sasl.mechanism is required with a SASL security protocol (e.g. SCRAM-SHA-512)" .Values.kafka.sasl.mechanism -}}
{{- $_ := required "kafka.sasl.username is required with a SASL security protocol" .Values.kafka.sasl.username -}}
{{- $_ := required "kafka.sasl.passwordSecret.name is required with a SASL security protocol" .Values.kafka.sasl.passwordSecret.name -}}
{{- end -}}
{{- if and .Values.strimzi.enabled .Values.topics.createOnStart -}}
{{- fail "strimzi.enabled and topics.createOnStart both manage topics: set topics.createOnStart=false when Strimzi owns them" -}}
{{- end -}}
{{- if not (has .Values.environment (list "production" "development")) -}}
{{- fail (printf "environment %q: use production or development" .Values.environment) -}}
{{- end -}}
{{- if and (eq .Values.environment "production") (not .Values.secrets.keystoreMasterKey.name) -}}
{{- fail "secrets.keystoreMasterKey.name is required when environment is production: the Secret holding the master key that wraps the per-customer keys (base64 of 32 bytes)" -}}
{{- end -}}
{{- end -}}

{{/* The KEDA Kafka scaler's spelling of the SASL mechanism. */}}
{{- define "casetrail.kedaSasl" -}}
{{- if .Values.keda.saslMechanism -}}
{{- .Values.keda.saslMechanism -}}
{{- else -}}
{{- $m := upper .Values.kafka.sasl.mechanism -}}
{{- if eq $m "SCRAM-SHA-512" -}}scram_sha512{{- else if eq $m "SCRAM-SHA-256" -}}scram_sha256{{- else if eq $m "PLAIN" -}}plaintext{{- else -}}
{{- fail (printf "keda: cannot map kafka.sasl.mechanism %q to the KEDA Kafka scaler; set keda.saslMechanism" .Values.kafka.sasl.mechanism) -}}
{{- end -}}
{{- end -}}
{{- end -}}
