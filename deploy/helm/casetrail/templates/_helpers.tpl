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
{{- if not .Values.strimzi.users.enabled -}}
{{- $_ := required "kafka.sasl.username is required with a SASL security protocol" .Values.kafka.sasl.username -}}
{{- $_ := required "kafka.sasl.passwordSecret.name is required with a SASL security protocol" .Values.kafka.sasl.passwordSecret.name -}}
{{- end -}}
{{- end -}}
{{- if .Values.strimzi.users.enabled -}}
{{- if not .Values.strimzi.enabled -}}
{{- fail "strimzi.users.enabled needs strimzi.enabled (the users' ACLs name the topics Strimzi owns; without Create, the services cannot make them)" -}}
{{- end -}}
{{- $auth := include "casetrail.userAuthentication" . -}}
{{- if and (eq $auth "scram-sha-512") (ne (upper .Values.kafka.sasl.mechanism) "SCRAM-SHA-512") -}}
{{- fail (printf "strimzi.users.authentication scram-sha-512: set kafka.sasl.mechanism to SCRAM-SHA-512 (is %q) with a SASL security protocol" .Values.kafka.sasl.mechanism) -}}
{{- end -}}
{{- if and (eq $auth "tls") (ne (upper .Values.kafka.securityProtocol) "SSL") -}}
{{- fail (printf "strimzi.users.authentication tls: set kafka.securityProtocol to SSL (is %q)" .Values.kafka.securityProtocol) -}}
{{- end -}}
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
{{- if and (eq .Values.environment "production") (not .Values.secrets.keystoreUrl.name) -}}
{{- fail "secrets.keystoreUrl.name is required when environment is production: the Secret holding the URL of the key store every pod shares (postgresql+psycopg://...); per-pod key files would keep an erasure from reaching other pods' keys" -}}
{{- end -}}
{{- include "casetrail.validatePartitions" . -}}
{{- include "casetrail.validateReplicas" . -}}
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

{{/* Topic name (without prefix) -> partition count: files/topics.yaml (from casetrail/topics.py),
     overridden by strimzi.partitions. The replica caps and the KafkaTopics both follow it. */}}
{{- define "casetrail.partitionCounts" -}}
{{- $counts := dict -}}
{{- range (.Files.Get "files/topics.yaml" | fromYaml).topics -}}
{{- $_ := set $counts .name (int (index $.Values.strimzi.partitions .name | default .partitions)) -}}
{{- end -}}
{{- toYaml $counts -}}
{{- end -}}

{{/* A component's Kafka access (files/kafka-access.yaml, generated from casetrail/topics.py); {} if none. */}}
{{- define "casetrail.access" -}}
{{- toYaml (index (.root.Files.Get "files/kafka-access.yaml" | fromYaml).components .name | default dict) -}}
{{- end -}}

{{/* The most partitions any input topic of a component has: a replica beyond it owns no partition. 0: no inputs. */}}
{{- define "casetrail.partitionCap" -}}
{{- $counts := include "casetrail.partitionCounts" .root | fromYaml -}}
{{- $access := include "casetrail.access" . | fromYaml -}}
{{- $cap := 0 -}}
{{- range $access.inputs -}}
{{- $n := int (index $counts .) -}}
{{- if gt $n $cap }}{{ $cap = $n }}{{ end -}}
{{- end -}}
{{- $cap -}}
{{- end -}}

{{/* "topic (N partitions), ..." of a component's inputs, for messages. */}}
{{- define "casetrail.inputsDescribed" -}}
{{- $counts := include "casetrail.partitionCounts" .root | fromYaml -}}
{{- $access := include "casetrail.access" . | fromYaml -}}
{{- $parts := list -}}
{{- range $access.inputs -}}
{{- $parts = append $parts (printf "%s: %d" . (int (index $counts .))) -}}
{{- end -}}
{{- join ", " $parts -}}
{{- end -}}

