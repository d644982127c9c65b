# The qsr-platform chart on the cluster: a namespace that enforces Pod Security "restricted", and
# the Helm release wired to what the other modules created (image, MSK, Aurora, cache, IRSA roles).

resource "kubernetes_namespace_v1" "platform" {
  metadata {
    name = var.namespace
    labels = {
      "pod-security.kubernetes.io/enforce"         = "restricted"
      "pod-security.kubernetes.io/enforce-version" = "latest"
      "pod-security.kubernetes.io/audit"           = "restricted"
      "pod-security.kubernetes.io/warn"            = "restricted"
      "app.kubernetes.io/part-of"                  = "qsr-platform"
    }
  }
}

resource "helm_release" "platform" {
  name             = "qsr-platform"
  namespace        = kubernetes_namespace_v1.platform.metadata[0].name
  chart            = var.chart_path
  create_namespace = false
  atomic           = true
  cleanup_on_fail  = true
  wait             = true
  timeout          = 600
  max_history      = 10

  values = [yamlencode({
    image = {
      repository = var.image_repository
      tag        = var.image_tag
    }
    kafka = {
      bootstrap = var.kafka_bootstrap
    }
    postgres = {
      existingSecret = var.postgres_secret_name
    }
    redis = {
      existingSecret = var.redis_secret_name
    }
    networkPolicy = {
      apiServerCIDRs = [var.vpc_cidr_block]
      dataStoreCIDRs = [var.vpc_cidr_block]
    }
    irsa = var.irsa_role_arns
    otel = {
      endpoint = var.otel_endpoint
    }
  })]
}
