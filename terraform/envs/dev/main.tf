# The dev environment: sizes below, shape in modules/platform, the chart via modules/release.

locals {
  name = "qsr-dev"
  tags = merge(var.tags, { environment = "dev", "app.kubernetes.io/part-of" = "qsr-platform", managed-by = "terraform" })
}

module "platform" {
  source                  = "../../modules/platform"
  name                    = local.name
  namespace               = var.namespace
  vpc_cidr_block          = "10.20.0.0/16"
  single_nat_gateway      = true
  kubernetes_version      = "1.34"
  eks_public_access_cidrs = var.eks_public_access_cidrs
  node_groups = {
    general = { instance_types = ["m7i.large"], min_size = 2, max_size = 4 }
  }
  msk_broker_instance_type = "kafka.t3.small"
  msk_broker_volume_gib    = 50
  aurora_instance_class    = "db.t4g.medium"
  aurora_instance_count    = 1
  cache_node_type          = "cache.t4g.small"
  cache_node_count         = 2
  deletion_protection      = false
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