{{/* Replicas follow the partition counts: fail when values ask a consumer for more pods than
     its input topics have partitions (they would sit idle, and KEDA would never reach them). */}}
{{- define "casetrail.validateReplicas" -}}
{{- range $name, $values := .Values.components -}}
{{- $c := include "casetrail.component" (dict "root" $ "values" $values) | fromYaml -}}
{{- if and $c.enabled $c.consumerGroup -}}
{{- $ref := dict "root" $ "name" $name -}}
{{- $cap := int (include "casetrail.partitionCap" $ref) -}}
{{- $access := include "casetrail.access" $ref | fromYaml -}}
{{- if eq $cap 0 -}}
{{- fail (printf "components.%s: consumer group %q but no input topic known for %s in files/kafka-access.yaml" $name $c.consumerGroup $name) -}}
{{- end -}}
{{- $why := printf "its input topics have at most %d partitions (%s); a pod beyond that owns no partition. Raise strimzi.partitions for the topic first" $cap (include "casetrail.inputsDescribed" $ref) -}}
{{- if $c.keda.enabled -}}
{{- if gt (int $c.keda.maxReplicas) $cap -}}
{{- fail (printf "components.%s.keda.maxReplicas %d: %s" $name (int $c.keda.maxReplicas) $why) -}}
{{- end -}}
{{- if gt (int $c.keda.minReplicas) (int (default $cap $c.keda.maxReplicas)) -}}
{{- fail (printf "components.%s.keda.minReplicas %d is above its maxReplicas %d" $name (int $c.keda.minReplicas) (int (default $cap $c.keda.maxReplicas))) -}}
{{- end -}}
{{- range $topic, $_ := $c.keda.lagThresholds -}}
{{- if not (has $topic $access.inputs) -}}
{{- fail (printf "components.%s.keda.lagThresholds.%s: not an input topic of %s (%s)" $name $topic $name (join ", " $access.inputs)) -}}
{{- end -}}
{{- end -}}
{{- else if gt (int $c.replicas) $cap -}}
{{- fail (printf "components.%s.replicas %d: %s" $name (int $c.replicas) $why) -}}
{{- end -}}
{{- end -}}
{{- end -}}
{{- end -}}

{{/* strimzi.partitions may raise the partitions of a stateless component's input only: a component
     with tables writes each key to the changelog partition of the input record (co-partitioned) and
     places other keys by the counts of casetrail/topics.py, so its inputs and changelogs keep those. */}}
{{- define "casetrail.validatePartitions" -}}
{{- $topics := dict -}}
{{- range (.Files.Get "files/topics.yaml" | fromYaml).topics -}}
{{- $_ := set $topics .name (int .partitions) -}}
{{- end -}}
{{- $pinned := dict -}}
{{- range $name, $access := (.Files.Get "files/kafka-access.yaml" | fromYaml).components -}}
{{- if $access.internal -}}
{{- range (concat $access.inputs $access.internal) -}}
{{- $_ := set $pinned . $name -}}
{{- end -}}
{{- end -}}
{{- end -}}
{{- range $topic, $count := .Values.strimzi.partitions -}}
{{- if not (hasKey $topics $topic) -}}
{{- fail (printf "strimzi.partitions.%s: no such topic in casetrail/topics.py (files/topics.yaml); names are without topics.prefix" $topic) -}}
{{- end -}}
{{- if and (hasKey $pinned $topic) (ne (int $count) (int (index $topics $topic))) -}}
{{- fail (printf "strimzi.partitions.%s %d: %s keeps tables co-partitioned with this topic, by the %d partitions of casetrail/topics.py; change the count there (and regenerate), not in values" $topic (int $count) (index $pinned $topic) (int (index $topics $topic))) -}}
{{- end -}}
{{- end -}}
{{- end -}}

{{/* Strimzi KafkaUser authentication type: strimzi.users.authentication, or from kafka.securityProtocol. */}}
{{- define "casetrail.userAuthentication" -}}
{{- if .Values.strimzi.users.authentication -}}
{{- .Values.strimzi.users.authentication -}}
{{- else if include "casetrail.kafkaUsesSASL" . -}}scram-sha-512
{{- else if include "casetrail.kafkaUsesTLS" . -}}tls
{{- else -}}
{{- fail "strimzi.users.enabled: kafka.securityProtocol PLAINTEXT has no authentication to give each component its own user; use SASL_SSL (SCRAM-SHA-512) or SSL (mutual TLS)" -}}
{{- end -}}
{{- end -}}

{{/* True when the component runs as its own Strimzi KafkaUser (strimzi.users.enabled, Kafka egress, known access). */}}
{{- define "casetrail.hasKafkaUser" -}}
{{- if and .root.Values.strimzi.users.enabled .c.enabled .c.egress.kafka (or (include "casetrail.access" . | fromYaml) (include "casetrail.jobAccess" . | fromYaml)) -}}true{{- end -}}
{{- end -}}

