# The prod environment: sizes below, shape in modules/platform, the chart via modules/release.

locals {
  name = "qsr-prod"
  tags = merge(var.tags, { environment = "prod", "app.kubernetes.io/part-of" = "qsr-platform", managed-by = "terraform" })
}

module "platform" {
  source                  = "../../modules/platform"
  name                    = local.name
  namespace               = var.namespace
  vpc_cidr_block          = "10.30.0.0/16"
  single_nat_gateway      = false
  kubernetes_version      = "1.34"
  eks_public_access_cidrs = var.eks_public_access_cidrs
  node_groups = {
    general = { instance_types = ["m7i.xlarge"], min_size = 3, max_size = 12 }
  }
  msk_broker_instance_type = "kafka.m7g.large"
  msk_broker_volume_gib    = 500
  aurora_instance_class    = "db.r7g.large"
  aurora_instance_count    = 2
  cache_node_type          = "cache.r7g.large"
  cache_node_count         = 2
  deletion_protection      = true
  tags                     = local.tags
}

module "release" {
  source           = "../../modules/release"
  namespace        = var.namespace
  chart_path       = "${path.root}/../../../charts/qsr-platform"
  image_repository = module.platform.image_repository
  image_tag        = var.image_tag
  kafka_bootstrap  = module.platform.kafka_bootstrap
  vpc_cidr_block   = module.platform.vpc_cidr_block
  irsa_role_arns   = module.platform.irsa_role_arns
  otel_endpoint    = var.otel_endpoint
}