{{/* The Kafka credentials a component's pods use: its own KafkaUser's Secret (the User Operator writes
     `password` for SCRAM, `user.crt`/`user.key` for TLS, in a Secret named like the user), or the
     shared kafka.sasl / kafka.tls values. Takes dict root name c. */}}
{{- define "casetrail.kafkaCredentials" -}}
{{- $v := .root.Values -}}
{{- if include "casetrail.hasKafkaUser" . -}}
{{- $user := include "casetrail.componentFullname" . -}}
{{- $tlsAuth := eq (include "casetrail.userAuthentication" .root) "tls" -}}
{{- toYaml (dict
    "username" (ternary "" $user $tlsAuth)
    "passwordSecret" (dict "name" (ternary "" $user $tlsAuth) "key" "password")
    "clientCertSecret" (dict "name" (ternary $user "" $tlsAuth) "certKey" "user.crt" "keyKey" "user.key")
    "triggerAuthentication" (printf "%s-kafka" $user)) -}}
{{- else -}}
{{- toYaml (dict "username" $v.kafka.sasl.username "passwordSecret" $v.kafka.sasl.passwordSecret
    "clientCertSecret" $v.kafka.tls.clientCertSecret
    "triggerAuthentication" (printf "%s-kafka" (include "casetrail.fullname" .root))) -}}
{{- end -}}
{{- end -}}

{{/* A KEDA TriggerAuthentication: the Kafka scaler's credentials, the same Secrets as the pods it
     scales (the shared kafka.* ones, or a component's own KafkaUser). Takes dict root name auth. */}}
{{- define "casetrail.kedaTriggerAuthentication" -}}
{{- $v := .root.Values -}}
{{- $sasl := include "casetrail.kafkaUsesSASL" .root -}}
{{- $tls := include "casetrail.kafkaUsesTLS" .root }}
---
apiVersion: keda.sh/v1alpha1
kind: TriggerAuthentication
metadata:
  name: {{ .name }}
  labels:
    {{- include "casetrail.labels" .root | nindent 4 }}
spec:
  secretTargetRef:
    {{- if and $sasl .auth.passwordSecret.name }}
    - parameter: password
      name: {{ .auth.passwordSecret.name }}
      key: {{ .auth.passwordSecret.key }}
    {{- end }}
    {{- if and $tls $v.kafka.tls.caSecret.name }}
    - parameter: ca
      name: {{ $v.kafka.tls.caSecret.name }}
      key: {{ $v.kafka.tls.caSecret.key }}
    {{- end }}
    {{- if and $tls .auth.clientCertSecret.name }}
    - parameter: cert
      name: {{ .auth.clientCertSecret.name }}
      key: {{ .auth.clientCertSecret.certKey }}
    - parameter: key
      name: {{ .auth.clientCertSecret.name }}
      key: {{ .auth.clientCertSecret.keyKey }}
    {{- end }}
  {{- if $sasl }}
  # The user name is not secret: KEDA reads it from the scaled container's environment.
  env:
    - parameter: username
      name: KAFKA_SASL_USERNAME
  {{- end }}
{{- end -}}

{{/* A hook job's Kafka access (files/kafka-access.yaml, jobs); {} if none. Takes dict root name. */}}
{{- define "casetrail.jobAccess" -}}
{{- toYaml (index (.root.Files.Get "files/kafka-access.yaml" | fromYaml).jobs .name | default dict) -}}
{{- end -}}

{{/* A Strimzi KafkaUser with least-privilege ACLs from files/kafka-access.yaml (generated from
     casetrail/topics.py): Read on what it consumes (and its tables' changelogs on restore), Write on
     what it produces (its outputs, the dead-letter topic, its repartition and changelog topics), its
     consumer groups, and its transactional ids. Nothing else: no Create, no other topic.
     Takes dict root name (component or hook job key) full (the user's name) access. */}}
{{- define "casetrail.kafkaUser" -}}
{{- $access := .access -}}
{{- $prefix := default "" .root.Values.topics.prefix }}
---
# {{ .name }}'s own Kafka user
apiVersion: {{ .root.Values.strimzi.apiVersion }}
kind: KafkaUser
metadata:
  name: {{ .full }}
  {{- with .root.Values.strimzi.namespace }}
  namespace: {{ . }}
  {{- end }}
  labels:
    {{- include "casetrail.labels" .root | nindent 4 }}
    app.kubernetes.io/component: {{ include "casetrail.componentName" .name }}
    strimzi.io/cluster: {{ .root.Values.strimzi.clusterName }}
spec:
  authentication:
    type: {{ include "casetrail.userAuthentication" .root }}
  authorization:
    type: simple
    acls:
      {{- range $topic := uniq (concat $access.reads $access.writes) }}
      {{- $operations := list "Describe" }}
      {{- if has $topic $access.reads }}{{ $operations = append $operations "Read" }}{{ end }}
      {{- if has $topic $access.writes }}{{ $operations = append $operations "Write" }}{{ end }}
      - resource: {type: topic, name: {{ printf "%s%s" $prefix $topic | quote }}, patternType: literal}
        operations: {{ toJson $operations }}
        host: "*"
      {{- end }}
      {{- range $access.groups }}
      - resource: {type: group, name: {{ printf "%s%s" $prefix . | quote }}, patternType: literal}
        operations: ["Read"]
        host: "*"
      {{- end }}
      {{- with $access.transactionalIdPrefix }}
      # transactional.id = <app id>-<pod name> (casetrail/runtime/service.py)
      - resource: {type: transactionalId, name: {{ printf "%s%s" $prefix . | quote }}, patternType: prefix}
        operations: ["Describe", "Write"]
        host: "*"
      {{- end }}
      {{- if $access.writes }}
      - resource: {type: cluster}
        operations: ["IdempotentWrite"]
        host: "*"
      {{- end }}
{{- end -}}


{{/* The Kafka client settings of a pod: bootstrap, protocol, SASL user and password Secret, TLS CA and client
     certificate paths. Takes dict root auth (casetrail.kafkaCredentials); with kafkaMounts and kafkaVolumes. */}}
{{- define "casetrail.kafkaEnv" -}}
- name: KAFKA_BOOTSTRAP_SERVERS
  value: {{ .root.Values.kafka.bootstrapServers | quote }}
- name: KAFKA_SECURITY_PROTOCOL
  value: {{ upper .root.Values.kafka.securityProtocol | quote }}
- name: KAFKA_CLIENT_ID_PREFIX
  value: {{ .root.Values.kafka.clientIdPrefix | quote }}
{{- if include "casetrail.kafkaUsesSASL" .root }}
- name: KAFKA_SASL_MECHANISM
  value: {{ .root.Values.kafka.sasl.mechanism | quote }}
- name: KAFKA_SASL_USERNAME
  value: {{ .auth.username | quote }}
- name: KAFKA_SASL_PASSWORD
  valueFrom:
    secretKeyRef:
      name: {{ .auth.passwordSecret.name }}
      key: {{ .auth.passwordSecret.key }}
{{- end }}
{{- if and (include "casetrail.kafkaUsesTLS" .root) .root.Values.kafka.tls.caSecret.name }}
- name: KAFKA_SSL_CA_LOCATION
  value: /etc/casetrail/kafka-ca/{{ .root.Values.kafka.tls.caSecret.key }}
{{- end }}
{{- if and (include "casetrail.kafkaUsesTLS" .root) .auth.clientCertSecret.name }}
- name: KAFKA_SSL_CERTIFICATE_LOCATION
  value: /etc/casetrail/kafka-client/{{ .auth.clientCertSecret.certKey }}
- name: KAFKA_SSL_KEY_LOCATION
  value: /etc/casetrail/kafka-client/{{ .auth.clientCertSecret.keyKey }}
{{- end }}
{{- end -}}

{{- define "casetrail.kafkaMounts" -}}
{{- if and (include "casetrail.kafkaUsesTLS" .root) .root.Values.kafka.tls.caSecret.name }}
- name: kafka-ca
  mountPath: /etc/casetrail/kafka-ca
  readOnly: true
{{- end }}
{{- if and (include "casetrail.kafkaUsesTLS" .root) .auth.clientCertSecret.name }}
- name: kafka-client
  mountPath: /etc/casetrail/kafka-client
  readOnly: true
{{- end }}
{{- end -}}

{{- define "casetrail.kafkaVolumes" -}}
{{- if and (include "casetrail.kafkaUsesTLS" .root) .root.Values.kafka.tls.caSecret.name }}
- name: kafka-ca
  secret:
    secretName: {{ .root.Values.kafka.tls.caSecret.name }}
    items:
      - key: {{ .root.Values.kafka.tls.caSecret.key }}
        path: {{ .root.Values.kafka.tls.caSecret.key }}
{{- end }}
{{- if and (include "casetrail.kafkaUsesTLS" .root) .auth.clientCertSecret.name }}
- name: kafka-client
  secret:
    secretName: {{ .auth.clientCertSecret.name }}
    defaultMode: 0440
    items:
      - key: {{ .auth.clientCertSecret.certKey }}
        path: {{ .auth.clientCertSecret.certKey }}
      - key: {{ .auth.clientCertSecret.keyKey }}
        path: {{ .auth.clientCertSecret.keyKey }}
{{- end }}
{{- end -}}
